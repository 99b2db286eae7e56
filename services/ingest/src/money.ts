import { currencyExponent, ISO_4217_LIST_DATE } from './currency';
import { typeName, type Problem } from './problems';

/** The largest amount ingest accepts, in minor units (10^12: ten billion USD, a trillion JPY). */
export const MAX_AMOUNT_MINOR = 1_000_000_000_000;
const MAX_MINOR = BigInt(MAX_AMOUNT_MINOR);

/** The fields read from their JSON token as written (json-text.ts scanJson's numberKeys). */
export const AMOUNT_KEYS: ReadonlySet<string> = new Set(['amount', 'amount_minor']);

export interface Currency {
  readonly code: string;
  readonly exponent: number;
}

type Parsed<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly problem: Problem };
const ok = <T>(value: T): Parsed<T> => ({ ok: true, value });
const fail = <T>(problem: Problem): Parsed<T> => ({ ok: false, problem });

/** An ISO-4217 code in any case and with surrounding spaces, upper-cased, with its exponent. */
export function parseCurrency(value: unknown, field: string): Parsed<Currency> {
  if (value === undefined || value === null) return fail({ code: 'TS_ERR_INGEST_MISSING_FIELD', field, reason: 'is required (an ISO-4217 code such as CNY)' });
  if (typeof value !== 'string') return fail({ code: 'TS_ERR_INGEST_INVALID_FIELD', field, reason: `must be an ISO-4217 code string, got ${typeName(value)}` });
  const code = value.trim().toUpperCase();
  if (code === '') return fail({ code: 'TS_ERR_INGEST_MISSING_FIELD', field, reason: 'must not be blank' });
  const exponent = currencyExponent(code);
  if (exponent === undefined) {
    return fail({
      code: 'TS_ERR_INGEST_UNKNOWN_CURRENCY',
      field,
      reason: `'${code.slice(0, 16)}' is not an ISO-4217 currency with a minor unit (list of ${ISO_4217_LIST_DATE})`,
    });
  }
  return ok({ code, exponent });
}

const DECIMAL = /^([+-]?)(\d+)(?:\.(\d+))?$/;

function checkRange(minor: bigint, negative: boolean, field: string, shown: string, currency: Currency | undefined): Parsed<bigint> {
  if (negative && minor !== 0n) return fail({ code: 'TS_ERR_INGEST_NEGATIVE_AMOUNT', field, reason: `must not be negative, got ${shown}` });
  if (minor > MAX_MINOR) {
    const unit = currency ? ` ${currency.code}` : '';
    return fail({
      code: 'TS_ERR_INGEST_AMOUNT_TOO_LARGE',
      field,
      reason: `${shown}${unit} is ${minor} minor units, above the cap of ${MAX_AMOUNT_MINOR}`,
    });
  }
  return ok(minor);
}

/**
 * The text of a number amount: as written when the JSON text showed it (`written`: the
 * token, when JSON.parse lost something, json-text.ts), else as the number prints (an Avro
 * double). Either way an exponent is refused, so `1e2` is not 100 and `1e-400` not 0.
 */
function numberText(value: number, written: string | undefined): string | undefined {
  const text = written ?? String(value);
  return /[eE]/.test(text) ? undefined : text;
}

/**
 * An amount in major units (a decimal string such as "1299.00", or a JSON number written
 * without an exponent) in minor units of `currency`: exact, never through floating point,
 * read from the token as written when there is one. Decimal places beyond the currency's
 * exponent are allowed only as trailing zeros. Without a currency (it was unknown) only the
 * form and the sign are checked.
 */
export function parseMajorAmount(value: unknown, field: string, currency: Currency | undefined, written?: string): Parsed<bigint> {
  let text: string;
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) return fail({ code: 'TS_ERR_INGEST_INVALID_AMOUNT', field, reason: `must be a finite number, got ${value}` });
    const plain = numberText(value, written);
    if (plain === undefined) {
      return fail({ code: 'TS_ERR_INGEST_INVALID_AMOUNT', field, reason: `must be a decimal number without an exponent, such as 12.34, got ${(written ?? String(value)).slice(0, 40)}` });
    }
    text = plain;
  } else if (typeof value === 'string') {
    text = value.trim();
  } else {
    return fail({ code: 'TS_ERR_INGEST_INVALID_FIELD', field, reason: `must be a decimal string or a number, got ${typeName(value)}` });
  }
  const m = DECIMAL.exec(text);
  if (!m) return fail({ code: 'TS_ERR_INGEST_INVALID_AMOUNT', field, reason: `must be a decimal number such as "12.34", got ${JSON.stringify(text.slice(0, 40))}` });
  const [, sign = '', whole = '', frac = ''] = m;
  const negative = sign === '-';
  if (!currency) {
    const nonZero = /[1-9]/.test(whole + frac);
    return negative && nonZero ? fail({ code: 'TS_ERR_INGEST_NEGATIVE_AMOUNT', field, reason: `must not be negative, got ${text}` }) : ok(0n);
  }
  const kept = frac.slice(0, currency.exponent);
  const dropped = frac.slice(currency.exponent);
  if (/[1-9]/.test(dropped)) {
    const places = frac.replace(/0+$/, '').length;
    const allowed = currency.exponent === 0 ? 'none' : String(currency.exponent);
    return fail({
      code: 'TS_ERR_INGEST_INVALID_AMOUNT',
      field,
      reason: `${text} has ${places} decimal place${places === 1 ? '' : 's'}; ${currency.code} has ${allowed}`,
    });
  }
  const minor = BigInt(whole + kept.padEnd(currency.exponent, '0'));
  return checkRange(minor, negative, field, text, currency);
}

