import http, { type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';

/** What the receiver does with one request: answer a status, or never answer in time. */
export type ReceiverAction = number | 'hang';

export interface ReceivedRequest {
  readonly path: string;
  /** The webhook-id header (the transition id). */
  readonly id: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
  readonly at: number;
  readonly action: ReceiverAction;
  /** Per secret given to the receiver: whether standardwebhooks' Webhook.verify accepted the request with it. */
  readonly verifiedWith: readonly boolean[];
}

/**
 * A local HTTP receiver (127.0.0.1, a free port) that verifies every request's Standard
 * Webhooks signature with the reference library and answers as scripted per path and
 * webhook-id: `script('/hooks', id, [500, 500])` answers 500 twice, then the default 200.
 */
export class WebhookReceiver {
  readonly requests: ReceivedRequest[] = [];
  private readonly scripts = new Map<string, ReceiverAction[]>();
  private server: Server | undefined;
  private port = 0;

  constructor(
    private readonly secrets: readonly string[],
    private readonly hangMs = 5_000,
  ) {}

  async start(): Promise<void> {
    const server = http.createServer((req, res) => {
      res.on('error', () => undefined);
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        const id = String(req.headers['webhook-id'] ?? '');
        const path = (req.url ?? '/').split('?')[0] ?? '/';
        const action = this.scripts.get(`${path} ${id}`)?.shift() ?? 200;
        const headers: Record<string, string> = {};
        for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string') headers[k] = v;
        const verifiedWith = this.secrets.map((secret) => {
          try {
            new Webhook(secret).verify(body, headers);
            return true;
          } catch {
            return false;
          }
        });
        this.requests.push({ path, id, headers: req.headers, body, at: Date.now(), action, verifiedWith });
        if (action === 'hang') {
          setTimeout(() => {
            if (!res.writableEnded) res.writeHead(503).end('too late');
          }, this.hangMs).unref();
          return;
        }
        res.writeHead(action, { 'content-type': 'text/plain' }).end(action >= 400 ? `scripted ${action}` : 'ok');
      });
    });
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    this.port = (server.address() as AddressInfo).port;
  }

  url(path: string): string {
    return `http://127.0.0.1:${this.port}${path}`;
  }

  script(path: string, id: string, actions: readonly ReceiverAction[]): void {
    this.scripts.set(`${path} ${id}`, [...actions]);
  }

  requestsFor(id: string, path?: string): ReceivedRequest[] {
    return this.requests.filter((r) => r.id === id && (path === undefined || r.path === path));
  }

  async close(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
