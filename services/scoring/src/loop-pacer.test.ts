import { setImmediate as nextTurn } from 'node:timers/promises';
import { LoopPacer } from './loop-pacer';

describe('LoopPacer', () => {
  let clock = 0;
  const now = () => clock;

  /** Resolves with whether `work` let a setImmediate callback scheduled before it run. */
  async function yieldedDuring(work: () => Promise<void>): Promise<boolean> {
    let ran = false;
    setImmediate(() => (ran = true));
    await work();
    const result = ran;
    await nextTurn();
    return result;
  }

  it('gives the event loop a turn only once a slice is used up', async () => {
    clock = 0;
    const pacer = new LoopPacer({ sliceMs: 10, now });
    clock = 5;
    expect(await yieldedDuring(() => pacer.pace())).toBe(false);
    clock = 12;
    expect(await yieldedDuring(() => pacer.pace())).toBe(true);
    // A new slice starts after the turn.
    clock = 15;
    expect(await yieldedDuring(() => pacer.pace())).toBe(false);
    expect(pacer.elapsedMs()).toBe(15);
  });

  it('lets a timer fire during a long run of paced work', async () => {
    clock = 0;
    const pacer = new LoopPacer({ sliceMs: 10, now });
    let fired = false;
    setTimeout(() => (fired = true), 0);
    const started = Date.now();
    // Work that never awaits anything but pace(): without the turns the timer would wait for its end.
    while (!fired && Date.now() - started < 2000) {
      clock += 11;
      await pacer.pace();
    }
    expect(fired).toBe(true);
  });

  it('drives a generator to its end, passing each answer back', async () => {
    clock = 0;
    function* steps(): Generator<string, string[], boolean> {
      const answers: string[] = [];
      for (const s of ['a', 'b', 'c']) answers.push(`${s}:${String(yield s)}`);
      return answers;
    }
    const pacer = new LoopPacer({ sliceMs: 10, now });
    expect(await pacer.drive(steps(), (s) => s === 'b')).toEqual(['a:false', 'b:true', 'c:false']);
  });
});
