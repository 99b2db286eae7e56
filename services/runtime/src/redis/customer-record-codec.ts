import { Packr } from 'msgpackr';
import { TierstreamError } from '../errors';
import type { CustomerRecord } from './customer-store';

/**
 * How a customer record is laid out in Redis. Version 1 is JSON text (it starts with `{`);
 * version 2 is two header bytes, `T` and the version, then MessagePack (msgpackr) without
 * the state's forward signals, which nothing reads back (each transition carries its own)
 * and which were a sixth of the record. A v1 record is read as it is and written back as v2
 * by the next batch that touches its customer: a running deployment upgrades without a replay.
 */
export const RECORD_FORMAT_VERSION = 2;

const MAGIC = 0x54; // 'T': never the first byte of a JSON object
const JSON_OPEN = 0x7b; // '{'

// Plain maps, no shared structures: a record must decode alone, whoever wrote it.
const packr = new Packr({ useRecords: false, mapsAsObjects: true, variableMapSize: true });

/** The record as stored now (v2). */
export function encodeCustomerRecord(record: CustomerRecord): Buffer {
  const { forward: _forward, ...state } = record.state;
  const body = packr.pack({ ...record, state });
  const out = Buffer.allocUnsafe(body.length + 2);
  out[0] = MAGIC;
  out[1] = RECORD_FORMAT_VERSION;
  body.copy(out, 2);
  return out;
}

/** Any stored version of a record. A format it does not know is TS_ERR_STATE_FORMAT, naming the customer. */
export function decodeCustomerRecord(customerId: string, stored: Buffer): CustomerRecord {
  try {
    if (stored[0] === JSON_OPEN) return JSON.parse(stored.toString('utf8')) as CustomerRecord;
    if (stored[0] === MAGIC && stored[1] === RECORD_FORMAT_VERSION) {
      return packr.unpack(stored.subarray(2)) as CustomerRecord;
    }
  } catch (err) {
    throw new TierstreamError('TS_ERR_STATE_FORMAT', `the stored record of ${customerId} cannot be decoded: ${(err as Error).message}`, { cause: err, context: { customerId } });
  }
  throw new TierstreamError('TS_ERR_STATE_FORMAT', `the stored record of ${customerId} has an unknown format (first bytes ${stored.subarray(0, 2).toString('hex')})`, {
    context: { customerId },
  });
}
