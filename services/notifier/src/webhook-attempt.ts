/** How one attempt ended, as metrics label it. */
export type AttemptLabel = '2xx' | '3xx' | '4xx' | '5xx' | 'timeout' | 'network';

/** The result of one HTTP attempt: delivered, worth retrying, or refused for good. */
export type AttemptResult =
  | { readonly kind: 'delivered'; readonly status: number; readonly label: AttemptLabel }
  | { readonly kind: 'retry'; readonly reason: string; readonly label: AttemptLabel; readonly status?: number; readonly retryAfterMs?: number }
  | { readonly kind: 'rejected'; readonly reason: string; readonly label: AttemptLabel; readonly status: number };

export interface WebhookRequest {
  readonly url: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
  readonly timeoutMs: number;
}

/** At most this much of a refusing receiver's answer goes into logs and DLQ records. */
const SNIPPET_BYTES = 300;

/** 2xx delivers; 408, 429 and 5xx are retried; any other status (3xx: redirects are not followed, 4xx) is refused for good. */
export function classifyStatus(status: number): 'delivered' | 'retry' | 'rejected' {
  if (status >= 200 && status < 300) return 'delivered';
  if (status === 408 || status === 429 || status >= 500) return 'retry';
  return 'rejected';
}

export function statusLabel(status: number): AttemptLabel {
  if (status >= 500) return '5xx';
  if (status >= 400) return '4xx';
  if (status >= 300) return '3xx';
  return '2xx';
}

/** Retry-After as milliseconds: delta-seconds or an HTTP date; undefined when absent or unreadable. */
export function parseRetryAfter(value: string | null, now: number): number | undefined {
  if (value === null || value.trim() === '') return undefined;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  if (!/GMT$/i.test(text)) return undefined; // an HTTP-date, e.g. "Sun, 01 Mar 2026 12:00:30 GMT"
  const at = Date.parse(text);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/** The URL for logs and DLQ records: no credentials, no query string (they may hold tokens). */
export function describeUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}${u.pathname}`;
  } catch {
    return '(invalid URL)';
  }
}

function isTimeout(err: unknown): boolean {
  const name = (e: unknown): string | undefined => (typeof e === 'object' && e !== null && 'name' in e ? String(e.name) : undefined);
  return name(err) === 'TimeoutError' || name((err as { cause?: unknown }).cause) === 'TimeoutError';
}

function networkReason(err: unknown): string {
  const cause = (err as { cause?: unknown }).cause;
  const detail =
    typeof cause === 'object' && cause !== null ? ((cause as { code?: string }).code ?? (cause as { message?: string }).message ?? String(cause)) : undefined;
  const message = err instanceof Error ? err.message : String(err);
  return detail ? `${message} (${detail})` : message;
}

async function readSnippet(res: Response): Promise<string> {
  if (!res.body) return '';
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    while (size < SNIPPET_BYTES) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      size += value.length;
    }
  } catch {
    // A receiver that breaks off its answer still answered with its status.
  } finally {
    await reader.cancel().catch(() => undefined);
  }
  const text = Buffer.concat(chunks).toString('utf8').slice(0, SNIPPET_BYTES).replace(/\s+/g, ' ').trim();
  return text;
}

/**
 * Sends one POST and classifies the outcome. Never throws: a timeout (no complete answer
 * within timeoutMs) and network errors are results to retry. Redirects are not followed.
 */
export async function postWebhook(request: WebhookRequest, now: () => number = Date.now): Promise<AttemptResult> {
  const target = `POST ${describeUrl(request.url)}`;
  let res: Response;
  try {
    res = await fetch(request.url, {
      method: 'POST',
      headers: request.headers,
      body: request.body,
      redirect: 'manual',
      signal: AbortSignal.timeout(request.timeoutMs),
    });
  } catch (err) {
    if (isTimeout(err)) return { kind: 'retry', label: 'timeout', reason: `${target}: no answer within ${request.timeoutMs} ms` };
    return { kind: 'retry', label: 'network', reason: `${target}: ${networkReason(err)}` };
  }
  const status = res.status;
  const label = statusLabel(status);
  const verdict = classifyStatus(status);
  if (verdict === 'delivered') {
    await res.body?.cancel().catch(() => undefined);
    return { kind: 'delivered', status, label };
  }
  const snippet = await readSnippet(res);
  const reason = `${target} answered ${status}${snippet ? `: ${snippet}` : ''}`;
  if (verdict === 'rejected') return { kind: 'rejected', status, label, reason };
  const retryAfterMs = status === 429 || status === 503 ? parseRetryAfter(res.headers.get('retry-after'), now()) : undefined;
  return { kind: 'retry', status, label, reason, ...(retryAfterMs !== undefined ? { retryAfterMs } : {}) };
}
