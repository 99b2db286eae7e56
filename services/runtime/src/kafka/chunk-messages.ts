import type { Message } from 'kafkajs';

/**
 * Under the broker's default message.max.bytes (1 MiB) with room for batch overhead: one
 * send's messages to one partition travel as one record batch, which the broker refuses
 * whole when it is larger.
 */
export const MAX_SEND_BYTES = 512 * 1024;

const sizeOf = (m: Message): number => {
  const bytes = (v: unknown): number => (v === null || v === undefined ? 0 : Buffer.isBuffer(v) ? v.length : Buffer.byteLength(String(v)));
  let headers = 0;
  for (const [k, v] of Object.entries(m.headers ?? {})) headers += Buffer.byteLength(k) + (Array.isArray(v) ? v.reduce((a: number, x) => a + bytes(x), 0) : bytes(v));
  return bytes(m.value) + bytes(m.key) + headers + 64;
};

/** Splits messages, in order, into sends of at most `maxBytes` each (a larger message goes alone). */
export function chunkMessages<M extends Message>(messages: readonly M[], maxBytes: number = MAX_SEND_BYTES): M[][] {
  const chunks: M[][] = [];
  let current: M[] = [];
  let size = 0;
  for (const m of messages) {
    const s = sizeOf(m);
    if (current.length > 0 && size + s > maxBytes) {
      chunks.push(current);
      current = [];
      size = 0;
    }
    current.push(m);
    size += s;
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}
