import * as hdr from 'hdr-histogram-js';

/** [seconds since the phase started, records done so far], in time order. */
export type ProgressSample = readonly [number, number];

export interface DrainRate {
  /** Records over the whole phase, start-up included. */
  readonly perSecond: number;
  /** From the sample where 10% were done to the last one: start-up (join, first fetch) excluded. */
  readonly steadyPerSecond: number | null;
  readonly steadyFromSeconds: number | null;
}

/**
 * Rates of a drain of `total` records that took `seconds`, from progress samples. The
 * steady rate is measured between the first sample at or past 10% and the last sample.
 */
export function drainRate(total: number, seconds: number, samples: readonly ProgressSample[]): DrainRate {
  const perSecond = seconds > 0 ? total / seconds : 0;
  const tenth = samples.find(([, done]) => done >= total * 0.1);
  const last = samples[samples.length - 1];
  if (!tenth || !last || last[0] <= tenth[0] || last[1] <= tenth[1]) return { perSecond, steadyPerSecond: null, steadyFromSeconds: null };
  return { perSecond, steadyPerSecond: (last[1] - tenth[1]) / (last[0] - tenth[0]), steadyFromSeconds: tenth[0] };
}

export interface LatencySummary {
  readonly count: number;
  readonly p50Ms: number | null;
  readonly p90Ms: number | null;
  readonly p99Ms: number | null;
  readonly p999Ms: number | null;
  readonly maxMs: number | null;
  readonly meanMs: number | null;
}

/**
 * Latencies in an HDR histogram (microsecond resolution, 3 significant digits): percentiles
 * that are exact to 0.1% at any value, with constant memory however many events are recorded.
 */
export class LatencyRecorder {
  private readonly histogram = hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 3_600_000_000, numberOfSignificantValueDigits: 3 });

  /** Records one latency in milliseconds (negative clock noise counts as 0). */
  record(ms: number): void {
    this.histogram.recordValue(Math.max(1, Math.round(ms * 1000)));
  }

  summary(): LatencySummary {
    const h = this.histogram;
    const count = h.totalCount;
    const at = (p: number): number | null => (count === 0 ? null : h.getValueAtPercentile(p) / 1000);
    return { count, p50Ms: at(50), p90Ms: at(90), p99Ms: at(99), p999Ms: at(99.9), maxMs: count === 0 ? null : h.maxValue / 1000, meanMs: count === 0 ? null : h.mean / 1000 };
  }
}

/**
 * How many records a paced producer should have sent `elapsedMs` into a phase offering
 * `ratePerSecond`, never more than `total`.
 */
export const offeredBy = (ratePerSecond: number, elapsedMs: number, total: number): number => Math.min(total, Math.floor((ratePerSecond * Math.max(0, elapsedMs)) / 1000));

/** Kept up: everything sent at 95% of the rate or more, every transition seen, and seen at 95% of the rate or more. */
export const keptUp = (r: { readonly offeredPerSecond: number; readonly events: number; readonly sent: number; readonly sentPerSecond: number; readonly seen: number; readonly seenPerSecond: number }): boolean =>
  r.sent === r.events && r.seen === r.sent && r.sentPerSecond >= r.offeredPerSecond * 0.95 && r.seenPerSecond >= r.offeredPerSecond * 0.95;
