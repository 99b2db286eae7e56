import { describeFault, faultSchedule, type ScheduleOptions } from '../chaos/schedule';

const options: ScheduleOptions = { seed: 42, outageMs: 60_000, registryStopMs: 30_000, killsPerWorker: 2 };

describe('chaos fault schedule', () => {
  it('is the same for the same seed', () => {
    expect(faultSchedule(options)).toEqual(faultSchedule({ ...options }));
  });

  it('differs for another seed (order, gaps and delays)', () => {
    expect(faultSchedule({ ...options, seed: 43 })).not.toEqual(faultSchedule(options));
  });

  it('holds every kind of fault the issue lists, with the given durations', () => {
    const faults = faultSchedule(options);
    const kinds = faults.map(describeFault);
    for (const worker of ['ingest', 'scoring', 'notifier']) expect(faults.filter((f) => f.kind === 'kill-worker' && f.worker === worker)).toHaveLength(2);
    expect(faults.filter((f) => f.kind === 'kill-notifier-delivering')).toHaveLength(1);
    expect(faults.filter((f) => f.kind === 'kill-worker-joining')).toHaveLength(1);
    expect(faults.filter((f) => f.kind === 'sigterm-rebalance')).toHaveLength(1);
    const stops = faults.flatMap((f) => (f.kind === 'stop-part' ? [`${f.part} ${f.signal} ${f.downMs} ${f.outage}`] : [])).sort();
    expect(stops).toEqual(['kafka SIGKILL 1000 false', 'kafka SIGTERM 1000 false', 'kafka SIGTERM 60000 true', 'redis SIGKILL 1000 false', 'redis SIGTERM 60000 true', 'schema-registry SIGTERM 30000 false', 'schema-registry SIGTERM 60000 true']);
    expect(new Set(kinds).size).toBeGreaterThan(10);
  });

  it('at CI size (compact) keeps every kind: the broker SIGTERM and the registry stop are their outages', () => {
    const faults = faultSchedule({ ...options, outageMs: 15_000, killsPerWorker: 1, compact: true });
    const stops = faults.flatMap((f) => (f.kind === 'stop-part' ? [`${f.part} ${f.signal} ${f.downMs} ${f.outage}`] : [])).sort();
    expect(stops).toEqual(['kafka SIGKILL 1000 false', 'kafka SIGTERM 15000 true', 'redis SIGKILL 1000 false', 'redis SIGTERM 15000 true', 'schema-registry SIGTERM 15000 true']);
    expect(new Set(faults.map((f) => f.kind))).toEqual(new Set(['kill-worker', 'kill-notifier-delivering', 'kill-worker-joining', 'sigterm-rebalance', 'stop-part']));
  });

  it('draws gaps within the bounds', () => {
    const faults = faultSchedule({ ...options, minGapMs: 1_000, maxGapMs: 1_500 });
    for (const f of faults) {
      expect(f.gapMs).toBeGreaterThanOrEqual(1_000);
      expect(f.gapMs).toBeLessThanOrEqual(1_500);
    }
  });
});
