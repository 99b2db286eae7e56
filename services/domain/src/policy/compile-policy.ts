import { compileCelRule, CelRuleError, type CelRule } from './cel-rule';
import {
  COUNT_SOURCES,
  DERIVED_VARIABLES,
  DISTINCT_SOURCES,
  LAST_SOURCES,
  SUM_SOURCES,
  LIFECYCLE,
  NO_HYSTERESIS,
  DEFAULT_CLOCK,
  type ClockDef,
  type DimensionDef,
  type Hysteresis,
  type LifecycleDef,
  type MetricDef,
  type Policy,
  type RfmAxis,
  type ScoringDef,
  type WindowDays,
} from './policy-model';

export interface PolicyProblem {
  readonly path: string;
  readonly reason: string;
}

/** Every problem of a policy file, each as "file: path: reason". */
export class PolicyError extends Error {
  constructor(
    readonly file: string,
    readonly problems: readonly PolicyProblem[],
  ) {
    super(problems.map((p) => `${file}: ${p.path}: ${p.reason}`).join('\n'));
    this.name = 'PolicyError';
  }
}

type Raw = Record<string, unknown>;
const isObject = (v: unknown): v is Raw => typeof v === 'object' && v !== null && !Array.isArray(v);
const NAME = /^[a-z][a-z0-9_]*$/;

/** Checks a parsed policy document and compiles its rules; throws PolicyError listing every problem. */
export function compilePolicy(doc: unknown, file: string): Policy {
  const problems: PolicyProblem[] = [];
  const fail = (path: string, reason: string): undefined => {
    problems.push({ path, reason });
    return undefined;
  };
  if (!isObject(doc)) throw new PolicyError(file, [{ path: '(root)', reason: 'must be a mapping' }]);

  const str = (v: unknown, path: string): string | undefined => (typeof v === 'string' && v.trim() !== '' ? v : fail(path, 'must be a non-empty string'));
  const num = (v: unknown, path: string): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : fail(path, `must be a number, got ${JSON.stringify(v)}`));
  const known = (obj: Raw, path: string, keys: readonly string[]) => {
    for (const k of Object.keys(obj)) if (!keys.includes(k)) fail(`${path}.${k}`, `unknown field (known: ${keys.join(', ')})`);
  };
  known(doc, '(root)', ['id', 'version', 'currency', 'fx_rates', 'metrics', 'scoring', 'dimensions', 'lifecycle', 'clock', 'carry_attributes', 'description']);

  const id = str(doc['id'], 'id') ?? '';
  const version = typeof doc['version'] === 'number' ? String(doc['version']) : (str(doc['version'], 'version') ?? '');
  const currency = str(doc['currency'], 'currency') ?? '';
  if (currency && !/^[A-Z]{3}$/.test(currency)) fail('currency', `must be an ISO-4217 code such as CNY, got '${currency}'`);
  const fxRates: Record<string, number> = {};
  if (doc['fx_rates'] !== undefined) {
    if (!isObject(doc['fx_rates'])) fail('fx_rates', 'must be a mapping of currency to rate');
    else
      for (const [code, rate] of Object.entries(doc['fx_rates'])) {
        if (!/^[A-Z]{3}$/.test(code)) fail(`fx_rates.${code}`, 'must be an ISO-4217 code');
        const r = num(rate, `fx_rates.${code}`);
        if (r !== undefined && r <= 0) fail(`fx_rates.${code}`, 'must be positive');
        else if (r !== undefined) fxRates[code] = r;
      }
  }

  const metrics = compileMetrics(doc['metrics'], fail, known);
  // Every declared name, valid or not: a broken metric is reported once, where it is defined.
  const metricNames = new Set(isObject(doc['metrics']) ? Object.keys(doc['metrics']) : []);
  for (const m of metrics) {
    if (m.kind === 'ratio') {
      if (!metricNames.has(m.numerator)) fail(`metrics.${m.name}.ratio[0]`, `unknown metric '${m.numerator}'`);
      if (!metricNames.has(m.denominator)) fail(`metrics.${m.name}.ratio[1]`, `unknown metric '${m.denominator}'`);
    }
  }

  const rule = (source: unknown, path: string, variables: ReadonlySet<string>): CelRule | undefined => {
    if (typeof source === 'boolean') source = String(source);
    if (typeof source !== 'string' || source.trim() === '') return fail(path, 'must be a CEL expression');
    try {
      const compiled = compileCelRule(source);
      const unknown = compiled.identifiers.filter((ident) => !variables.has(ident));
      for (const ident of unknown) fail(path, `unknown metric '${ident}'`);
      if (unknown.length > 0) return undefined;
      // CEL's types are checked when it runs: run it once on sample values so a rule that
      // is not a condition, or mixes int and double arithmetic, fails here, not per event.
      compiled.evaluate(Object.fromEntries([...variables].map((v) => [v, 1.5])));
      return compiled;
    } catch (err) {
      if (err instanceof CelRuleError) return fail(path, err.message);
      throw err;
    }
  };

  const scoring = compileScoring(doc['scoring'], metricNames, fail, known, num, rule);
  const variables = new Set([...metricNames, ...DERIVED_VARIABLES]);
  const dimensions = compileDimensions(doc['dimensions'], variables, fail, known, rule);
  const lifecycle = doc['lifecycle'] === undefined ? undefined : compileLifecycle(doc['lifecycle'], fail, known);
  if (doc['lifecycle'] !== undefined && isObject(doc['dimensions']) && LIFECYCLE in doc['dimensions']) {
    fail(`dimensions.${LIFECYCLE}`, `the name '${LIFECYCLE}' belongs to the lifecycle block's dimension; rename this dimension`);
  }

  const carryAttributes: string[] = [];
  if (doc['carry_attributes'] !== undefined) {
    if (!Array.isArray(doc['carry_attributes'])) fail('carry_attributes', 'must be a list of attribute names');
    else doc['carry_attributes'].forEach((a, i) => (typeof a === 'string' && a !== '' ? carryAttributes.push(a) : fail(`carry_attributes[${i}]`, 'must be a name')));
  }

  const clock = compileClock(doc['clock'], fail, known);
  if (problems.length > 0) throw new PolicyError(file, problems);
  const windows = metrics.map((m) => ('window' in m && m.window !== null ? m.window : 0));
  return { id, version, currency, fxRates, metrics, scoring, dimensions, lifecycle, clock, carryAttributes, maxWindowDays: Math.max(1, ...windows) };
}

