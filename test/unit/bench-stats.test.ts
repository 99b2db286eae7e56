import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { rejoins, rejoinsInLog, UpDrops } from '../../bench/lib/drain';
import { countLogProblems } from '../../bench/lib/log-problems';
import { parseBenchOptions, phasesToRun, resultFileNames } from '../../bench/lib/bench-options';
import { drainRate, keptUp, LatencyRecorder, offeredBy } from '../../bench/lib/stats';

describe('the benchmark (bench/lib)', () => {
  it('countLogProblems counts warnings and errors in logs larger than its read chunk, lines across chunk ends and a missing file included', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'log-problems-'));
    const big = path.join(dir, 'notifier.log');
    const info = `${JSON.stringify({ level: 30, msg: 'delivered é'.padEnd(200, '.') })}\n`;
    // About 3 MiB of info lines around the problems: some lines straddle the 1 MiB chunks.
    fs.writeFileSync(big, `${info.repeat(6000)}{"level":40,"msg":"slow"}\n${info.repeat(9000)}{"level":50,"msg":"down"}\n${info.repeat(1000)}{"level":60,"msg":"fatal"}`);
    try {
      expect(countLogProblems([big, path.join(dir, 'absent.log')])).toEqual({ warnings: 1, errors: 2, firstWarning: '{"level":40,"msg":"slow"}', firstError: '{"level":50,"msg":"down"}' });
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  describe('drainRate', () => {
    it('gives the whole-phase rate and the rate after the first 10%', () => {
      // 1,000 records: 100 by 5 s (start-up), then 300/s.
      const samples: [number, number][] = [[0, 0], [4, 0], [5, 100], [6, 400], [8, 1000]];
      const r = drainRate(1000, 8, samples);
      expect(r.perSecond).toBe(125);
      expect(r.steadyFromSeconds).toBe(5);
      expect(r.steadyPerSecond).toBe(300);
    });

    it('has no steady rate when nothing came after the 10% sample', () => {
      expect(drainRate(1000, 2, [[0, 0], [2, 1000]]).steadyPerSecond).toBeNull();
    });
  });

  describe('LatencyRecorder', () => {
    it('summarises 1..1000 ms with percentiles within the histogram’s 0.1% resolution', () => {
      const r = new LatencyRecorder();
      for (let ms = 1; ms <= 1000; ms++) r.record(ms);
      const s = r.summary();
      expect(s.count).toBe(1000);
      expect(Math.abs((s.p50Ms ?? 0) - 500)).toBeLessThanOrEqual(0.5);
      expect(Math.abs((s.p99Ms ?? 0) - 990)).toBeLessThanOrEqual(1);
      expect(Math.abs((s.maxMs ?? 0) - 1000)).toBeLessThanOrEqual(1);
    });

    it('has no percentiles before anything was recorded', () => {
      expect(new LatencyRecorder().summary()).toMatchObject({ count: 0, p50Ms: null, p99Ms: null });
    });
  });

  it('offeredBy paces a fixed rate and never passes the total', () => {
    expect(offeredBy(2000, 0, 10_000)).toBe(0);
    expect(offeredBy(2000, 1500, 10_000)).toBe(3000);
    expect(offeredBy(2000, 60_000, 10_000)).toBe(10_000);
  });

  it('says a latency run kept up only when every transition was seen at the offered rate', () => {
    const run = { offeredPerSecond: 2000, events: 20_000, sent: 20_000, sentPerSecond: 1998, seen: 20_000, seenPerSecond: 1990 };
    expect(keptUp(run)).toBe(true);
    // All seen, but at 740/s: a backlog grew behind the offer (p50 11 s in such a run).
    expect(keptUp({ ...run, seenPerSecond: 740 })).toBe(false);
    expect(keptUp({ ...run, seen: 19_999 })).toBe(false);
    expect(keptUp({ ...run, sentPerSecond: 1500 })).toBe(false);
  });

  describe('re-joins', () => {
    it('counts consumer_up falling from 1 to 0, not staying at 0 or the first 0 of a start', () => {
      const ups = new UpDrops();
      for (const v of [0, 0, 1, 1, 0, 0, 1, 0, 1]) ups.see(v);
      expect(ups.drops).toBe(2);
    });

    it('takes the most any signal says, and 0 for one join and one member', () => {
      expect(rejoins({ joins: 1, evictions: 0 }, 1, 0).rejoins).toBe(0);
      expect(rejoins({ joins: 0, evictions: 0 }, 3, 1).rejoins).toBe(2);
      const log = ['{"msg":"Consumer has joined the group","groupId":"ns.g"}', '{"level":40,"msg":"The coordinator is not aware of this member, re-joining the group"}', '{"msg":"Consumer has joined the group","groupId":"ns.g"}'].join('\n');
      expect(rejoinsInLog(log, 'ns.g')).toEqual({ joins: 2, evictions: 1 });
      expect(rejoins(rejoinsInLog(log, 'ns.g'), 1, 0).rejoins).toBe(1);
    });
  });

  describe('parseBenchOptions', () => {
    it('defaults to the issue’s size: 1M events, 100k customers, all phases', () => {
      const o = parseBenchOptions([], '/repo');
      expect(o).toMatchObject({ events: 1_000_000, customers: 100_000, quick: false, rates: [2000, 5000], workerRoot: '/repo' });
      expect([...(o?.only ?? [])]).toEqual(['baseline', 'ingest', 'scoring', 'latency', 'pipeline', 'sweep']);
    });

    it('makes --quick small, and lets explicit sizes win', () => {
      expect(parseBenchOptions(['--quick'], '/repo')).toMatchObject({ events: 10_000, customers: 1_000, latencySeconds: 3 });
      expect(parseBenchOptions(['--quick', '--events', '200_000', '--customers', '20000'], '/repo')).toMatchObject({ events: 200_000, customers: 20_000 });
    });

    it('resolves --worker-root against the checkout', () => {
      expect(parseBenchOptions(['--worker-root', '/tmp/base'], '/repo')?.workerRoot).toBe('/tmp/base');
      expect(parseBenchOptions(['--worker-root', '../base'], '/work/repo')?.workerRoot).toBe('/work/base');
    });

    it('refuses an unknown phase, more customers than events and a bad number', () => {
      expect(() => parseBenchOptions(['--only', 'scoring,warp'], '/repo')).toThrow('unknown phase warp');
      expect(() => parseBenchOptions(['--events', '1000', '--customers', '2000'], '/repo')).toThrow('must not exceed');
      expect(() => parseBenchOptions(['--events', 'many'], '/repo')).toThrow('--events');
    });
  });

  it('runs what a phase needs: latency needs scoring, scoring needs ingest and the raw producer', () => {
    expect([...phasesToRun(new Set(['latency']))].sort()).toEqual(['baseline', 'ingest', 'latency', 'scoring']);
    expect([...phasesToRun(new Set(['sweep']))]).toEqual(['sweep']);
  });

  it('never lets a quick run replace latest.json', () => {
    const at = new Date('2026-12-01T19:00:00.123Z');
    expect(resultFileNames('bench', at, false)).toEqual(['bench-2026-12-01T19-00-00Z.json', 'latest.json']);
    expect(resultFileNames('base', at, false)).toEqual(['base-2026-12-01T19-00-00Z.json', 'base-latest.json']);
    expect(resultFileNames('bench', at, true)).toEqual(['quick-latest.json']);
  });
});
