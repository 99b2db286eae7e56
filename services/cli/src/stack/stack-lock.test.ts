import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { withStackLock } from './stack-lock';

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'stack-lock-'));
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('withStackLock', () => {
  it('runs two holders one after the other, never together, and removes the lock', async () => {
    const dir = tmp();
    const log: string[] = [];
    const holder = (name: string) => withStackLock(dir, 10_000, async () => {
      log.push(`${name} in`);
      await sleep(300);
      log.push(`${name} out`);
    });
    await Promise.all([holder('a'), holder('b')]);
    expect([['a in', 'a out', 'b in', 'b out'], ['b in', 'b out', 'a in', 'a out']]).toContainEqual(log);
    expect(fs.existsSync(path.join(dir, 'stack.lock'))).toBe(false);
  });

  it('takes over a lock whose owner is gone', async () => {
    const dir = tmp();
    const dead = spawnSync('true').pid as number; // exited already
    fs.writeFileSync(path.join(dir, 'stack.lock'), String(dead));
    expect(await withStackLock(dir, 2_000, async () => 'ran')).toBe('ran');
  });

  it('gives up after the timeout on a lock a live process holds, naming it', async () => {
    const dir = tmp();
    fs.writeFileSync(path.join(dir, 'stack.lock'), String(process.ppid));
    await expect(withStackLock(dir, 600, async () => 'ran')).rejects.toThrow(`another tierctl (pid ${process.ppid}) has held`);
  });

  it('releases the lock when the holder throws', async () => {
    const dir = tmp();
    await expect(withStackLock(dir, 1_000, async () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expect(fs.existsSync(path.join(dir, 'stack.lock'))).toBe(false);
  });
});
