import { createLogger } from '@tierstream/runtime';
import { IdleTicker } from './idle-ticker';

/** The ticker's decisions on an injected clock; `send` records what it would write. */
function ticker(options: { everyMs?: number; idleAfterMs?: number; fail?: Set<number> } = {}) {
  let now = 1_000_000;
  const sent: [number, number][] = [];
  const t = new IdleTicker({
    everyMs: options.everyMs ?? 1_000,
    idleAfterMs: options.idleAfterMs ?? 5_000,
    now: () => now,
    send: async (partition, time) => {
      if (options.fail?.has(partition)) throw new Error('broker down');
      sent.push([partition, time]);
    },
    logger: createLogger({ name: 'test', level: 'silent' }),
  });
  return { t, sent, advance: (ms: number) => (now += ms), now: () => now };
}

describe('IdleTicker', () => {
  it('ticks only assigned partitions idle for idle_after, at the wall clock', async () => {
    const { t, sent, advance, now } = ticker();
    t.assign([0, 1]);
    advance(4_000);
    t.noteRecords(1);
    expect(await t.tick()).toEqual([]);
    advance(1_000);
    expect(await t.tick()).toEqual([0]);
    expect(sent).toEqual([[0, now()]]);
  });

  it('ticks an idle partition again only after `every`, and stops once records come', async () => {
    const { t, advance } = ticker();
    t.assign([0]);
    advance(5_000);
    expect(await t.tick()).toEqual([0]);
    advance(500);
    expect(await t.tick()).toEqual([]);
    advance(500);
    expect(await t.tick()).toEqual([0]);
    t.noteRecords(0);
    advance(1_000);
    expect(await t.tick()).toEqual([]);
  });

  it('forgets revoked partitions and counts a newly assigned one as active from its assignment', async () => {
    const { t, advance } = ticker();
    t.assign([0, 1]);
    advance(5_000);
    t.assign([1, 2]);
    t.noteRecords(0); // no longer ours: ignored
    expect(await t.tick()).toEqual([1]);
    advance(5_000);
    expect((await t.tick()).sort()).toEqual([1, 2]);
  });

  it('retries a tick that could not be written at the next interval', async () => {
    const fail = new Set([0]);
    const { t, advance } = ticker({ fail });
    t.assign([0]);
    advance(5_000);
    expect(await t.tick()).toEqual([]);
    fail.clear();
    expect(await t.tick()).toEqual([0]);
  });
});
