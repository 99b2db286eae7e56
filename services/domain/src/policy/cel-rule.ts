import { celEnv, isCelError, parse, plan, type CelInput } from '@bufbuild/cel';

/** A compiled CEL condition: parsed once at policy load, evaluated per customer. */
export interface CelRule {
  readonly source: string;
  /** Every identifier the expression reads: checked against the known variables at load. */
  readonly identifiers: readonly string[];
  /**
   * When the expression is a conjunction of comparisons of a variable with a number
   * (`spend_365d >= 300000 && orders_365d > 2`, either side), those comparisons, each read as
   * `variable >= value` or `variable > value`; otherwise undefined. Forward signals use them to
   * say how far a customer is from a tier.
   */
  readonly thresholds: readonly Threshold[] | undefined;
  evaluate(vars: Readonly<Record<string, number | string | boolean>>): boolean;
}

/** One lower bound of a conjunction: `variable >= value` (or `>` when strict). */
export interface Threshold {
  readonly variable: string;
  readonly value: number;
  readonly strict: boolean;
}

export class CelRuleError extends Error {}

interface Node {
  readonly exprKind?: { readonly case?: string; readonly value?: unknown };
}

/** The number a constant (or a negated constant) node stands for. */
function numberOf(node: Node): number | undefined {
  const kind = node.exprKind;
  if (kind?.case === 'constExpr') {
    const c = (kind.value as { constantKind?: { case?: string; value?: unknown } }).constantKind;
    if (c?.case === 'int64Value' || c?.case === 'uint64Value' || c?.case === 'doubleValue') return Number(c.value);
    return undefined;
  }
  if (kind?.case === 'callExpr') {
    const call = kind.value as { function?: string; args?: Node[] };
    if (call.function === '-_' && call.args?.length === 1 && call.args[0]) {
      const v = numberOf(call.args[0]);
      return v === undefined ? undefined : -v;
    }
  }
  return undefined;
}

const identOf = (node: Node): string | undefined =>
  node.exprKind?.case === 'identExpr' ? (node.exprKind.value as { name?: string }).name : undefined;

/** Lower bounds of a pure conjunction of comparisons, or undefined when it is anything else. */
function thresholdsOf(node: Node): Threshold[] | undefined {
  if (node.exprKind?.case !== 'callExpr') return undefined;
  const call = node.exprKind.value as { function?: string; args?: Node[] };
  const [a, b] = call.args ?? [];
  if (!a || !b || call.args?.length !== 2) return undefined;
  if (call.function === '_&&_') {
    const left = thresholdsOf(a);
    const right = thresholdsOf(b);
    return left && right ? [...left, ...right] : undefined;
  }
  // variable >= n, variable > n, n <= variable, n < variable
  const lower: Record<string, { strict: boolean; flipped: boolean }> = {
    '_>=_': { strict: false, flipped: false },
    '_>_': { strict: true, flipped: false },
    '_<=_': { strict: false, flipped: true },
    '_<_': { strict: true, flipped: true },
  };
  const op = call.function === undefined ? undefined : lower[call.function];
  if (!op) return undefined;
  const variable = identOf(op.flipped ? b : a);
  const value = numberOf(op.flipped ? a : b);
  return variable !== undefined && value !== undefined && Number.isFinite(value) ? [{ variable, value, strict: op.strict }] : undefined;
}

type NativeRule = (vars: Readonly<Record<string, number>>) => boolean;

const COMPARE: Record<string, (a: number, b: number) => boolean> = {
  '_>=_': (a, b) => a >= b,
  '_>_': (a, b) => a > b,
  '_<=_': (a, b) => a <= b,
  '_<_': (a, b) => a < b,
  '_==_': (a, b) => a === b,
  '_!=_': (a, b) => a !== b,
};

/** A number operand: a literal, or a variable read from the vars. */
function operandOf(node: Node): ((vars: Readonly<Record<string, number>>) => number) | undefined {
  const n = numberOf(node);
  if (n !== undefined) return () => n;
  const name = identOf(node);
  return name === undefined ? undefined : (vars) => vars[name] as number;
}