type Fail = (path: string, reason: string) => undefined;
type Known = (obj: Raw, path: string, keys: readonly string[]) => void;

function parseWindow(v: unknown, path: string, fail: Fail): WindowDays | undefined {
  if (v === 'lifetime') return null;
  if (typeof v === 'string') {
    const m = /^(\d+)d$/.exec(v);
    if (m?.[1] && Number(m[1]) >= 1 && Number(m[1]) <= 3660) return Number(m[1]);
  }
  return fail(path, `must be '<days>d' (1d to 3660d) or 'lifetime', got ${JSON.stringify(v)}`);
}

function oneOf<T extends string>(v: unknown, allowed: readonly T[], path: string, fail: Fail): T | undefined {
  return typeof v === 'string' && (allowed as readonly string[]).includes(v) ? (v as T) : fail(path, `must be one of ${allowed.join(', ')}, got ${JSON.stringify(v)}`);
}

const KINDS = ['sum', 'count', 'max', 'distinct', 'last', 'recency', 'ratio'] as const;

function compileMetrics(raw: unknown, fail: Fail, known: Known): MetricDef[] {
  if (!isObject(raw) || Object.keys(raw).length === 0) {
    fail('metrics', 'must be a non-empty mapping of metric name to definition');
    return [];
  }
  const out: MetricDef[] = [];
  for (const [name, def] of Object.entries(raw)) {
    const path = `metrics.${name}`;
    if (!NAME.test(name)) fail(path, 'a metric name is lower_snake_case');
    if ((DERIVED_VARIABLES as readonly string[]).includes(name)) fail(path, `'${name}' is reserved`);
    if (!isObject(def)) {
      fail(path, `must be a mapping with one of ${KINDS.join(', ')}`);
      continue;
    }
    const kinds = KINDS.filter((k) => k in def);
    if (kinds.length !== 1) {
      fail(path, `must name exactly one of ${KINDS.join(', ')}`);
      continue;
    }
    const kind = kinds[0] as (typeof KINDS)[number];
    known(def, path, kind === 'last' || kind === 'recency' || kind === 'ratio' ? [kind, 'doc'] : [kind, 'window', 'doc']);
    const window = () => parseWindow(def['window'] ?? 'lifetime', `${path}.window`, fail);
    switch (kind) {
      case 'sum':
      case 'max': {
        const source = oneOf(def[kind], SUM_SOURCES, `${path}.${kind}`, fail);
        const w = window();
        if (source && w !== undefined) out.push({ name, kind, source, window: w });
        break;
      }
      case 'count': {
        const source = oneOf(def[kind], COUNT_SOURCES, `${path}.count`, fail);
        const w = window();
        if (source && w !== undefined) out.push({ name, kind, source, window: w });
        break;
      }
      case 'distinct': {
        const source = oneOf(def[kind], DISTINCT_SOURCES, `${path}.distinct`, fail);
        const w = window();
        if (source && w !== undefined) out.push({ name, kind, source, window: w });
        break;
      }
      case 'last': {
        const source = oneOf(def[kind], LAST_SOURCES, `${path}.last`, fail);
        if (source) out.push({ name, kind, source });
        break;
      }
      case 'recency': {
        const source = oneOf(def[kind], COUNT_SOURCES, `${path}.recency`, fail);
        if (source) out.push({ name, kind, source });
        break;
      }
      case 'ratio': {
        const pair = def['ratio'];
        if (!Array.isArray(pair) || pair.length !== 2 || typeof pair[0] !== 'string' || typeof pair[1] !== 'string') {
          fail(`${path}.ratio`, 'must be [numerator metric, denominator metric]');
        } else out.push({ name, kind, numerator: pair[0], denominator: pair[1] });
        break;
      }
    }
  }
  return out;
}

