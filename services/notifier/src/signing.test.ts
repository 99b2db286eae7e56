import { createHmac } from 'node:crypto';
import { Webhook, WebhookVerificationError } from 'standardwebhooks';
import { tierChangedPayload, webhookBody } from './payload';
import { WebhookSigner } from './signing';
import { newSecret, tierChange } from './testing/fixtures';

const change = tierChange();
const body = webhookBody(change);
const headersOf = (signer: WebhookSigner, at = new Date()): Record<string, string> => ({ ...signer.sign(change.transition_id, at, body) });

describe('WebhookSigner', () => {
  it('produces messages that standardwebhooks Webhook.verify accepts, returning the payload', () => {
    const secret = newSecret();
    const verified = new Webhook(secret).verify(body, headersOf(new WebhookSigner([secret])));
    expect(verified).toEqual(JSON.parse(JSON.stringify(tierChangedPayload(change))));
  });

  it('sets webhook-id to the transition id and webhook-timestamp to the unix seconds of the attempt', () => {
    const at = new Date(Date.UTC(2026, 2, 1, 8, 30, 1, 999));
    const headers = headersOf(new WebhookSigner([newSecret()]), at);
    expect(headers['webhook-id']).toBe(change.transition_id);
    expect(headers['webhook-timestamp']).toBe(String(Math.floor(at.getTime() / 1000)));
  });

  it('signs v1,<base64 HMAC-SHA256 of "id.timestamp.body"> with the base64-decoded secret (checked without the library)', () => {
    const secret = newSecret();
    const headers = headersOf(new WebhookSigner([secret]));
    const key = Buffer.from(secret.slice('whsec_'.length), 'base64');
    const expected = createHmac('sha256', key).update(`${headers['webhook-id']}.${headers['webhook-timestamp']}.${body}`).digest('base64');
    expect(headers['webhook-signature']).toBe(`v1,${expected}`);
  });

  it('signs with every secret during a rotation, so a receiver holding either the old or the new one verifies', () => {
    const [oldSecret, newOne] = [newSecret(), newSecret()];
    const headers = headersOf(new WebhookSigner([newOne, oldSecret]));
    const signatures = (headers['webhook-signature'] ?? '').split(' ');
    expect(signatures).toHaveLength(2);
    for (const s of signatures) expect(s).toMatch(/^v1,[A-Za-z0-9+/]+=*$/);
    expect(new Webhook(oldSecret).verify(body, headers)).toMatchObject({ type: 'tier.changed' });
    expect(new Webhook(newOne).verify(body, headers)).toMatchObject({ type: 'tier.changed' });
  });

  it('does not verify with a secret it was not given', () => {
    const headers = headersOf(new WebhookSigner([newSecret(), newSecret()]));
    expect(() => new Webhook(newSecret()).verify(body, headers)).toThrow(WebhookVerificationError);
  });

  it('does not verify a body changed after signing', () => {
    const secret = newSecret();
    const headers = headersOf(new WebhookSigner([secret]));
    const tampered = body.replace('"to_tier":"gold"', '"to_tier":"platinum"');
    expect(tampered).not.toBe(body);
    expect(() => new Webhook(secret).verify(tampered, headers)).toThrow(WebhookVerificationError);
  });

  it('refuses to be built without a secret', () => {
    expect(() => new WebhookSigner([])).toThrow(/at least one secret/);
  });
});

describe('webhook payload', () => {
  it('is {type: tier.changed, timestamp: emitted_at as ISO 8601, data: the change}', () => {
    expect(JSON.parse(body)).toEqual({ type: 'tier.changed', timestamp: '2026-03-01T08:30:01.000Z', data: change });
  });

  it('is the same bytes every time, so retries carry the same body', () => {
    expect(webhookBody(tierChange())).toBe(body);
  });
});
