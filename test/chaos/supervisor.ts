import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { REPO_ROOT } from '../../services/cli/src/stack/settings';
import type { WorkerKind } from './schedule';

export interface ExitRecord {
  readonly instance: string;
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly at: number;
  /** When the supervisor started it again; undefined when it was retired or stopped. */
  restartedAt?: number;
}

interface Instance {
  readonly name: string;
  readonly kind: WorkerKind;
  readonly env: Record<string, string>;
  readonly port: number;
  readonly logFile: string;
  child: ChildProcess | undefined;
  startedAt: number;
  /** No restart after the next exit (retired, or the run is over). */
  retired: boolean;
  exited: Promise<void>;
}

/**
 * Runs workers as OS processes and restarts any that exits, 1 s later, as Kubernetes
 * would; records every exit (code, signal) and restart.
 */
export class Supervisor {
  readonly exits: ExitRecord[] = [];
  private readonly instances = new Map<string, Instance>();

  constructor(
    private readonly logDir: string,
    private readonly restartDelayMs = 1_000,
  ) {
    fs.mkdirSync(logDir, { recursive: true });
  }

  start(name: string, kind: WorkerKind, port: number, env: Record<string, string>): void {
    const inst: Instance = { name, kind, env: { ...env, HTTP_PORT: String(port) }, port, logFile: path.join(this.logDir, `${name}.log`), child: undefined, startedAt: 0, retired: false, exited: Promise.resolve() };
    this.instances.set(name, inst);
    this.spawn(inst);
  }

  private spawn(inst: Instance): void {
    const out = fs.openSync(inst.logFile, 'a');
    const child = spawn(process.execPath, [path.join(REPO_ROOT, 'services', inst.kind, 'dist', 'main.js')], { env: { ...process.env, ...inst.env }, stdio: ['ignore', out, out] });
    fs.closeSync(out);
    inst.child = child;
    inst.startedAt = Date.now();
    inst.exited = new Promise<void>((resolve) =>
      child.once('exit', (code, signal) => {
        const record: ExitRecord = { instance: inst.name, code, signal, at: Date.now() };
        this.exits.push(record);
        inst.child = undefined;
        resolve();
        if (inst.retired) return;
        setTimeout(() => {
          if (inst.retired) return;
          record.restartedAt = Date.now();
          this.spawn(inst);
        }, this.restartDelayMs);
      }),
    );
  }

  port(name: string): number {
    return this.get(name).port;
  }

  logFile(name: string): string {
    return this.get(name).logFile;
  }

  names(): string[] {
    return [...this.instances.values()].filter((i) => !i.retired).map((i) => i.name);
  }

  /** When the running process of `name` was started (0 while it is down). */
  startedAt(name: string): number {
    const inst = this.get(name);
    return inst.child ? inst.startedAt : 0;
  }

  /** Signals the running process and waits until it exited; the supervisor restarts it unless retired. */
  async signal(name: string, signal: NodeJS.Signals): Promise<ExitRecord | undefined> {
    const inst = this.get(name);
    const child = inst.child;
    if (!child) return undefined;
    const exited = inst.exited;
    child.kill(signal);
    await exited;
    return this.exits[this.exits.length - 1];
  }

  /** Waits until `name` runs again (after a restart), returning its start time. */
  async running(name: string, timeoutMs = 30_000): Promise<number> {
    const deadline = Date.now() + timeoutMs;
    while (!this.get(name).child) {
      if (Date.now() > deadline) throw new Error(`${name} was not restarted within ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 20));
    }
    return this.get(name).startedAt;
  }

  /** SIGTERM without restart (scale-in), SIGKILL after the grace period. */
  async retire(name: string, graceMs = 30_000): Promise<ExitRecord | undefined> {
    const inst = this.get(name);
    inst.retired = true;
    const child = inst.child;
    if (!child) return undefined;
    const exited = inst.exited;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    await exited;
    clearTimeout(timer);
    return this.exits.filter((e) => e.instance === name).pop();
  }

  /** Retires every instance; returns their last exits. */
  async stopAll(): Promise<ExitRecord[]> {
    const last = await Promise.all([...this.instances.keys()].map((n) => this.retire(n)));
    return last.filter((e): e is ExitRecord => e !== undefined);
  }

  private get(name: string): Instance {
    const inst = this.instances.get(name);
    if (!inst) throw new Error(`no worker instance ${name}`);
    return inst;
  }
}
