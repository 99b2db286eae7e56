import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import { TierstreamError } from '@tierstream/runtime';

/** One long-running server the stack started: its PID file and log file. */
export interface ManagedProcess {
  readonly name: string;
  readonly pidFile: string;
  readonly logFile: string;
  /** The working directory it was started in: a recycled PID with another cwd is never mistaken for it. */
  readonly workDir: string;
}

function readPid(pidFile: string): number | undefined {
  try {
    const pid = Number(fs.readFileSync(pidFile, 'utf8').trim());
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

function workingDirectory(pid: number): string | undefined {
  try {
    return fs.readlinkSync(`/proc/${pid}/cwd`);
  } catch {
    return undefined;
  }
}

/** The PID of the process if it is alive and is the one we started; undefined otherwise. */
export function runningPid(proc: ManagedProcess): number | undefined {
  const pid = readPid(proc.pidFile);
  if (pid === undefined) return undefined;
  return fs.existsSync(proc.workDir) && workingDirectory(pid) === fs.realpathSync(proc.workDir) ? pid : undefined;
}

export function startDetached(proc: ManagedProcess, command: string, args: readonly string[], env: NodeJS.ProcessEnv): number {
  const out = fs.openSync(proc.logFile, 'a');
  const child = spawn(command, [...args], { cwd: proc.workDir, env, detached: true, stdio: ['ignore', out, out] });
  fs.closeSync(out);
  // A spawn failure (ENOENT) also arrives as an 'error' event; the missing pid below reports it.
  child.once('error', () => undefined);
  if (child.pid === undefined) {
    throw new TierstreamError('TS_ERR_STACK_PREREQUISITE', `${proc.name}: could not start '${command}': not found or not executable`, {
      context: { component: proc.name, command },
    });
  }
  child.unref();
  fs.writeFileSync(proc.pidFile, `${child.pid}\n`);
  return child.pid;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Whether a process with this PID exists (signal 0 probes without signalling). */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** SIGTERM, then SIGKILL after the grace period. Returns whether a process was stopped. */
export async function stopProcess(proc: ManagedProcess, graceMs = 30_000): Promise<boolean> {
  const pid = runningPid(proc);
  fs.rmSync(proc.pidFile, { force: true });
  if (pid === undefined) return false;
  process.kill(pid, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (alive(pid) && Date.now() < deadline) await sleep(200);
  if (alive(pid)) {
    process.kill(pid, 'SIGKILL');
    while (alive(pid)) await sleep(100);
  }
  return true;
}

/** Whether something already listens on 127.0.0.1:port. */
export function portInUse(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** The last lines of a log, for error messages that point at what went wrong. */
export function tail(file: string, lines = 15): string {
  try {
    return fs.readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log yet)';
  }
}