/**
 * The expression as a JS function over number variables, when it is made of boolean literals
 * and comparisons of numbers under &&, || and !; otherwise undefined (CEL evaluates it). With
 * numbers only, CEL's error-absorbing && and || give what JS's give.
 */
function nativeOf(node: Node): NativeRule | undefined {
  const kind = node.exprKind;
  if (kind?.case === 'constExpr') {
    const c = (kind.value as { constantKind?: { case?: string; value?: unknown } }).constantKind;
    if (c?.case !== 'boolValue' || typeof c.value !== 'boolean') return undefined;
    const value = c.value;
    return () => value;
  }
  if (kind?.case !== 'callExpr') return undefined;
  const call = kind.value as { function?: string; args?: Node[]; target?: unknown };
  const args = call.args ?? [];
  if (call.function === '!_' && args.length === 1 && args[0]) {
    const inner = nativeOf(args[0]);
    return inner && ((vars) => !inner(vars));
  }
  const [a, b] = args;
  if (!a || !b || args.length !== 2) return undefined;
  if (call.function === '_&&_' || call.function === '_||_') {
    const left = nativeOf(a);
    const right = nativeOf(b);
    if (!left || !right) return undefined;
    return call.function === '_&&_' ? (vars) => left(vars) && right(vars) : (vars) => left(vars) || right(vars);
  }
  const compare = call.function === undefined ? undefined : COMPARE[call.function];
  const x = operandOf(a);
  const y = operandOf(b);
  if (!compare || !x || !y || (numberOf(a) !== undefined && numberOf(b) !== undefined)) return undefined;
  return (vars) => compare(x(vars), y(vars));
}

/** Collects identifier names in the parsed expression tree, and the names comprehensions bind. */
function collectNames(node: unknown, idents: Set<string>, bound: Set<string>): void {
  if (Array.isArray(node)) {
    for (const child of node) collectNames(child, idents, bound);
    return;
  }
  if (typeof node !== 'object' || node === null) return;
  const n = node as { case?: unknown; value?: Record<string, unknown> };
  if (n.case === 'identExpr' && typeof n.value?.['name'] === 'string') idents.add(n.value['name']);
  if (n.case === 'comprehensionExpr' && n.value) {
    for (const key of ['iterVar', 'iterVar2', 'accuVar']) if (typeof n.value[key] === 'string') bound.add(n.value[key]);
  }
  for (const [key, child] of Object.entries(node)) if (key !== '$typeName') collectNames(child, idents, bound);
}

function identifiersOf(expr: unknown): string[] {
  const idents = new Set<string>();
  const bound = new Set<string>();
  collectNames(expr, idents, bound);
  return [...idents].filter((i) => !bound.has(i)).sort();
}

const env = celEnv();

/** Parses a CEL boolean expression; throws CelRuleError with the parser's message when it is not CEL. */
export function compileCelRule(source: string): CelRule {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(source);
  } catch (err) {
    throw new CelRuleError(`not a CEL expression: ${(err as Error).message.split('\n')[0]}`);
  }
  const run = plan(env, parsed);
  const thresholds = parsed.expr ? thresholdsOf(parsed.expr as Node) : undefined;
  const native = parsed.expr ? nativeOf(parsed.expr as Node) : undefined;
  const identifiers = identifiersOf(parsed.expr);
  return {
    source,
    identifiers,
    thresholds,
    evaluate(vars) {
      // The policy's common shapes (literals; comparisons of a number variable with a number
      // under &&, || and !) without the CEL interpreter, which costs microseconds per call:
      // the same answer, as CEL compares numbers as doubles and a variable that is not a
      // number goes to CEL (cel-rule.test.ts checks the two agree).
      if (native && identifiers.every((i) => typeof vars[i] === 'number')) return native(vars as Readonly<Record<string, number>>);
      const result = run(vars as Record<string, CelInput>);
      if (isCelError(result)) throw new CelRuleError(`'${source}' failed: ${result.message}`);
      if (typeof result !== 'boolean') throw new CelRuleError(`'${source}' must be true or false, got ${String(result)}`);
      return result;
    },
  };
}
