import { DAY_MS, newCustomerState } from '@tierstream/domain';
import { asOf, asOfLines, fencePartition } from './customer-as-of';

const T = Date.UTC(2026, 2, 1);
const stateAt = (evaluated: number, lastEvent: number | undefined) => {
  const state = newCustomerState('c-1');
  state.aggregates.now = evaluated;
  if (lastEvent !== undefined) state.aggregates.lastSeen['ANY'] = lastEvent;
  return state;
};

describe('fencePartition', () => {
  it('reads the partition of a fence and nothing else', () => {
    expect(fencePartition('7:1234')).toBe(7);
    expect(fencePartition('')).toBeUndefined();
    expect(fencePartition('x:1')).toBeUndefined();
  });
});

describe('asOfLines', () => {
  it('tells a re-evaluation apart from the last event, and a due time the watermark passed', () => {
    const a = asOf(stateAt(T + 10 * DAY_MS, T), 2, T + 12 * DAY_MS, T + 11 * DAY_MS);
    expect(a).toEqual({ evaluated_at: T + 10 * DAY_MS, last_event_at: T, partition: 2, partition_watermark: T + 12 * DAY_MS, behind_watermark_ms: 2 * DAY_MS, next_due_at: T + 11 * DAY_MS });
    expect(asOfLines(a)).toEqual([
      'as of    2026-03-11T00:00:00.000Z (event time of the last evaluation: tiers, score and metrics hold at it); last event 2026-03-01T00:00:00.000Z',
      'clock    partition 2 watermark 2026-03-13T00:00:00.000Z: this customer is 2.0 days behind it; next re-evaluation due 2026-03-12T00:00:00.000Z (passed, not re-evaluated yet)',
    ]);
  });

  it('shows a due time still ahead without a warning', () => {
    const lines = asOfLines(asOf(stateAt(T, T), 0, T, T + DAY_MS));
    expect(lines[1]).toBe('clock    partition 0 watermark 2026-03-01T00:00:00.000Z: this customer is at it; next re-evaluation due 2026-03-02T00:00:00.000Z');
  });

  it('says when the partition or its watermark is unknown', () => {
    expect(asOfLines(asOf(stateAt(T, undefined), undefined, undefined, undefined))).toEqual([
      'as of    2026-03-01T00:00:00.000Z (event time of the last evaluation: tiers, score and metrics hold at it); last event none',
      'clock    partition unknown (the state has no fence)',
    ]);
    expect(asOfLines(asOf(stateAt(T, T), 3, undefined, undefined))[1]).toBe('clock    partition 3 has no watermark recorded');
  });
});