/**
 * An amount already in minor units: a whole JSON number written without an exponent (a
 * fraction of zeros, `100.0`, is fine) or a string of digits.
 */
export function parseMinorAmount(value: unknown, field: string, currency: Currency | undefined, written?: string): Parsed<bigint> {
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) return fail({ code: 'TS_ERR_INGEST_INVALID_AMOUNT', field, reason: `must be a whole number of minor units, got ${value}` });
    const text = numberText(value, written);
    if (text === undefined) {
      return fail({ code: 'TS_ERR_INGEST_INVALID_AMOUNT', field, reason: `must be a whole number of minor units without an exponent, got ${(written ?? String(value)).slice(0, 40)}` });
    }
    const m = /^(-?)(\d+)(?:\.0+)?$/.exec(text);
    if (!m) return fail({ code: 'TS_ERR_INGEST_INVALID_AMOUNT', field, reason: `must be a whole number of minor units, got ${text.slice(0, 40)}` });
    return checkRange(BigInt(m[2] ?? '0'), m[1] === '-', field, text, currency);
  }
  if (typeof value === 'string') {
    const text = value.trim();
    const m = /^([+-]?)(\d+)$/.exec(text);
    if (!m) return fail({ code: 'TS_ERR_INGEST_INVALID_AMOUNT', field, reason: `must be a whole number of minor units, got ${JSON.stringify(text.slice(0, 40))}` });
    return checkRange(BigInt(m[2] ?? '0'), m[1] === '-', field, text, currency);
  }
  return fail({ code: 'TS_ERR_INGEST_INVALID_FIELD', field, reason: `must be a whole number of minor units, got ${typeName(value)}` });
}

export interface MoneyValue {
  readonly amount_minor: number;
  readonly currency: string;
}

/**
 * Reads `amount` (major units) or `amount_minor`, and `currency`, from one object (the
 * event itself or its nested detail), collecting every problem. `positive` is for refunds;
 * `written` gives a number field's token as written, when the JSON text showed one.
 */
export function readMoney(
  src: Readonly<Record<string, unknown>>,
  prefix: string,
  options: { positive: boolean; written?: (key: string) => string | undefined },
): { value: MoneyValue | undefined; problems: Problem[] } {
  const problems: Problem[] = [];
  const currency = parseCurrency(src['currency'], `${prefix}currency`);
  if (!currency.ok) problems.push(currency.problem);
  const known = currency.ok ? currency.value : undefined;
  const major = src['amount'];
  const minor = src['amount_minor'];
  const hasMajor = major !== undefined && major !== null;
  const hasMinor = minor !== undefined && minor !== null;
  let amount: Parsed<bigint> | undefined;
  if (hasMajor && hasMinor) {
    problems.push({ code: 'TS_ERR_INGEST_INVALID_FIELD', field: `${prefix}amount`, reason: 'give amount (major units) or amount_minor, not both' });
  } else if (hasMajor) {
    amount = parseMajorAmount(major, `${prefix}amount`, known, options.written?.('amount'));
  } else if (hasMinor) {
    amount = parseMinorAmount(minor, `${prefix}amount_minor`, known, options.written?.('amount_minor'));
  } else {
    problems.push({ code: 'TS_ERR_INGEST_MISSING_FIELD', field: `${prefix}amount`, reason: 'is required (amount in major units, or amount_minor)' });
  }
  if (amount && !amount.ok) problems.push(amount.problem);
  if (amount?.ok && known && options.positive && amount.value === 0n) {
    problems.push({ code: 'TS_ERR_INGEST_INVALID_AMOUNT', field: hasMajor ? `${prefix}amount` : `${prefix}amount_minor`, reason: 'a refund must be more than zero' });
  }
  const value = problems.length === 0 && amount?.ok && known ? { amount_minor: Number(amount.value), currency: known.code } : undefined;
  return { value, problems };
}
