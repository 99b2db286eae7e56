import { randomBytes } from 'node:crypto';
import http, { type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';

/**
 * Webhook subscribers' side: one path per subscriber, each with its own secret. Verifies
 * every request with the Standard Webhooks reference library and records when each
 * webhook-id arrived (ids and times only, so a million deliveries fit in memory).
 */
export class RecordingReceiver {
  /** Per subscriber, per webhook-id, the arrival times of verified requests. */
  readonly deliveries = new Map<string, Map<string, number[]>>();
  unverified = 0;
  lastArrival = 0;
  private readonly secrets = new Map<string, string>();
  private server: Server | undefined;
  private port = 0;

  /** @param answerDelayMs time before the 2xx, so deliveries are in flight when the notifier is killed */
  constructor(
    subscribers: readonly string[],
    private readonly answerDelayMs = 5,
  ) {
    for (const s of subscribers) {
      this.secrets.set(s, `whsec_${randomBytes(32).toString('base64')}`);
      this.deliveries.set(s, new Map());
    }
  }

  secret(subscriber: string): string {
    return this.secrets.get(subscriber) ?? '';
  }

  url(subscriber: string): string {
    return `http://127.0.0.1:${this.port}/hooks/${subscriber}`;
  }

  async start(): Promise<void> {
    const verifiers = new Map([...this.secrets].map(([s, secret]) => [s, new Webhook(secret)]));
    const server = http.createServer((req, res) => {
      res.on('error', () => undefined);
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const subscriber = (req.url ?? '').split('?')[0]?.replace('/hooks/', '') ?? '';
        const headers = Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, Array.isArray(v) ? (v[0] ?? '') : (v ?? '')]));
        const verifier = verifiers.get(subscriber);
        let ok = false;
        try {
          if (verifier) {
            verifier.verify(Buffer.concat(chunks).toString('utf8'), headers);
            ok = true;
          }
        } catch {
          ok = false;
        }
        const now = Date.now();
        if (!ok) {
          this.unverified++;
          res.writeHead(401).end();
          return;
        }
        this.lastArrival = now;
        const id = headers['webhook-id'] ?? '';
        const byId = this.deliveries.get(subscriber) as Map<string, number[]>;
        const times = byId.get(id);
        if (times) times.push(now);
        else byId.set(id, [now]);
        setTimeout(() => res.writeHead(204).end(), this.answerDelayMs);
      });
    });
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    this.port = (server.address() as AddressInfo).port;
  }

  total(): number {
    let n = 0;
    for (const m of this.deliveries.values()) for (const t of m.values()) n += t.length;
    return n;
  }

  /** Stops listening and drops kept-alive connections (the notifier's pool). */
  close(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    server?.closeAllConnections();
    return new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  }
}
