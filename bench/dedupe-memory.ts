/**
 * The dedupe-memory benchmark: how many bytes of Redis ingest's dedupe memory takes per
 * remembered event id. Remembers `--ids` event ids (default 1,000,000, UUIDs as upstream
 * systems send them) spread over `--customers` customers (default 100,000) through the
 * Kafka path's calls, in a fresh namespace, and reports the used_memory delta per id for
 * each scheme: `legacy` (one key per id, the scheme before issue 10) and `compact` (the
 * per-customer set of services/ingest/src/dedupe.ts). By default on a private redis-server
 * (so nobody else's writes are counted; `--redis-url` measures any other Redis instead).
 * Writes bench/results/dedupe-memory-<time>.json. See docs/benchmarks.md.
 *
 *   npx tsc -p bench && node bench/dist/dedupe-memory.js [--ids 1000000] [--customers 100000] [--schemes legacy,compact]
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { createLogger, createRedis, type Redis } from '@tierstream/runtime';
import { REPO_ROOT } from '@tierstream/cli/dist/stack/settings';
import { rememberLegacy, type BenchClaim } from './lib/dedupe-legacy';
import { machineInfo, redisCpuSeconds, redisInfo } from './lib/machine';
import { deleteNamespaceKeys } from './lib/namespace';
import { formatResult, int, fixed } from './lib/results';
import { compactScheme } from './lib/dedupe-compact';

const { values } = parseArgs({
  options: {
    ids: { type: 'string', default: '1000000' },
    customers: { type: 'string', default: '100000' },
    schemes: { type: 'string', default: 'legacy,compact' },
    batch: { type: 'string', default: '500' },
    'horizon-hours': { type: 'string', default: '168' },
    'redis-url': { type: 'string' },
    port: { type: 'string', default: '16998' },
  },
});
const ids = Number(values.ids);
const customers = Number(values.customers);
const batchSize = Number(values.batch);
const horizonMs = Number(values['horizon-hours']) * 3_600_000;
const schemes = (values.schemes ?? '').split(',').filter((s) => s !== '');
for (const [name, n] of [['--ids', ids], ['--customers', customers], ['--batch', batchSize], ['--horizon-hours', horizonMs]] as const) {
  if (!Number.isSafeInteger(n) || n < 1) throw new Error(`${name} must be a positive whole number`);
}
const RAW_TOPIC = 'customer.events.raw';
const PARTITIONS = 12;

export interface SchemeRunner {
  /** Remembers one raw batch's ids as the Kafka path does (claim, then whatever follows its commit). */
  remember(claims: readonly BenchClaim[]): Promise<void>;
}

type SchemeFactory = (redis: Redis, namespace: string, horizonMs: number) => Promise<SchemeRunner>;

const SCHEMES: Record<string, SchemeFactory> = {
  legacy: async (redis, namespace, horizon) => ({ remember: (claims) => rememberLegacy(redis, namespace, claims, horizon) }),
  compact: compactScheme,
};

/** Deterministic UUID-shaped event ids, so every run remembers the same strings. */
const eventId = (n: number): string => {
  const h = createHash('sha1').update(`event-${n}`).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
};
const customerId = (n: number): string => `cust-${String(n).padStart(7, '0')}`;

/** The ids of raw batch `b`: consecutive events, customer = event number mod customers, like an interleaved stream. */
function batchOf(b: number, namespace: string): BenchClaim[] {
  const out: BenchClaim[] = [];
  const partition = b % PARTITIONS;
  for (let n = b * batchSize; n < Math.min(ids, (b + 1) * batchSize); n++) {
    out.push({ customerId: customerId(n % customers), eventId: eventId(n), marker: `${namespace}${RAW_TOPIC}:${partition}:${Math.floor(n / PARTITIONS)}` });
  }
  return out;
}

async function usedMemory(redis: Redis): Promise<number> {
  return Number((await redisInfo(redis))['used_memory'] ?? NaN);
}

async function startPrivateRedis(port: number): Promise<{ url: string; proc: ChildProcess; dir: string }> {
  const url = `redis://127.0.0.1:${port}`;
  // A server already on the port would be measured instead of a fresh one (and its data with it).
  const squatter = createRedis(url, createLogger({ name: 'bench-dedupe', level: 'silent' }));
  const taken = await squatter.ping().then(
    () => true,
    () => false,
  );
  squatter.disconnect();
  if (taken) throw new Error(`something answers on port ${port} already; pass --port with a free one`);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tierstream-dedupe-mem-'));
  // No persistence: only the memory of the data set is measured.
  const proc = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--appendonly', 'no', '--save', ''], { stdio: 'ignore' });
  for (let i = 0; i < 100; i++) {
    await sleep(100);
    const probe = createRedis(url, createLogger({ name: 'bench-dedupe', level: 'silent' }));
    try {
      await probe.ping();
      probe.disconnect();
      return { url, proc, dir };
    } catch {
      probe.disconnect();
    }
  }
  proc.kill('SIGTERM');
  throw new Error(`redis-server on port ${port} did not answer`);
}

interface SchemeResult {
  readonly scheme: string;
  readonly namespace: string;
  readonly ids: number;
  readonly customers: number;
  readonly keys: number;
  readonly usedMemoryDeltaBytes: number;
  readonly bytesPerId: number;
  readonly bytesPerCustomer: number;
  readonly seconds: number;
  readonly idsPerSecond: number;
  /** Redis's own CPU (user + system) while remembering. */
  readonly redisCpuSeconds: number;
  readonly redisCpuMicrosPerId: number;
  /** INFO commandstats over the phase: calls and microseconds per call, by command. */
  readonly commands: Record<string, { calls: number; usecPerCall: number }>;
  /** MEMORY USAGE of a few of the scheme's keys (sampled), for the per-key overhead. */
  readonly sampleKeys: { key: string; bytes: number }[];
}