function compileScoring(
  raw: unknown,
  metricNames: ReadonlySet<string>,
  fail: Fail,
  known: Known,
  num: (v: unknown, path: string) => number | undefined,
  rule: (source: unknown, path: string, variables: ReadonlySet<string>) => CelRule | undefined,
): ScoringDef {
  if (raw === undefined) return { rfm: undefined, weights: {}, points: [] };
  if (!isObject(raw)) {
    fail('scoring', 'must be a mapping');
    return { rfm: undefined, weights: {}, points: [] };
  }
  known(raw, 'scoring', ['rfm', 'weights', 'points']);
  let rfm: ScoringDef['rfm'];
  if (raw['rfm'] !== undefined) {
    const r = raw['rfm'];
    if (!isObject(r)) fail('scoring.rfm', 'must have recency, frequency and monetary');
    else {
      known(r, 'scoring.rfm', ['recency', 'frequency', 'monetary']);
      const axis = (key: string, defaultLowerIsBetter: boolean): RfmAxis | undefined => {
        const a = r[key];
        const path = `scoring.rfm.${key}`;
        if (!isObject(a)) return fail(path, 'must be a mapping with metric and cuts');
        known(a, path, ['metric', 'cuts', 'lower_is_better']);
        const metric = typeof a['metric'] === 'string' ? a['metric'] : undefined;
        if (!metric) return fail(`${path}.metric`, 'must name a metric');
        if (!metricNames.has(metric)) fail(`${path}.metric`, `unknown metric '${metric}'`);
        const cuts = a['cuts'];
        if (!Array.isArray(cuts) || cuts.length !== 4 || !cuts.every((c) => typeof c === 'number')) return fail(`${path}.cuts`, 'must be four numbers');
        const sorted = [...(cuts as number[])].sort((x, y) => x - y);
        if (sorted.some((c, i) => c !== cuts[i])) return fail(`${path}.cuts`, 'must be ascending');
        return { metric, cuts: cuts as [number, number, number, number], lowerIsBetter: typeof a['lower_is_better'] === 'boolean' ? a['lower_is_better'] : defaultLowerIsBetter };
      };
      const recency = axis('recency', true);
      const frequency = axis('frequency', false);
      const monetary = axis('monetary', false);
      if (recency && frequency && monetary) rfm = { recency, frequency, monetary };
    }
  }
  const variables = new Set([...metricNames, 'rfm_r', 'rfm_f', 'rfm_m']);
  const weights: Record<string, number> = {};
  if (raw['weights'] !== undefined) {
    if (!isObject(raw['weights'])) fail('scoring.weights', 'must be a mapping of variable to weight');
    else
      for (const [name, w] of Object.entries(raw['weights'])) {
        if (!variables.has(name)) fail(`scoring.weights.${name}`, `unknown metric '${name}'`);
        const value = num(w, `scoring.weights.${name}`);
        if (value !== undefined) weights[name] = value;
      }
  }
  const points: ScoringDef['points'][number][] = [];
  if (raw['points'] !== undefined) {
    if (!Array.isArray(raw['points'])) fail('scoring.points', 'must be a list of {when, points}');
    else
      raw['points'].forEach((p: unknown, i) => {
        const path = `scoring.points[${i}]`;
        if (!isObject(p)) return void fail(path, 'must be a mapping with when and points');
        known(p, path, ['when', 'points']);
        const when = rule(p['when'], `${path}.when`, variables);
        const value = num(p['points'], `${path}.points`);
        if (when && value !== undefined) points.push({ when, points: value });
      });
  }
  return { rfm, weights, points };
}

