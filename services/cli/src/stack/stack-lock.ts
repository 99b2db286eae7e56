import fs from 'node:fs';
import path from 'node:path';
import { TierstreamError } from '@tierstream/runtime';
import { alive } from './process-control';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Runs `fn` holding the run directory's lock, so that two `stack up` (a test run and a
 * demo started together) do not both format Kafka's storage or start a second broker: the
 * second waits, then finds the stack up. The lock file holds the owner's PID; a lock whose
 * owner is gone (kill -9) is taken over.
 */
export async function withStackLock<T>(runDir: string, timeoutMs: number, fn: () => Promise<T>, onWait: (owner: number) => void = () => undefined): Promise<T> {
  fs.mkdirSync(runDir, { recursive: true });
  const file = path.join(runDir, 'stack.lock');
  const deadline = Date.now() + timeoutMs;
  let told = false;
  for (;;) {
    try {
      fs.writeFileSync(file, String(process.pid), { flag: 'wx' });
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const owner = Number(fs.readFileSync(file, 'utf8').trim());
    if (!Number.isInteger(owner) || owner <= 0 || !alive(owner)) {
      // Stale: its owner died. Removing it races only with another taker, and `wx` decides.
      fs.rmSync(file, { force: true });
      continue;
    }
    if (Date.now() > deadline) {
      throw new TierstreamError('TS_ERR_STACK_START', `another tierctl (pid ${owner}) has held ${file} for more than ${Math.round(timeoutMs / 1000)} s`, { context: { owner, file } });
    }
    if (!told) onWait(owner);
    told = true;
    await sleep(250);
  }
  try {
    return await fn();
  } finally {
    if (fs.readFileSync(file, 'utf8').trim() === String(process.pid)) fs.rmSync(file, { force: true });
  }
}
