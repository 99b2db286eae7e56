import { Webhook } from 'standardwebhooks';

/** The three headers of the Standard Webhooks specification. */
export interface SignatureHeaders {
  readonly 'webhook-id': string;
  /** Unix seconds of this attempt. */
  readonly 'webhook-timestamp': string;
  /** `v1,<base64 HMAC-SHA256 of "id.timestamp.body">`, one per secret, space-separated. */
  readonly 'webhook-signature': string;
}

/**
 * Signs webhook messages with every secret of a subscriber, using the specification's
 * reference library, so a receiver holding any one of them (old or new during a rotation)
 * verifies the message.
 */
export class WebhookSigner {
  private readonly keys: readonly Webhook[];

  /** Secrets as `whsec_<base64>`; validated beforehand (subscribers.ts). */
  constructor(secrets: readonly string[]) {
    if (secrets.length === 0) throw new Error('a webhook signer needs at least one secret');
    this.keys = secrets.map((secret) => new Webhook(secret));
  }

  /** Headers for one attempt: sign again on every attempt, as receivers reject old timestamps. */
  sign(id: string, at: Date, body: string): SignatureHeaders {
    return {
      'webhook-id': id,
      'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
      'webhook-signature': this.keys.map((key) => key.sign(id, at, body)).join(' '),
    };
  }
}
