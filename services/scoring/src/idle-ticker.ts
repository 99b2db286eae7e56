import type { Logger } from '@tierstream/runtime';

export interface IdleTickerOptions {
  /** How often an idle partition is ticked. */
  readonly everyMs: number;
  /** A partition with no records for this long is idle. */
  readonly idleAfterMs: number;
  /** Writes a clock tick at `time` into the partition (scoring then consumes it like any record). */
  readonly send: (partition: number, time: number) => Promise<void>;
  readonly now: () => number;
  readonly logger: Logger;
}

/**
 * The wall-clock tick for idle input partitions. Event time only moves with records, so a
 * partition that receives none would never sweep its customers, nor end their pins. The
 * ticker writes a clock tick record into each assigned partition that has been idle
 * `idleAfterMs`, every `everyMs`; scoring consumes it like any record, so its sweep is
 * fenced and replayed exactly like one triggered by events.
 */
export class IdleTicker {
  private readonly lastRecord = new Map<number, number>();
  private readonly lastTick = new Map<number, number>();
  private timer: NodeJS.Timeout | undefined;
  private sending: Promise<void> = Promise.resolve();

  constructor(private readonly options: IdleTickerOptions) {}

  /** The partitions this member owns now; a newly assigned one counts as active from now. */
  assign(partitions: readonly number[]): void {
    const now = this.options.now();
    for (const p of [...this.lastRecord.keys()]) if (!partitions.includes(p)) this.lastRecord.delete(p);
    for (const p of partitions) if (!this.lastRecord.has(p)) this.lastRecord.set(p, now);
  }

  /** A partition delivered records other than ticks. */
  noteRecords(partition: number): void {
    if (this.lastRecord.has(partition)) this.lastRecord.set(partition, this.options.now());
  }

  start(): void {
    this.timer = setInterval(() => {
      this.sending = this.sending.then(async () => {
        await this.tick();
      });
    }, Math.min(this.options.everyMs, this.options.idleAfterMs));
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.sending;
  }

  /** Ticks every idle partition that is due one; the idle ones at `now`. Returns the partitions ticked. */
  async tick(): Promise<number[]> {
    const now = this.options.now();
    const ticked: number[] = [];
    for (const [partition, last] of this.lastRecord) {
      if (now - last < this.options.idleAfterMs || now - (this.lastTick.get(partition) ?? 0) < this.options.everyMs) continue;
      try {
        await this.options.send(partition, now);
        this.lastTick.set(partition, now);
        ticked.push(partition);
      } catch (err) {
        // The next interval tries again; a missed tick only delays the sweep.
        this.options.logger.warn({ err, partition }, 'clock tick not written');
      }
    }
    return ticked;
  }
}
