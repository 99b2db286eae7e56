import { randomBytes } from 'node:crypto';
import http, { type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';

export interface ReceivedChange {
  readonly id: string;
  readonly body: unknown;
}

/**
 * A subscriber's side of the demo: verifies every delivery with the Standard Webhooks
 * reference library, as a real receiver would, and counts the verified ones.
 */
export class WebhookReceiver {
  readonly secret = `whsec_${randomBytes(24).toString('base64')}`;
  verified = 0;
  rejected = 0;
  readonly received: ReceivedChange[] = [];
  private server: Server | undefined;
  private readonly seen = new Set<string>();
  duplicates = 0;

  async start(): Promise<string> {
    const wh = new Webhook(this.secret);
    const server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        const headers = Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, Array.isArray(v) ? (v[0] ?? '') : (v ?? '')]));
        try {
          const payload = wh.verify(body, headers);
          const id = headers['webhook-id'] ?? '';
          if (this.seen.has(id)) this.duplicates++;
          this.seen.add(id);
          this.verified++;
          if (this.received.length < 1000) this.received.push({ id, body: payload });
          res.writeHead(204).end();
        } catch {
          this.rejected++;
          res.writeHead(401).end();
        }
      });
    });
    this.server = server;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks/tier-changed`;
  }

  async close(): Promise<void> {
    const server = this.server;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
