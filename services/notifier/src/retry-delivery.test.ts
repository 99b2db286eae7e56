import { abortReason, deliverWithRetry, DeliveryAbortedError } from './retry-delivery';
import type { AttemptResult } from './webhook-attempt';

const ok: AttemptResult = { kind: 'delivered', status: 200, label: '2xx' };
const fail500: AttemptResult = { kind: 'retry', status: 500, label: '5xx', reason: 'POST http://r/ answered 500' };
const timeout: AttemptResult = { kind: 'retry', label: 'timeout', reason: 'POST http://r/: no answer within 50 ms' };
const refused: AttemptResult = { kind: 'rejected', status: 400, label: '4xx', reason: 'POST http://r/ answered 400: bad payload' };
const policy = { maxAttempts: 4, backoff: { initialMs: 100, maxMs: 1000 } };

/** Attempts answering the given results in turn, counting calls; sleeps recorded, not slept. */
function scripted(...results: AttemptResult[]) {
  const calls: number[] = [];
  const sleeps: number[] = [];
  return {
    calls,
    sleeps,
    attempt: (n: number) => {
      calls.push(n);
      const result = results[Math.min(n - 1, results.length - 1)];
      if (!result) throw new Error('no scripted result');
      return Promise.resolve(result);
    },
    sleep: (ms: number) => {
      sleeps.push(ms);
      return Promise.resolve();
    },
  };
}

describe('deliverWithRetry', () => {
  it('delivers on the first attempt without sleeping', async () => {
    const s = scripted(ok);
    await expect(deliverWithRetry(s.attempt, policy, { sleep: s.sleep })).resolves.toEqual({ kind: 'delivered', attempts: 1 });
    expect(s.sleeps).toEqual([]);
  });

  it('retries 5xx and timeouts with exponential backoff, then delivers once', async () => {
    const s = scripted(fail500, timeout, ok);
    const outcome = await deliverWithRetry(s.attempt, policy, { sleep: s.sleep, random: () => 0.5 });
    expect(outcome).toEqual({ kind: 'delivered', attempts: 3 });
    expect(s.calls).toEqual([1, 2, 3]);
    expect(s.sleeps).toEqual([50, 100]); // half of 100, then half of 200
  });

  it('does not retry a refusal: one attempt, rejected with its status and reason', async () => {
    const s = scripted(refused, ok);
    await expect(deliverWithRetry(s.attempt, policy, { sleep: s.sleep })).resolves.toEqual({ kind: 'rejected', attempts: 1, status: 400, reason: refused.kind === 'rejected' ? refused.reason : '' });
    expect(s.calls).toEqual([1]);
    expect(s.sleeps).toEqual([]);
  });

  it('gives up after maxAttempts retried failures, naming the count and the last failure', async () => {
    const s = scripted(fail500, fail500, fail500, timeout, ok);
    const outcome = await deliverWithRetry(s.attempt, policy, { sleep: s.sleep });
    expect(outcome.kind).toBe('exhausted');
    expect(outcome.attempts).toBe(4);
    expect(outcome.kind === 'exhausted' && outcome.reason).toBe('4 attempts failed, the last: POST http://r/: no answer within 50 ms');
    expect(s.calls).toEqual([1, 2, 3, 4]);
    expect(s.sleeps).toHaveLength(3);
  });

  it('makes exactly one attempt when maxAttempts is 1', async () => {
    const s = scripted(fail500);
    await expect(deliverWithRetry(s.attempt, { ...policy, maxAttempts: 1 }, { sleep: s.sleep })).resolves.toMatchObject({ kind: 'exhausted', attempts: 1 });
  });

  it("waits the receiver's Retry-After instead of the backoff", async () => {
    const s = scripted({ kind: 'retry', status: 429, label: '4xx', reason: 'answered 429', retryAfterMs: 700 }, ok);
    await deliverWithRetry(s.attempt, policy, { sleep: s.sleep, random: () => 0 });
    expect(s.sleeps).toEqual([700]);
  });

  it('reports each attempt and each retry to its hooks', async () => {
    const s = scripted(fail500, ok);
    const attempts: string[] = [];
    const retries: number[] = [];
    await deliverWithRetry(s.attempt, policy, { sleep: s.sleep, random: () => 0.25, onAttempt: (r) => attempts.push(r.label), onRetry: (_r, n, delay) => retries.push(n, delay) });
    expect(attempts).toEqual(['5xx', '2xx']);
    expect(retries).toEqual([1, 25]);
  });

  it('stops between attempts when aborted during a backoff, throwing the abort reason', async () => {
    const controller = new AbortController();
    const s = scripted(fail500, ok);
    const reason = new DeliveryAbortedError('stopping');
    const attempt = (n: number) => {
      if (n === 1) setImmediate(() => controller.abort(reason));
      return s.attempt(n);
    };
    await expect(deliverWithRetry(attempt, { ...policy, backoff: { initialMs: 60_000, maxMs: 60_000 } }, { signal: controller.signal, random: () => 0.99 })).rejects.toBe(reason);
    expect(s.calls).toEqual([1]);
  });

  it('does not start an attempt when already aborted', async () => {
    const controller = new AbortController();
    controller.abort();
    const s = scripted(ok);
    await expect(deliverWithRetry(s.attempt, policy, { signal: controller.signal })).rejects.toBeInstanceOf(DeliveryAbortedError);
    expect(s.calls).toEqual([]);
  });
});

describe('abortReason', () => {
  it('keeps an Error reason and replaces anything else with a retriable TS_ERR_DELIVERY_ABORTED', () => {
    const c1 = new AbortController();
    const err = new Error('rebalance');
    c1.abort(err);
    expect(abortReason(c1.signal)).toBe(err);
    const c2 = new AbortController();
    c2.abort('why');
    expect(abortReason(c2.signal)).toMatchObject({ code: 'TS_ERR_DELIVERY_ABORTED', retriable: true });
  });
});
