import fs from 'node:fs';
import path from 'node:path';
import { TierstreamError } from '@tierstream/runtime';
import { kafkaComponent, redisComponent, registryComponent, type StackComponent } from './components';
import { waitHealthy } from './health';
import { alive, portInUse, runningPid, stopProcess, tail } from './process-control';
import { localEndpoints, type LocalEndpoints, type StackSettings } from './settings';
import { withStackLock } from './stack-lock';

export type ComponentState = 'healthy' | 'started' | 'unhealthy' | 'stopped';

export interface ComponentStatus {
  readonly name: StackComponent['name'];
  readonly state: ComponentState;
  readonly pid: number | undefined;
  readonly detail: string | undefined;
  readonly logFile: string;
}

export interface StackReport {
  readonly endpoints: LocalEndpoints;
  readonly runDir: string;
  readonly components: readonly ComponentStatus[];
  /** True when `up` had nothing to start. */
  readonly alreadyUp: boolean;
}

/** The Docker-less single-node stack: Redis, Kafka (KRaft) and Apicurio Registry as local processes. */
export class LocalStack {
  private readonly components: readonly StackComponent[];

  constructor(
    private readonly settings: StackSettings,
    private readonly progress: (line: string) => void = () => undefined,
  ) {
    // Order matters: the registry keeps its state in Kafka.
    this.components = [redisComponent(settings), kafkaComponent(settings), registryComponent(settings)];
  }

  get endpoints(): LocalEndpoints {
    return localEndpoints(this.settings);
  }

  up(): Promise<StackReport> {
    return this.locked(() => this.upUnlocked());
  }

  down(): Promise<string[]> {
    return this.locked(() => this.downUnlocked());
  }

  /** One up or down at a time per run directory (see withStackLock). */
  private locked<T>(fn: () => Promise<T>): Promise<T> {
    return withStackLock(this.settings.runDir, 3 * this.settings.startTimeoutMs, fn, (owner) => this.progress(`waiting for tierctl pid ${owner}, which is starting or stopping this stack`));
  }

  private async upUnlocked(): Promise<StackReport> {
    fs.mkdirSync(path.join(this.settings.runDir, 'logs'), { recursive: true });
    const statuses: ComponentStatus[] = [];
    let started = 0;
    // Redis and Kafka are independent: bring both up together, then the registry.
    const [redis, kafka, registry] = this.components as [StackComponent, StackComponent, StackComponent];
    const first = await Promise.all([this.ensure(redis), this.ensure(kafka)]);
    statuses.push(...first);
    statuses.push(await this.ensure(registry));
    started = statuses.filter((s) => s.state === 'started').length;
    return { endpoints: this.endpoints, runDir: this.settings.runDir, components: statuses, alreadyUp: started === 0 };
  }

  private async downUnlocked(): Promise<string[]> {
    const stopped: string[] = [];
    // Reverse order: the registry first, so it does not log a lost broker on its way out.
    for (const c of [...this.components].reverse()) {
      if (await stopProcess(c.process)) {
        stopped.push(c.name);
        this.progress(`${c.name}: stopped`);
      }
    }
    return stopped;
  }

  async status(): Promise<ComponentStatus[]> {
    return Promise.all(
      this.components.map(async (c) => {
        const pid = runningPid(c.process);
        const failure = await c.probe();
        const state: ComponentState = failure === undefined ? 'healthy' : pid === undefined ? 'stopped' : 'unhealthy';
        return { name: c.name, state, pid, detail: failure, logFile: c.process.logFile };
      }),
    );
  }

  private async ensure(c: StackComponent): Promise<ComponentStatus> {
    const pid = runningPid(c.process);
    if (pid !== undefined) {
      const failure = await waitHealthy(c.probe, this.settings.startTimeoutMs, () => runningPid(c.process) !== undefined);
      if (failure === undefined) {
        this.progress(`${c.name}: already running (pid ${pid})`);
        return { name: c.name, state: 'healthy', pid, detail: undefined, logFile: c.process.logFile };
      }
      throw this.startError(c, `is running (pid ${pid}) but ${failure}`);
    }
    for (const port of c.ports) {
      if (await portInUse(port)) {
        throw new TierstreamError(
          'TS_ERR_STACK_PORT_IN_USE',
          `${c.name}: port ${port} is taken by a process this stack did not start; stop it or choose other ports (see docs/local-stack.md)`,
          { context: { component: c.name, port } },
        );
      }
    }
    const begun = Date.now();
    this.progress(`${c.name}: preparing`);
    await c.prepare();
    const startedPid = c.start();
    this.progress(`${c.name}: starting (log ${c.process.logFile})`);
    // Plain liveness of the PID we just started: its /proc cwd is the parent's until the
    // child has changed directory, so the ownership check would race here.
    const failure = await waitHealthy(c.probe, this.settings.startTimeoutMs, () => alive(startedPid));
    if (failure !== undefined) throw this.startError(c, failure);
    const newPid = runningPid(c.process);
    this.progress(`${c.name}: healthy in ${((Date.now() - begun) / 1000).toFixed(1)} s (pid ${newPid})`);
    return { name: c.name, state: 'started', pid: newPid, detail: undefined, logFile: c.process.logFile };
  }

  private startError(c: StackComponent, failure: string): TierstreamError {
    return new TierstreamError('TS_ERR_STACK_START', `${c.name} did not become healthy: ${failure}\nlog: ${c.process.logFile}\n${tail(c.process.logFile)}`, {
      context: { component: c.name, logFile: c.process.logFile },
    });
  }
}
