import type { ChaosStack } from './chaos-stack';
import type { DuplicateWindow } from './invariants';
import { sleep, WEBHOOK_TIMEOUT_MS, type PipelineRun } from './pipeline-run';
import { describeFault, type Fault, type StackPart, type WorkerKind } from './schedule';

/** What the workers' /readyz said while a part was down. */
export interface ReadinessSeen {
  readonly polls: number;
  /** Answers 503 whose failing checks name the part that is down. */
  readonly notReadyNamingPart: number;
  readonly unreachable: number;
  readonly failingChecks: readonly string[];
}

export interface FaultRecord {
  readonly index: number;
  readonly fault: Fault;
  readonly description: string;
  readonly startedAt: number;
  /** When the fault ended: the worker's restart, or the part healthy again. */
  endedAt: number;
  /** From endedAt until the pipeline made progress again; null when it did not within the limit. */
  recoveryMs: number | null;
  readonly notes: string[];
  readiness?: Record<string, ReadinessSeen>;
}

/** The /readyz check that names each part (services/runtime worker-host.ts). */
const CHECK_OF: Record<StackPart, string> = { kafka: 'kafka', redis: 'redis', 'schema-registry': 'schemaRegistry' };
const RECOVERY_LIMIT_MS = 180_000;

/** Where the duplicate window of docs/delivery-guarantees.md opens: the notifier killed, Redis gone. */
function windowsOf(fault: Fault, index: number, at: number): DuplicateWindow[] {
  const cause = `fault ${index + 1} (${describeFault(fault)})`;
  const notifierKilled = (fault.kind === 'kill-worker' || fault.kind === 'kill-notifier-delivering' || fault.kind === 'kill-worker-joining') && fault.worker === 'notifier';
  // Deliveries on the wire (sent up to timeoutMs before) or answered but not yet remembered.
  if (notifierKilled) return [{ cause, from: at - WEBHOOK_TIMEOUT_MS, to: at + 1_000 }];
  // Deliveries in hand whose SET fails: the batch leaves once a command fails (reconnects or
  // REDIS_COMMAND_TIMEOUT_MS), so the last of them start a few seconds after Redis went.
  if (fault.kind === 'stop-part' && fault.part === 'redis') return [{ cause, from: at - WEBHOOK_TIMEOUT_MS, to: at + 10_000 }];
  return [];
}

/**
 * Runs a fault schedule against a pipeline: each fault after its gap, then waits for the
 * pipeline to make progress again and records how long that took.
 */
export class FaultInjector {
  readonly records: FaultRecord[] = [];
  readonly windows: DuplicateWindow[] = [];
  current = 0;
  currentStartedAt = 0;

  constructor(
    private readonly stack: ChaosStack,
    private readonly run: PipelineRun,
    private readonly log: (line: string) => void,
    private readonly feedDone: () => boolean,
  ) {}

  async runAll(faults: readonly Fault[]): Promise<void> {
    for (const [index, fault] of faults.entries()) {
      this.current = index;
      this.currentStartedAt = Date.now();
      await sleep(fault.gapMs);
      const record: FaultRecord = { index, fault, description: describeFault(fault), startedAt: Date.now(), endedAt: 0, recoveryMs: null, notes: [] };
      this.records.push(record);
      this.log(`fault ${index + 1}/${faults.length}: ${record.description}`);
      const restarted = await this.inject(fault, record);
      record.endedAt = Date.now();
      record.recoveryMs = await this.recovery(fault, record.endedAt, restarted);
      this.log(`  ended; recovered ${record.recoveryMs === null ? 'NOT within the limit' : `in ${(record.recoveryMs / 1000).toFixed(1)} s`}${record.notes.length ? `; ${record.notes.join('; ')}` : ''}`);
    }
    this.current = faults.length;
  }

