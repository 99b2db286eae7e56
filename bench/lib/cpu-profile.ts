import fs from 'node:fs';
import path from 'node:path';

/** The parts of a V8 .cpuprofile (node --cpu-prof) read here. */
interface ProfileNode {
  readonly id: number;
  readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number };
  readonly children?: readonly number[];
}

interface CpuProfile {
  readonly nodes: readonly ProfileNode[];
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

export interface ProfileEntry {
  readonly name: string;
  readonly seconds: number;
  /** Share of the busy (non-idle) time. */
  readonly share: number;
}

export interface ProfileSummary {
  readonly file: string;
  readonly busySeconds: number;
  readonly idleSeconds: number;
  /** Busy time by where the code lives: domain, runtime, kafkajs, ioredis, JSON and other builtins, GC, … */
  readonly byArea: ProfileEntry[];
  /** Functions by self time. */
  readonly topSelf: ProfileEntry[];
  /** tierstream's own functions by inclusive time (callees included). */
  readonly topInclusive: ProfileEntry[];
}

function area(functionName: string, url: string): string {
  if (functionName === '(idle)') return 'idle';
  if (functionName === '(garbage collector)') return 'garbage collector';
  if (functionName === '(program)') return 'V8 (program)';
  if (url === '') return 'V8 builtins (JSON.parse/stringify, …)';
  for (const [needle, name] of [
    ['/services/domain/', 'tierstream domain'],
    ['/services/runtime/', 'tierstream runtime'],
    ['/services/scoring/', 'tierstream scoring'],
    ['/@bufbuild/', 'CEL (@bufbuild/cel)'],
    ['/kafkajs/', 'kafkajs'],
    ['/@kafkajs/confluent-schema-registry/', 'schema registry client'],
    ['/avsc/', 'avsc'],
    ['/ioredis/', 'ioredis'],
    ['/redis-parser/', 'ioredis'],
    ['/pino', 'pino'],
    ['/prom-client/', 'prom-client'],
  ] as const) {
    if (url.includes(needle)) return name;
  }
  if (url.startsWith('node:') || !url.includes('/')) return 'node internals';
  return 'other';
}

const label = (n: ProfileNode): string => {
  const { functionName, url, lineNumber } = n.callFrame;
  const file = url.includes('node_modules/') ? url.slice(url.lastIndexOf('node_modules/') + 13) : url.includes('/services/') ? url.slice(url.indexOf('/services/') + 10) : url;
  return `${functionName || '(anonymous)'}${file ? ` ${file}:${lineNumber + 1}` : ''}`;
};

const top = (m: Map<string, number>, busy: number, n: number): ProfileEntry[] =>
  [...m.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, n)
    .map(([name, us]) => ({ name, seconds: us / 1e6, share: busy > 0 ? us / busy : 0 }));

/** Summarises the newest .cpuprofile in `dir` (written when the worker exits). */
export function summariseProfile(dir: string): ProfileSummary | undefined {
  const files = fs.existsSync(dir) ? fs.readdirSync(dir).filter((f) => f.endsWith('.cpuprofile')) : [];
  const newest = files.map((f) => path.join(dir, f)).sort((a, b) => fs.statSync(b).mtimeMs - fs.statSync(a).mtimeMs)[0];
  if (!newest) return undefined;
  const profile = JSON.parse(fs.readFileSync(newest, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  profile.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));
  let busy = 0;
  let idle = 0;
  const byArea = new Map<string, number>();
  const bySelf = new Map<string, number>();
  for (const [id, us] of self) {
    const node = byId.get(id);
    if (!node) continue;
    const a = area(node.callFrame.functionName, node.callFrame.url);
    if (a === 'idle') {
      idle += us;
      continue;
    }
    busy += us;
    byArea.set(a, (byArea.get(a) ?? 0) + us);
    bySelf.set(label(node), (bySelf.get(label(node)) ?? 0) + us);
  }
  // Inclusive time of tierstream's functions, each counted once per call path (not again in recursion).
  const inclusive = new Map<string, number>();
  const totalOf = new Map<number, number>();
  const total = (id: number): number => {
    const cached = totalOf.get(id);
    if (cached !== undefined) return cached;
    const node = byId.get(id);
    const own = node && node.callFrame.functionName !== '(idle)' ? (self.get(id) ?? 0) : 0;
    const sum = own + (node?.children ?? []).reduce((acc, c) => acc + total(c), 0);
    totalOf.set(id, sum);
    return sum;
  };
  const walk = (id: number, above: ReadonlySet<string>): void => {
    const node = byId.get(id);
    if (!node) return;
    const name = label(node);
    const ours = node.callFrame.url.includes('/services/');
    if (ours && !above.has(name)) inclusive.set(name, (inclusive.get(name) ?? 0) + total(id));
    const next = ours ? new Set([...above, name]) : above;
    for (const c of node.children ?? []) walk(c, next);
  };
  const root = profile.nodes[0];
  if (root) walk(root.id, new Set());
  return { file: newest, busySeconds: busy / 1e6, idleSeconds: idle / 1e6, byArea: top(byArea, busy, 20), topSelf: top(bySelf, busy, 20), topInclusive: top(inclusive, busy, 20) };
}
