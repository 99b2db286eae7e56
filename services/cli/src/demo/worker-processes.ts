import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { REPO_ROOT } from '../stack/settings';

export type WorkerName = 'ingest' | 'scoring' | 'notifier';

/** The three workers as separate OS processes, as they run in production. */
export class WorkerProcesses {
  private readonly children = new Map<WorkerName, ChildProcess>();

  constructor(private readonly logDir: string) {}

  start(name: WorkerName, env: Record<string, string>): string {
    fs.mkdirSync(this.logDir, { recursive: true });
    const logFile = path.join(this.logDir, `${name}.log`);
    // Appended: a restarted worker keeps its predecessor's log.
    const out = fs.openSync(logFile, 'a');
    const child = spawn(process.execPath, [path.join(REPO_ROOT, 'services', name, 'dist', 'main.js')], {
      env: { ...process.env, ...env },
      stdio: ['ignore', out, out],
    });
    fs.closeSync(out);
    this.children.set(name, child);
    return logFile;
  }

  /** Sends SIGTERM to each and waits for it to finish its batch and exit; returns exit codes. */
  async stopAll(timeoutMs = 30_000): Promise<Record<string, number | null>> {
    const codes: Record<string, number | null> = {};
    await Promise.all(
      [...this.children.entries()].map(async ([name, child]) => {
        if (child.exitCode !== null || child.signalCode !== null) {
          codes[name] = child.exitCode;
          return;
        }
        const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
        codes[name] = await exited;
        clearTimeout(timer);
      }),
    );
    this.children.clear();
    return codes;
  }

  /** Sends a signal (SIGKILL for a crash) and waits for the process to be gone. */
  async kill(name: WorkerName, signal: NodeJS.Signals): Promise<void> {
    const child = this.children.get(name);
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill(signal);
    await exited;
    this.children.delete(name);
  }

  exited(): WorkerName[] {
    return [...this.children.entries()].filter(([, c]) => c.exitCode !== null || c.signalCode !== null).map(([n]) => n);
  }
}
