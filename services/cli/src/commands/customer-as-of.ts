import { DAY_MS, type CustomerState } from '@tierstream/domain';

/**
 * The event times a customer's stored figures hold at, beside the partition's: a customer
 * whose partition moved on without re-evaluating it (sweep off, not due yet, a backlog)
 * shows tiers and metrics of the past, and must say so. Times are epoch millis.
 */
export interface AsOf {
  /** The customer's time: its latest event or re-evaluation; tiers, score and metrics were computed at it. */
  readonly evaluated_at: number;
  /** Its latest event by event time (null: none, e.g. state without events). */
  readonly last_event_at: number | null;
  /** The input partition of its last applied record (from the fence). */
  readonly partition: number | null;
  /** That partition's event-time watermark after its latest batch. */
  readonly partition_watermark: number | null;
  /** partition_watermark − evaluated_at. */
  readonly behind_watermark_ms: number | null;
  /** When the sweep is to re-evaluate it next (the partition's due-time index). */
  readonly next_due_at: number | null;
}

/** The partition in a fence `<partition>:<offset>`; undefined for '' or anything else. */
export function fencePartition(fence: string): number | undefined {
  const m = /^(\d+):\d+$/.exec(fence);
  return m ? Number(m[1]) : undefined;
}

export function asOf(state: CustomerState, partition: number | undefined, watermark: number | undefined, nextDue: number | undefined): AsOf {
  const evaluated = state.aggregates.now;
  return {
    evaluated_at: evaluated,
    last_event_at: state.aggregates.lastSeen['ANY'] ?? null,
    partition: partition ?? null,
    partition_watermark: watermark ?? null,
    behind_watermark_ms: watermark === undefined ? null : watermark - evaluated,
    next_due_at: nextDue ?? null,
  };
}

const iso = (t: number): string => new Date(t).toISOString();
const days = (ms: number): string => `${(ms / DAY_MS).toFixed(1)} days`;

/** The two lines `tierctl customer` prints under its heading. */
export function asOfLines(a: AsOf): string[] {
  const lastEvent = a.last_event_at === null ? 'none' : iso(a.last_event_at);
  const lines = [`as of    ${iso(a.evaluated_at)} (event time of the last evaluation: tiers, score and metrics hold at it); last event ${lastEvent}`];
  let clock: string;
  if (a.partition === null) clock = 'clock    partition unknown (the state has no fence)';
  else if (a.partition_watermark === null || a.behind_watermark_ms === null) clock = `clock    partition ${a.partition} has no watermark recorded`;
  else {
    const behind = a.behind_watermark_ms;
    const where = behind === 0 ? 'at it' : behind > 0 ? `${days(behind)} behind it` : `${days(-behind)} ahead of it`;
    clock = `clock    partition ${a.partition} watermark ${iso(a.partition_watermark)}: this customer is ${where}`;
  }
  if (a.next_due_at !== null) {
    const passed = a.partition_watermark !== null && a.next_due_at <= a.partition_watermark;
    clock += `; next re-evaluation due ${iso(a.next_due_at)}${passed ? ' (passed, not re-evaluated yet)' : ''}`;
  }
  lines.push(clock);
  return lines;
}
