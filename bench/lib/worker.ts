import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import type { Admin } from 'kafkajs';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** A port nobody listens on now (the OS picks it). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** Sum of a Prometheus sample over the lines whose labels contain `label` (all lines when ''). */
export function metricValue(text: string, name: string, label = ''): number {
  let total = 0;
  for (const line of text.split('\n')) {
    if (!(line.startsWith(`${name}{`) || line.startsWith(`${name} `)) || !line.includes(label)) continue;
    total += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return total;
}

/** A real worker (`node services/<worker>/dist/main.js`, scoring by default) as a child process. */
export class ScoringProcess {
  private child: ChildProcess | undefined;
  readonly logFile: string;
  readonly profileDir: string | undefined;

  constructor(
    private readonly main: string,
    private readonly env: Record<string, string>,
    readonly httpPort: number,
    dir: string,
    cpuProfile: boolean,
    readonly name = 'scoring',
  ) {
    this.logFile = path.join(dir, `${name}.log`);
    this.profileDir = cpuProfile ? path.join(dir, `${name}-cpu-profile`) : undefined;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  private exited(): boolean {
    return !this.child || this.child.exitCode !== null || this.child.signalCode !== null;
  }

  start(): void {
    const out = fs.openSync(this.logFile, 'a');
    const flags = this.profileDir ? ['--cpu-prof', `--cpu-prof-dir=${this.profileDir}`] : [];
    this.child = spawn(process.execPath, [...flags, this.main], {
      env: { ...process.env, ...this.env },
      stdio: ['ignore', out, out],
    });
    fs.closeSync(out);
  }

  logTail(lines = 20): string {
    try {
      return fs.readFileSync(this.logFile, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
    } catch {
      return '(no log)';
    }
  }

  /** Waits for GET /readyz to answer 200 (Kafka, registry and Redis reachable). */
  async waitReady(timeoutMs = 90_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (this.exited()) throw new Error(`the ${this.name} worker exited during start:\n${this.logTail()}`);
      try {
        const res = await fetch(`http://127.0.0.1:${this.httpPort}/readyz`, { signal: AbortSignal.timeout(2000) });
        if (res.ok) return;
      } catch {
        // not listening yet
      }
      await sleep(250);
    }
    throw new Error(`the ${this.name} worker was not ready after ${timeoutMs / 1000} s:\n${this.logTail()}`);
  }

  /** The worker's /metrics text; throws if it has exited. */
  async metrics(): Promise<string> {
    if (this.exited()) throw new Error(`the ${this.name} worker exited:\n${this.logTail()}`);
    return (await fetch(`http://127.0.0.1:${this.httpPort}/metrics`, { signal: AbortSignal.timeout(5000) })).text();
  }

  /** Peak resident set size so far (VmHWM of /proc/<pid>/status, Linux); undefined elsewhere or once exited. */
  peakRssBytes(): number | undefined {
    if (this.exited() || this.child?.pid === undefined) return undefined;
    try {
      const kb = /^VmHWM:\s+(\d+) kB$/m.exec(fs.readFileSync(`/proc/${this.child.pid}/status`, 'utf8'))?.[1];
      return kb === undefined ? undefined : Number(kb) * 1024;
    } catch {
      return undefined;
    }
  }

  assertRunning(): void {
    if (this.exited()) throw new Error(`the ${this.name} worker exited (code ${String(this.child?.exitCode)}, signal ${String(this.child?.signalCode)}):\n${this.logTail()}`);
  }

  /** SIGTERM (the worker finishes its batch, commits and leaves the group), SIGKILL after `timeoutMs`. */
  async stop(timeoutMs = 30_000): Promise<number | null> {
    const child = this.child;
    if (!child || this.exited()) return child?.exitCode ?? null;
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    const code = await exited;
    clearTimeout(timer);
    return code;
  }

  /** Last resort on exit of the benchmark: never leave the worker running. */
  killNow(): void {
    if (!this.exited()) this.child?.kill('SIGKILL');
  }
}

/** Waits until the workers' consumer group is stable with every replica holding partitions (ready does not mean joined). */
export async function waitForAssignment(admin: Admin, groupId: string, workers: readonly ScoringProcess[], timeoutMs = 90_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    for (const w of workers) w.assertRunning();
    const { groups } = await admin.describeGroups([groupId]);
    const group = groups[0];
    if (group?.state === 'Stable' && group.members.length === workers.length && group.members.every((m) => m.memberAssignment.length > 0)) return;
    await sleep(250);
  }
  throw new Error(`the scoring workers' group ${groupId} had no stable assignment for ${workers.length} member(s) after ${timeoutMs / 1000} s`);
}
