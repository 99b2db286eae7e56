import fs from 'node:fs';

export interface BatchLogSummary {
  /** Batches that re-evaluated customers ('batch scored' with swept > 0). */
  readonly sweepBatches: number;
  readonly sweptPerBatch: number;
  /** Wall time between one sweep batch's end and the next's, any replica (ms): one whole cycle with one replica, fetch and tick included. */
  readonly cycleMs: { readonly mean: number; readonly p50: number; readonly p90: number; readonly p99: number; readonly max: number };
  /** Consecutive sweep batches of the same partition: how long one partition waits for its next batch (ms). */
  readonly samePartitionGapMs: { readonly mean: number; readonly p50: number; readonly p90: number };
}

interface BatchLine {
  readonly time: number;
  readonly partition: number;
  readonly swept: number;
}

const quantile = (sorted: readonly number[], q: number): number => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
const mean = (xs: readonly number[]): number => (xs.length === 0 ? 0 : xs.reduce((a, b) => a + b, 0) / xs.length);

/** Reads the workers' debug lines 'batch scored' (LOG_LEVEL=debug) and times their sweep batches. */
export function summariseBatchLog(files: readonly string[]): BatchLogSummary | undefined {
  const batches: BatchLine[] = [];
  const lines = files.flatMap((f) => (fs.existsSync(f) ? fs.readFileSync(f, 'utf8').split('\n') : []));
  for (const line of lines) {
    if (!line.includes('"batch scored"')) continue;
    try {
      const entry = JSON.parse(line) as { time?: number; partition?: number; swept?: number };
      if (typeof entry.time === 'number' && typeof entry.partition === 'number' && typeof entry.swept === 'number' && entry.swept > 0) {
        batches.push({ time: entry.time, partition: entry.partition, swept: entry.swept });
      }
    } catch {
      // not a JSON line
    }
  }
  if (batches.length < 2) return undefined;
  batches.sort((a, b) => a.time - b.time);
  const cycles = batches
    .slice(1)
    .map((b, i) => b.time - (batches[i] as BatchLine).time)
    .sort((a, b) => a - b);
  const lastOf = new Map<number, number>();
  const gaps: number[] = [];
  for (const b of batches) {
    const last = lastOf.get(b.partition);
    if (last !== undefined) gaps.push(b.time - last);
    lastOf.set(b.partition, b.time);
  }
  gaps.sort((a, b) => a - b);
  return {
    sweepBatches: batches.length,
    sweptPerBatch: mean(batches.map((b) => b.swept)),
    cycleMs: { mean: mean(cycles), p50: quantile(cycles, 0.5), p90: quantile(cycles, 0.9), p99: quantile(cycles, 0.99), max: cycles[cycles.length - 1] ?? 0 },
    samePartitionGapMs: { mean: mean(gaps), p50: quantile(gaps, 0.5), p90: quantile(gaps, 0.9) },
  };
}