async function measure(redis: Redis, scheme: string, privateServer: boolean): Promise<SchemeResult> {
  const factory = SCHEMES[scheme];
  if (!factory) throw new Error(`unknown scheme ${scheme}; known: ${Object.keys(SCHEMES).join(', ')}`);
  // A private server holds nothing else: the keys are named as in a deployment without a
  // namespace. On a shared one, a fresh namespace.
  const namespace = privateServer ? '' : `bd-${scheme.slice(0, 1)}${Date.now().toString(36)}.`;
  const runner = await factory(redis, namespace, horizonMs);
  const keysBefore = await redis.dbsize();
  const before = await usedMemory(redis);
  const cpuBefore = redisCpuSeconds(await redisInfo(redis)).server;
  await redis.config('RESETSTAT');
  const started = performance.now();
  const batches = Math.ceil(ids / batchSize);
  const inFlight = new Set<Promise<void>>();
  for (let b = 0; b < batches; b++) {
    const p = runner.remember(batchOf(b, namespace)).finally(() => inFlight.delete(p));
    inFlight.add(p);
    if (inFlight.size >= 4) await Promise.race(inFlight);
    if (b % 200 === 0) process.stdout.write(`\r${scheme}: ${int(b * batchSize)} ids`);
  }
  await Promise.all(inFlight);
  const seconds = (performance.now() - started) / 1000;
  const after = await usedMemory(redis);
  const redisCpu = redisCpuSeconds(await redisInfo(redis)).server - cpuBefore;
  const commands = Object.fromEntries(
    (await redis.info('commandstats'))
      .split('\r\n')
      .flatMap((line) => {
        const m = /^cmdstat_([^:]+):calls=(\d+),usec=(\d+),usec_per_call=([\d.]+)/.exec(line);
        return m ? [[m[1], { calls: Number(m[2]), usecPerCall: Number(m[4]) }]] : [];
      }),
  );
  const keys = (await redis.dbsize()) - keysBefore;
  process.stdout.write('\n');
  const sampleKeys: { key: string; bytes: number }[] = [];
  const [, found] = await redis.scan('0', 'MATCH', `${namespace}*`, 'COUNT', 1000);
  for (const key of found.slice(0, 5)) sampleKeys.push({ key, bytes: Number(await redis.memory('USAGE', key, 'SAMPLES', '0')) });
  const delta = after - before;
  const result = { scheme, namespace, ids, customers, keys, usedMemoryDeltaBytes: delta, bytesPerId: delta / ids, bytesPerCustomer: delta / customers, seconds, idsPerSecond: ids / seconds, redisCpuSeconds: redisCpu, redisCpuMicrosPerId: (redisCpu * 1e6) / ids, commands, sampleKeys };
  if (privateServer) await redis.flushdb();
  else await deleteNamespaceKeys(redis, namespace);
  return result;
}

async function main(): Promise<void> {
  const startedAt = new Date();
  const server = values['redis-url'] ? undefined : await startPrivateRedis(Number(values.port));
  const url = values['redis-url'] ?? server?.url ?? '';
  const redis = createRedis(url, createLogger({ name: 'bench-dedupe', level: 'silent' }));
  const results: SchemeResult[] = [];
  try {
    const info = await redisInfo(redis);
    for (const scheme of schemes) results.push(await measure(redis, scheme, server !== undefined));
    console.log(`\n${int(ids)} event ids, ${int(customers)} customers (${fixed(ids / customers, 1)} ids each), Redis ${info['redis_version'] ?? '?'}${server ? ' (private)' : ` at ${url}`}`);
    for (const r of results) {
      console.log(`${r.scheme.padEnd(8)} ${fixed(r.bytesPerId, 1).padStart(7)} bytes/id  ${int(r.bytesPerCustomer).padStart(6)} bytes/customer  ${int(r.keys).padStart(9)} keys  ${int(r.idsPerSecond).padStart(8)} ids/s  ${fixed(r.redisCpuMicrosPerId, 1).padStart(6)} µs Redis CPU/id`);
    }
    const out = {
      benchmark: 'dedupe-memory',
      startedAt: startedAt.toISOString(),
      machine: machineInfo(),
      redis: { version: info['redis_version'] ?? null, private: server !== undefined, allocator: info['mem_allocator'] ?? null },
      parameters: { ids, customers, batch: batchSize, horizonHours: horizonMs / 3_600_000, idFormat: 'uuid (36 characters)' },
      results,
      dedupe_bytes_per_event: results.find((r) => r.scheme === 'compact')?.bytesPerId ?? null,
    };
    const dir = path.join(REPO_ROOT, 'bench', 'results');
    fs.mkdirSync(dir, { recursive: true });
    const file = path.join(dir, `dedupe-memory-${startedAt.toISOString().replace(/\.\d+Z$/, 'Z').replace(/:/g, '-')}.json`);
    fs.writeFileSync(file, `${formatResult(out)}\n`);
    console.log(`wrote ${path.relative(REPO_ROOT, file)}`);
  } finally {
    redis.disconnect();
    server?.proc.kill('SIGTERM');
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