function compileDimensions(
  raw: unknown,
  variables: ReadonlySet<string>,
  fail: Fail,
  known: Known,
  rule: (source: unknown, path: string, variables: ReadonlySet<string>) => CelRule | undefined,
): DimensionDef[] {
  if (!isObject(raw) || Object.keys(raw).length === 0) {
    fail('dimensions', 'must be a non-empty mapping of dimension name to tiers');
    return [];
  }
  const out: DimensionDef[] = [];
  for (const [name, def] of Object.entries(raw)) {
    const path = `dimensions.${name}`;
    if (!NAME.test(name)) fail(path, 'a dimension name is lower_snake_case');
    if (!isObject(def)) {
      fail(path, 'must be a mapping with tiers');
      continue;
    }
    known(def, path, ['tiers', 'ordered', 'hysteresis', 'doc']);
    const hysteresis = def['hysteresis'] === undefined ? NO_HYSTERESIS : compileHysteresis(def['hysteresis'], `${path}.hysteresis`, fail, known);
    const tiers = def['tiers'];
    if (!Array.isArray(tiers) || tiers.length < 2) {
      fail(`${path}.tiers`, 'must list at least two tiers, best first');
      continue;
    }
    const seen = new Set<string>();
    const compiled: DimensionDef['tiers'][number][] = [];
    tiers.forEach((t: unknown, i) => {
      const tpath = `${path}.tiers[${i}]`;
      if (!isObject(t)) return void fail(tpath, 'must be a mapping with name and when');
      known(t, tpath, ['name', 'when', 'keep_when', 'doc']);
      const tierName = t['name'];
      if (typeof tierName !== 'string' || !/^[a-z][a-z0-9_-]*$/.test(tierName)) return void fail(`${tpath}.name`, 'must be a lower-case tier name');
      if (seen.has(tierName)) fail(`${tpath}.name`, `tier '${tierName}' is listed twice`);
      seen.add(tierName);
      const when = rule(t['when'], `${tpath}.when`, variables);
      let keepWhen: CelRule | undefined;
      if (t['keep_when'] !== undefined) {
        if (i === tiers.length - 1) fail(`${tpath}.keep_when`, 'the fallback tier is never lost, a keep_when on it has no effect');
        else keepWhen = rule(t['keep_when'], `${tpath}.keep_when`, variables);
      }
      if (when) compiled.push({ name: tierName, when, keepWhen, ruleId: `${name}.${tierName}` });
    });
    const last = tiers[tiers.length - 1];
    if (isObject(last) && String(last['when']).trim() !== 'true') fail(`${path}.tiers[${tiers.length - 1}].when`, "the last tier must be the fallback: when: 'true'");
    out.push({ name, tiers: compiled, ordered: def['ordered'] !== false, hysteresis });
  }
  return out;
}

/** A whole number of days from `min` to 3660. */
function days(v: unknown, path: string, min: number, fail: Fail): number | undefined {
  if (typeof v === 'number' && Number.isInteger(v) && v >= min && v <= 3660) return v;
  if (v === undefined) return fail(path, `is required: a whole number of days from ${min} to 3660`);
  return fail(path, `must be a whole number of days from ${min} to 3660, got ${JSON.stringify(v)}`);
}