  /** Injects one fault; returns the worker instance restarted by it, if any. */
  private async inject(fault: Fault, record: FaultRecord): Promise<string | undefined> {
    const sup = this.run.supervisor;
    switch (fault.kind) {
      case 'kill-worker': {
        await this.kill(fault, fault.worker);
        await sup.running(fault.worker);
        return fault.worker;
      }
      case 'kill-notifier-delivering': {
        const deadline = Date.now() + 60_000;
        while (Date.now() - this.run.receiver.lastArrival > 20 && Date.now() < deadline) await sleep(5);
        record.notes.push(Date.now() - this.run.receiver.lastArrival <= 20 ? 'deliveries were arriving at the kill' : 'no delivery arrived for 60 s: killed anyway');
        await this.kill(fault, 'notifier');
        await sup.running('notifier');
        return 'notifier';
      }
      case 'kill-worker-joining': {
        await this.kill(fault, fault.worker);
        const startedAt = await sup.running(fault.worker);
        await sleep(Math.max(0, startedAt + fault.afterRestartMs - Date.now()));
        const ready = await this.run.ready(fault.worker);
        record.notes.push(`second kill ${Date.now() - startedAt} ms after the restart (${ready.ok ? 'already ready' : 'not ready yet'})`);
        await this.kill(fault, fault.worker);
        await sup.running(fault.worker);
        return fault.worker;
      }
      case 'sigterm-rebalance': {
        const replica = `${fault.worker}-2`;
        await this.run.startReplica(replica, fault.worker);
        await sleep(fault.afterJoinMs);
        const exit = await sup.signal(fault.worker, 'SIGTERM');
        record.notes.push(`SIGTERM ${fault.afterJoinMs} ms after ${replica} started: exit ${exit?.code ?? exit?.signal ?? '?'}`);
        await sup.running(fault.worker);
        // Scale in again once the group settled, so later faults meet one replica of each.
        const afterRestart = await this.recovery(fault, Date.now(), fault.worker);
        record.notes.push(`progress ${afterRestart === null ? 'NOT within the limit' : `${(afterRestart / 1000).toFixed(1)} s`} after its restart`);
        const retired = await sup.retire(replica);
        record.notes.push(`${replica} retired (SIGTERM): exit ${retired?.code ?? retired?.signal ?? '?'}`);
        return fault.worker;
      }
      case 'stop-part': {
        const stoppedAt = Date.now();
        await this.stack.stop(fault.part, fault.signal);
        this.windows.push(...windowsOf(fault, this.current, stoppedAt));
        if (fault.outage) {
          const readiness = await this.watchReadiness(fault.part, stoppedAt + fault.downMs);
          record.readiness = readiness;
          record.notes.push(`/readyz naming ${CHECK_OF[fault.part]}: ${Object.entries(readiness).map(([w, r]) => `${w} ${r.notReadyNamingPart}/${r.polls}${r.unreachable ? ` (${r.unreachable} unanswered)` : ''}`).join(', ')}`);
        } else await sleep(Math.max(0, stoppedAt + fault.downMs - Date.now()));
        const upBegun = Date.now();
        await this.stack.up();
        record.notes.push(`down ${((upBegun - stoppedAt) / 1000).toFixed(1)} s, start took ${((Date.now() - upBegun) / 1000).toFixed(1)} s`);
        return undefined;
      }
    }
  }

  private async kill(fault: Fault, worker: WorkerKind): Promise<void> {
    const at = Date.now();
    await this.run.supervisor.signal(worker, 'SIGKILL');
    this.windows.push(...windowsOf(fault, this.current, at));
  }

  /** Polls every worker's /readyz until `until`. */
  private async watchReadiness(part: StackPart, until: number): Promise<Record<string, ReadinessSeen>> {
    const seen: Record<string, { polls: number; notReadyNamingPart: number; unreachable: number; failing: Set<string> }> = {};
    while (Date.now() < until) {
      const polled = Date.now();
      await Promise.all(
        this.run.supervisor.names().map(async (name) => {
          const s = (seen[name] ??= { polls: 0, notReadyNamingPart: 0, unreachable: 0, failing: new Set() });
          const r = await this.run.ready(name);
          s.polls++;
          if (!r.reachable) s.unreachable++;
          if (!r.ok && r.failing.includes(CHECK_OF[part])) s.notReadyNamingPart++;
          for (const f of r.failing) s.failing.add(f);
        }),
      );
      await sleep(Math.max(0, 1_000 - (Date.now() - polled)));
    }
    return Object.fromEntries(Object.entries(seen).map(([n, s]) => [n, { polls: s.polls, notReadyNamingPart: s.notReadyNamingPart, unreachable: s.unreachable, failingChecks: [...s.failing] }]));
  }

  /**
   * From `since` until the pipeline makes progress again: a restarted worker's first batch
   * (its events-in counter leaves 0) and, for the stack, every group's committed offsets
   * advancing. A group with nothing left to consume counts as progressing (for a restarted
   * worker only once the feed is over: until then new records keep coming).
   */
  private async recovery(fault: Fault, since: number, restarted: string | undefined): Promise<number | null> {
    const deadline = since + RECOVERY_LIMIT_MS;
    if (restarted !== undefined) {
      const kind = fault.kind === 'stop-part' ? undefined : fault.worker;
      const group = this.run.groups.find((g) => g.worker === kind);
      while (Date.now() < deadline) {
        if ((await this.run.eventsIn(restarted)) > 0) return Date.now() - since;
        // Once the feed is over a caught-up group may get nothing more to consume.
        if (this.feedDone() && group && (await this.run.position(group).catch(() => undefined))?.behind === 0) return Date.now() - since;
        await sleep(200);
      }
      return null;
    }
    const base = new Map<string, number>();
    while (base.size < this.run.groups.length && Date.now() < deadline) {
      for (const g of this.run.groups) {
        const p = await this.run.position(g).catch(() => undefined);
        if (p) base.set(g.group, p.committed);
      }
      if (base.size < this.run.groups.length) await sleep(200);
    }
    const done = new Set<string>();
    while (Date.now() < deadline) {
      for (const g of this.run.groups) {
        if (done.has(g.group)) continue;
        const p = await this.run.position(g).catch(() => undefined);
        if (p && (p.committed > (base.get(g.group) ?? 0) || p.behind === 0)) done.add(g.group);
      }
      if (done.size === this.run.groups.length) return Date.now() - since;
      await sleep(200);
    }
    return null;
  }
}
