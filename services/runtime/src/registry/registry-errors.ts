import { isTierstreamError } from '../errors';

/** Node's and undici's words for a peer that is not there or went away mid-request. */
const NETWORK_FAILURE = /ECONNREFUSED|ECONNRESET|ETIMEDOUT|EHOSTUNREACH|ENETUNREACH|EAI_AGAIN|ENOTFOUND|EPIPE|socket hang up|fetch failed|timed? ?out/i;

const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN', 'ENOTFOUND', 'EPIPE', 'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_SOCKET']);

/**
 * True when a registry call failed because the registry could not answer (down, restarting,
 * overloaded), so the same call may succeed later: the record must be retried, never
 * dead-lettered as undecodable. False for answers about the record itself (an unknown schema
 * id, a bad magic byte, a payload that does not match its schema).
 *
 * The client (@kafkajs/confluent-schema-registry over mappersmith) reports a refused or
 * reset connection as a ResponseError with status 400 whose message carries the socket
 * error, so a 400 counts as unavailable only with such a message.
 */
export function isRegistryUnavailable(err: unknown): boolean {
  if (isTierstreamError(err)) return err.code === 'TS_ERR_SCHEMA_REGISTRY' && err.retriable;
  if (!(err instanceof Error)) return false;
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string' && NETWORK_CODES.has(code)) return true;
  const status = (err as { status?: unknown }).status;
  if (err.name === 'ResponseError' && typeof status === 'number') {
    if (status >= 500 || status === 408 || status === 429) return true;
    return status === 400 && NETWORK_FAILURE.test(err.message);
  }
  if (err.cause !== undefined && err.cause !== err) return isRegistryUnavailable(err.cause);
  return err.name === 'TypeError' && /fetch failed/.test(err.message);
}