function compileHysteresis(raw: unknown, path: string, fail: Fail, known: Known): Hysteresis {
  if (!isObject(raw)) {
    fail(path, 'must be a mapping with grace_days and/or min_days_between_changes');
    return NO_HYSTERESIS;
  }
  known(raw, path, ['grace_days', 'min_days_between_changes']);
  const graceDays = raw['grace_days'] === undefined ? 0 : days(raw['grace_days'], `${path}.grace_days`, 0, fail);
  const minDays = raw['min_days_between_changes'] === undefined ? 0 : days(raw['min_days_between_changes'], `${path}.min_days_between_changes`, 0, fail);
  return { graceDays: graceDays ?? 0, minDaysBetweenChanges: minDays ?? 0 };
}

function compileLifecycle(raw: unknown, fail: Fail, known: Known): LifecycleDef | undefined {
  const keys = ['new_for_days', 'at_risk_after_days', 'churned_after_days', 'reactivated_for_days'] as const;
  if (!isObject(raw)) return fail(LIFECYCLE, `must be a mapping with ${keys.join(', ')}`);
  known(raw, LIFECYCLE, [...keys, 'doc']);
  const newForDays = days(raw['new_for_days'], `${LIFECYCLE}.new_for_days`, 0, fail);
  const atRiskAfterDays = days(raw['at_risk_after_days'], `${LIFECYCLE}.at_risk_after_days`, 1, fail);
  const churnedAfterDays = days(raw['churned_after_days'], `${LIFECYCLE}.churned_after_days`, 1, fail);
  const reactivatedForDays = days(raw['reactivated_for_days'], `${LIFECYCLE}.reactivated_for_days`, 0, fail);
  if (atRiskAfterDays !== undefined && churnedAfterDays !== undefined && churnedAfterDays <= atRiskAfterDays) {
    return fail(`${LIFECYCLE}.churned_after_days`, `must be more than at_risk_after_days (${atRiskAfterDays}), got ${churnedAfterDays}`);
  }
  if (newForDays === undefined || atRiskAfterDays === undefined || churnedAfterDays === undefined || reactivatedForDays === undefined) return undefined;
  return { newForDays, atRiskAfterDays, churnedAfterDays, reactivatedForDays };
}

const DURATION_UNITS: Readonly<Record<string, number>> = { s: 1_000, m: 60_000, h: 3_600_000 };

/** `clock:` — the wall-clock tick for idle partitions: `wall_clock_tick: off`, or `{ every: 1m, idle_after: 5m }` (default). */
function compileClock(raw: unknown, fail: Fail, known: Known): ClockDef {
  if (raw === undefined) return DEFAULT_CLOCK;
  if (!isObject(raw)) return fail('clock', 'must be a mapping') ?? DEFAULT_CLOCK;
  known(raw, 'clock', ['wall_clock_tick', 'doc']);
  const tick = raw['wall_clock_tick'];
  if (tick === undefined) return DEFAULT_CLOCK;
  if (tick === false || tick === 'off') return { wallClockTick: undefined };
  if (!isObject(tick)) return fail('clock.wall_clock_tick', "must be 'off' or { every: <duration>, idle_after: <duration> }") ?? DEFAULT_CLOCK;
  known(tick, 'clock.wall_clock_tick', ['every', 'idle_after']);
  const duration = (v: unknown, path: string, fallback: number): number => {
    if (v === undefined) return fallback;
    const m = typeof v === 'string' ? /^(\d+)(s|m|h)$/.exec(v) : null;
    const ms = m ? Number(m[1]) * (DURATION_UNITS[m[2] as string] ?? 0) : 0;
    if (ms < 1_000) return fail(path, `must be a duration of at least 1s such as 30s, 5m or 1h, got ${JSON.stringify(v)}`) ?? fallback;
    return ms;
  };
  const defaults = DEFAULT_CLOCK.wallClockTick as { everyMs: number; idleAfterMs: number };
  return { wallClockTick: { everyMs: duration(tick['every'], 'clock.wall_clock_tick.every', defaults.everyMs), idleAfterMs: duration(tick['idle_after'], 'clock.wall_clock_tick.idle_after', defaults.idleAfterMs) } };
}
