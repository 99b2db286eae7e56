import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { REPO_ROOT } from '../../services/cli/src/stack/settings';

export type WorkerBinary = 'ingest' | 'scoring' | 'notifier';

/** A port nothing listens on right now (the OS picks it). */
export async function unusedPort(): Promise<number> {
  const probe = net.createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as net.AddressInfo;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

/** GET a worker's ops endpoint; undefined when nothing answers. */
export async function opsGet(port: number, route: '/healthz' | '/readyz' | '/metrics'): Promise<{ status: number; body: string } | undefined> {
  try {
    const res = await fetch(`http://127.0.0.1:${port}${route}`, { signal: AbortSignal.timeout(3000) });
    return { status: res.status, body: await res.text() };
  } catch {
    return undefined;
  }
}

/** How a worker process ended. */
export interface WorkerExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

/** One worker as an OS process (its built main.js), its output appended to `logFile`. */
export class WorkerChild {
  readonly exited: Promise<WorkerExit>;
  private readonly child: ChildProcess;

  constructor(
    readonly name: WorkerBinary,
    env: Record<string, string>,
    readonly logFile: string,
  ) {
    fs.mkdirSync(path.dirname(logFile), { recursive: true });
    const out = fs.openSync(logFile, 'a');
    this.child = spawn(process.execPath, [path.join(REPO_ROOT, 'services', name, 'dist', 'main.js')], { env: { ...process.env, ...env }, stdio: ['ignore', out, out] });
    fs.closeSync(out);
    this.exited = new Promise((resolve) => this.child.once('exit', (code, signal) => resolve({ code, signal })));
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Sends `signal` and waits for the process to be gone. */
  async kill(signal: NodeJS.Signals): Promise<WorkerExit> {
    if (this.running) this.child.kill(signal);
    return this.exited;
  }

  /** The log so far, for a failure message. */
  log(): string {
    return fs.existsSync(this.logFile) ? fs.readFileSync(this.logFile, 'utf8') : '';
  }
}
