import { setImmediate as nextTurn } from 'node:timers/promises';

export interface LoopPacerOptions {
  /** Longest run of synchronous work between two turns of the event loop. */
  readonly sliceMs: number;
  readonly now?: () => number;
}

/**
 * Breaks a long batch into slices of synchronous work: `pace()` between two steps gives the
 * event loop a turn once the slice has run `sliceMs`, so /healthz, /readyz, timers (the
 * consumer's heartbeat during a batch among them) and the Kafka and Redis sockets are served.
 * Awaiting a resolved promise does not do this: microtasks run before any I/O.
 */
export class LoopPacer {
  private readonly now: () => number;
  private readonly startedAt: number;
  private sliceStart: number;

  constructor(private readonly options: LoopPacerOptions) {
    this.now = options.now ?? (() => performance.now());
    this.startedAt = this.now();
    this.sliceStart = this.startedAt;
  }

  /** Milliseconds since the pacer was created: the batch's age. */
  elapsedMs(): number {
    return this.now() - this.startedAt;
  }

  async pace(): Promise<void> {
    const now = this.now();
    if (now - this.sliceStart < this.options.sliceMs) return;
    await nextTurn();
    this.sliceStart = this.now();
  }

  /** Steps a plan to its end, a turn of the loop whenever a slice is used up; `answer` replies to each step. */
  async drive<S, R>(steps: Generator<S, R, boolean>, answer: (step: S) => boolean): Promise<R> {
    let reply = false;
    for (;;) {
      const next = steps.next(reply);
      if (next.done) return next.value;
      reply = answer(next.value);
      await this.pace();
    }
  }

  /** Maps `items` one by one (each an await, e.g. an Avro encode), pacing between them. */
  async map<T, U>(items: readonly T[], f: (item: T) => Promise<U> | U): Promise<U[]> {
    const out: U[] = [];
    for (const item of items) {
      out.push(await f(item));
      await this.pace();
    }
    return out;
  }
}
