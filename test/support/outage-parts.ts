// Parts a test starts and stops itself to play an outage of one dependency, without ever
// touching the shared stack: a private redis-server, a TCP gate in front of the registry,
// a kafkajs socket factory whose connections can be cut.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { ISocketFactory } from 'kafkajs';
import { unusedPort } from './worker-process';

/** A redis-server of the test's own on a free port, AOF on as in production, killed and restarted at will. */
export class PrivateRedis {
  private child: ChildProcess | undefined;
  private readonly dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tierstream-redis-'));

  private constructor(readonly port: number) {}

  static async start(): Promise<PrivateRedis> {
    const redis = new PrivateRedis(await unusedPort());
    await redis.up();
    return redis;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  /** Starts redis-server (again, on the same port and data) and waits until it accepts connections. */
  async up(): Promise<void> {
    const args = ['--port', String(this.port), '--bind', '127.0.0.1', '--dir', this.dir, '--appendonly', 'yes', '--appendfsync', 'always', '--save', ''];
    this.child = spawn('redis-server', args, { stdio: 'ignore' });
    const deadline = Date.now() + 10_000;
    while (!(await accepts(this.port))) {
      if (Date.now() > deadline) throw new Error(`redis-server on ${this.port} did not start`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** SIGSTOP: connections stay open and nothing answers, as behind a network partition. */
  freeze(): void {
    this.child?.kill('SIGSTOP');
  }

  thaw(): void {
    this.child?.kill('SIGCONT');
  }

  /** kill -9, as the fault run does to Redis. */
  async kill(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const gone = new Promise((r) => child.once('exit', r));
    child.kill('SIGKILL');
    await gone;
  }
}

async function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** A TCP gate on a free port forwarding to `target`: close() refuses and cuts every connection, open() lets them through again. */
export class TcpGate {
  private server: net.Server | undefined;
  private readonly sockets = new Set<net.Socket>();

  private constructor(
    readonly port: number,
    private readonly target: { host: string; port: number },
  ) {}

  static async open(target: { host: string; port: number }): Promise<TcpGate> {
    const gate = new TcpGate(await unusedPort(), target);
    await gate.open();
    return gate;
  }

  async open(): Promise<void> {
    const server = net.createServer((client) => {
      const upstream = net.connect(this.target);
      for (const s of [client, upstream]) {
        this.sockets.add(s);
        s.once('close', () => this.sockets.delete(s));
        s.on('error', () => {
          client.destroy();
          upstream.destroy();
        });
      }
      client.pipe(upstream).pipe(client);
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => resolve());
    });
    this.server = server;
  }

  async close(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    for (const s of this.sockets) s.destroy();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

/** A kafkajs socket factory for plain TCP whose connections `cut()` ends and refuses until `restore()`. */
export function cuttableSockets(): { socketFactory: ISocketFactory; cut(): void; restore(): void } {
  const live = new Set<net.Socket>();
  let down = false;
  const socketFactory: ISocketFactory = ({ host, port, onConnect }) => {
    // Port 1 on loopback refuses: what a client sees of a stopped broker.
    const socket = down ? net.connect({ host: '127.0.0.1', port: 1 }) : net.connect({ host, port }, onConnect);
    socket.setKeepAlive(true, 60_000);
    live.add(socket);
    socket.once('close', () => live.delete(socket));
    return socket;
  };
  return {
    socketFactory,
    cut: () => {
      down = true;
      // As a client sees a broker that died: the connection reset under it.
      for (const s of live) s.destroy(Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }));
    },
    restore: () => {
      down = false;
    },
  };
}
