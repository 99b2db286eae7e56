// Does a kill -9 of Redis with `appendfsync everysec` (as the local stack runs it) lose writes
// it acknowledged? Starts its own redis-server on a private port and directory (never the
// stack's), lets one client write in a loop (INCR a counter + a 16 KiB value, in MULTI), kills
// the server with SIGKILL at a random moment, restarts it from its AOF and compares the counter
// with the last value the client saw acknowledged. docs/delivery-guarantees.md#redis-durability
// explains why that matters. Usage: node bench/dist/redis-aof-loss.js [--kills 40] [--port 16999]
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import Redis from 'ioredis';

const { values } = parseArgs({ options: { kills: { type: 'string', default: '40' }, port: { type: 'string', default: '16999' }, fsync: { type: 'string', default: 'everysec' } } });
const kills = Number(values.kills);
const port = Number(values.port);
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tierstream-aof-loss-'));

function startRedis(): ChildProcess {
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--appendonly', 'yes', '--appendfsync', values.fsync, '--save', ''];
  return spawn('redis-server', args, { stdio: 'ignore' });
}

/** A client once the server answers (it loads its AOF first). */
async function connect(): Promise<Redis> {
  for (let i = 0; i < 200; i++) {
    const client = new Redis(port, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    client.on('error', () => undefined); // connection refused while it starts: tried again below
    try {
      await client.connect();
      await client.ping();
      return client;
    } catch {
      client.disconnect();
      await sleep(50);
    }
  }
  throw new Error(`redis-server on port ${port} did not answer`);
}

const exited = (proc: ChildProcess): Promise<void> => new Promise((resolve) => (proc.exitCode !== null || proc.signalCode !== null ? resolve() : proc.once('exit', () => resolve())));

async function main(): Promise<void> {
  const payload = 'x'.repeat(16_384);
  const losses: number[] = [];
  for (let kill = 0; kill < kills; kill++) {
    const server = startRedis();
    const client = await connect();
    let acked = Number((await client.get('n')) ?? 0);
    let writing = true;
    const writer = (async () => {
      while (writing) {
        const replies = await client.multi().incr('n').set('pad', payload).exec();
        acked = Number(replies?.[0]?.[1] ?? acked);
      }
    })().catch(() => undefined); // the kill ends it with a connection error
    await sleep(300 + Math.random() * 2000);
    server.kill('SIGKILL');
    writing = false;
    await writer;
    client.disconnect();
    await exited(server);
    const restarted = startRedis();
    const reader = await connect();
    const stored = Number((await reader.get('n')) ?? 0);
    reader.disconnect();
    restarted.kill('SIGTERM');
    await exited(restarted);
    // stored = acked + 1 when the last write applied but its answer never came: not a loss.
    losses.push(Math.max(0, acked - stored));
    console.log(`kill ${kill + 1}/${kills}: acknowledged ${acked}, recovered ${stored}${acked > stored ? `, LOST ${acked - stored}` : ''}`);
  }
  fs.rmSync(dir, { recursive: true, force: true });
  const lossy = losses.filter((n) => n > 0);
  console.log(`appendfsync ${values.fsync}: ${lossy.length} of ${kills} kill -9s lost acknowledged writes (at most ${Math.max(0, ...losses)} in one kill)`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
