import http, { type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from '../logger';
import type { WorkerMetrics } from '../metrics/worker-metrics';

/** A dependency the worker needs to be ready: resolves undefined when fine, else why not. */
export type ReadinessCheck = () => Promise<string | undefined>;

/** Lets a worker serve its own routes (ingest's POST /v1/events); returns false when not its route. */
export type RouteHandler = (req: IncomingMessage, res: ServerResponse) => Promise<boolean>;

export interface OpsServerOptions {
  readonly port: number;
  readonly host?: string;
  readonly logger: Logger;
  readonly metrics: WorkerMetrics;
  readonly checks: Readonly<Record<string, ReadinessCheck>>;
  readonly routes?: RouteHandler;
  readonly checkTimeoutMs?: number;
}

const KEEP_ALIVE_MS = 65_000;

/** /healthz (the process serves), /readyz (every dependency answers) and /metrics (Prometheus). */
export class OpsServer {
  private server: Server | undefined;
  private draining = false;

  constructor(private readonly options: OpsServerOptions) {}

  async start(): Promise<number> {
    const server = http.createServer((req, res) => {
      this.handle(req, res).catch((err: unknown) => {
        this.options.logger.error({ err, url: req.url }, 'request failed');
        if (!res.headersSent) sendJson(res, 500, { error: 'internal error' });
        else res.end();
      });
    });
    // Idle keep-alive sockets outlive the clients' and load balancers' idle timeouts (undici
    // 4 s, ALB 60 s): with Node's 5 s a client reusing a socket as the server closes it gets
    // ECONNRESET. Headers must be allowed longer than that (Node's rule).
    server.keepAliveTimeout = KEEP_ALIVE_MS;
    server.headersTimeout = KEEP_ALIVE_MS + 1000;
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.options.port, this.options.host ?? '0.0.0.0', () => resolve());
    });
    return (server.address() as AddressInfo).port;
  }

  /** Readiness fails from now on, so load balancers stop sending work while we drain. */
  drain(): void {
    this.draining = true;
  }

  async close(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    server.closeIdleConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method === 'GET' && path === '/healthz') return sendJson(res, 200, { status: 'ok' });
    if (req.method === 'GET' && path === '/readyz') return this.readiness(res);
    if (req.method === 'GET' && path === '/metrics') {
      res.writeHead(200, { 'content-type': this.options.metrics.registry.contentType });
      res.end(await this.options.metrics.registry.metrics());
      return;
    }
    if (this.options.routes && (await this.options.routes(req, res))) return;
    sendJson(res, 404, { error: `no route for ${req.method} ${path}` });
  }

  private async readiness(res: ServerResponse): Promise<void> {
    const timeout = this.options.checkTimeoutMs ?? 2000;
    const entries = await Promise.all(
      Object.entries(this.options.checks).map(async ([name, check]) => {
        const failure = await Promise.race([
          check().catch((err: unknown) => (err instanceof Error ? err.message : String(err))),
          new Promise<string>((resolve) => setTimeout(() => resolve(`no answer within ${timeout} ms`), timeout).unref()),
        ]);
        return [name, failure ?? 'ok'] as const;
      }),
    );
    const checks = Object.fromEntries(entries);
    const ready = !this.draining && entries.every(([, v]) => v === 'ok');
    sendJson(res, ready ? 200 : 503, { status: ready ? 'ready' : this.draining ? 'draining' : 'not ready', checks });
  }
}

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}
