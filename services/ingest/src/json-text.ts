/**
 * One iterative pass over a JSON text before JSON.parse (pure, O(n), no recursion): bounds
 * the nesting depth, so that no part of ingest (dead-letter builder, normaliser, logger)
 * ever holds a value deeper than the limit, and keeps the written form of the number tokens
 * of chosen keys that JSON.parse would lose (`1e2` and `100` both parse to 100). It does not
 * validate: JSON.parse does that on the text it returns.
 */

/** A path into a JSON value: object keys and array indices. */
export type JsonPath = readonly (string | number)[];

/** The key of a path in a NumberTokens map (JSON of the path: unambiguous for any key). */
export const pathKey = (path: JsonPath): string => JSON.stringify(path);

/** Number tokens (of the keys asked for) whose JS number does not print as written, by pathKey: `1e2`, `12.50`, `1e-400`. */
export type NumberTokens = ReadonlyMap<string, string>;

/** A member of a top-level array (an HTTP body's event) that held a container cut for depth. */
export interface DeepMember {
  /** The member's own nesting depth: `{}` is 1, `{"a":[1]}` is 2. */
  readonly depth: number;
  /** Its span in the scanned text, for the dead letter's original bytes. */
  readonly start: number;
  readonly end: number;
}

export interface ScannedJson {
  /** The text to parse: the original, or with every container opened deeper than the limit replaced by `null`. */
  readonly text: string;
  /** The deepest nesting of the original text: a scalar is 0, `[]` 1, `[[]]` 2. */
  readonly depth: number;
  /** With `members`: per top-level array member, its number tokens (paths relative to the member). Else index -1: the whole text's. */
  readonly numbers: ReadonlyMap<number, NumberTokens>;
  /** With `members`: the top-level array's members that held a cut container, by index. */
  readonly deepMembers: ReadonlyMap<number, DeepMember>;
}

interface Frame {
  readonly array: boolean;
  /** Array: the current element's index. */
  index: number;
  /** Object: the current key's token span, and whether the next string is a key. */
  keyStart: number;
  keyEnd: number;
  expectKey: boolean;
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const COLON = 0x3a;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;
const isSpace = (c: number): boolean => c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
const isNumberStart = (c: number): boolean => c === 0x2d || (c >= 0x30 && c <= 0x39);
const isNumberChar = (c: number): boolean => (c >= 0x30 && c <= 0x39) || c === 0x2d || c === 0x2b || c === 0x2e || c === 0x65 || c === 0x45;

/** The index just past the string token that starts at `start` (the text's end when it is unterminated). */
function stringEnd(text: string, start: number): number {
  for (let j = text.indexOf('"', start + 1); j !== -1; j = text.indexOf('"', j + 1)) {
    let backslashes = 0;
    while (text.charCodeAt(j - 1 - backslashes) === BACKSLASH) backslashes++;
    if (backslashes % 2 === 0) return j + 1;
  }
  return text.length;
}

function keyOf(text: string, frame: Frame): string {
  const token = text.slice(frame.keyStart, frame.keyEnd);
  if (!token.includes('\\')) return token.slice(1, -1);
  try {
    return JSON.parse(token) as string;
  } catch {
    return token; // JSON.parse of the whole text fails on it anyway
  }
}

/**
 * Scans `text`, cutting every container that would open below `maxDepth` levels.
 * `members`: the text is expected to be an array whose members are read on their own (an
 * HTTP body), so number tokens and cuts are reported per member. `numberKeys`: the object
 * keys whose number tokens are kept (few, so that a text of many numbers costs no more).
 */
export function scanJson(text: string, maxDepth: number, options: { members?: boolean; numberKeys?: ReadonlySet<string> } = {}): ScannedJson {
  const numberKeys = options.numberKeys ?? new Set<string>();
  const frames: Frame[] = [];
  const numbers = new Map<number, Map<string, string>>();
  const deepMembers = new Map<number, DeepMember>();
  const pieces: string[] = [];
  let copied = 0;
  let depth = 0;
  let maxSeen = 0;
  let cutStart = -1;
  // The current top-level member (with `members`): its start, deepest level and whether it was cut.
  let memberStart = -1;
  let memberMax = 0;
  let memberCut = false;
  // Inside the top-level array of a text read by members (kept in step with frames[0]).
  let inMembers = false;

  const closeMember = (end: number): void => {
    const top = frames[0];
    if (memberStart >= 0 && top && memberCut) {
      let e = end;
      while (e > memberStart && isSpace(text.charCodeAt(e - 1))) e--;
      deepMembers.set(top.index, { depth: memberMax - 1, start: memberStart, end: e });
    }
    memberStart = -1;
    memberMax = 0;
    memberCut = false;
  };

  const recordNumber = (start: number, end: number): void => {
    const frame = frames[frames.length - 1];
    if (!frame || frame.array || !numberKeys.has(keyOf(text, frame))) return;
    const token = text.slice(start, end);
    if (String(Number(token)) === token) return;
    const path: (string | number)[] = frames.map((f) => (f.array ? f.index : keyOf(text, f)));
    let member = -1;
    if (inMembers) member = Number(path.shift());
    let map = numbers.get(member);
    if (!map) numbers.set(member, (map = new Map()));
    map.set(pathKey(path), token);
  };

  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (isSpace(c)) continue;
    if (inMembers && depth === 1 && memberStart < 0 && c !== COMMA && c !== CLOSE_ARRAY) memberStart = i;
    if (c === QUOTE) {
      const end = stringEnd(text, i);
      const frame = frames[frames.length - 1];
      if (cutStart < 0 && frame && !frame.array && frame.expectKey) {
        frame.keyStart = i;
        frame.keyEnd = end;
        frame.expectKey = false;
      }
      i = end - 1;
    } else if (c === OPEN_ARRAY || c === OPEN_OBJECT) {
      depth++;
      if (depth > maxSeen) maxSeen = depth;
      if (depth > memberMax) memberMax = depth;
      if (cutStart >= 0) continue;
      if (depth > maxDepth) {
        cutStart = i;
        memberCut = true;
        continue;
      }
      if (frames.length === 0) inMembers = options.members === true && c === OPEN_ARRAY;
      frames.push({ array: c === OPEN_ARRAY, index: 0, keyStart: 0, keyEnd: 0, expectKey: c === OPEN_OBJECT });
    } else if (c === CLOSE_ARRAY || c === CLOSE_OBJECT) {
      if (depth > 0) depth--;
      if (cutStart >= 0) {
        if (depth === maxDepth) {
          pieces.push(text.slice(copied, cutStart), 'null');
          copied = i + 1;
          cutStart = -1;
        }
        continue;
      }
      if (frames.length === 1 && inMembers) {
        closeMember(i);
        inMembers = false;
      }
      frames.pop();
    } else if (cutStart >= 0) {
      continue;
    } else if (c === COMMA) {
      const frame = frames[frames.length - 1];
      if (frames.length === 1 && inMembers) closeMember(i);
      if (frame?.array) frame.index++;
      else if (frame) frame.expectKey = true;
    } else if (c === COLON) {
      continue;
    } else if (isNumberStart(c)) {
      let end = i + 1;
      while (end < text.length && isNumberChar(text.charCodeAt(end))) end++;
      if (numberKeys.size > 0) recordNumber(i, end);
      i = end - 1;
    }
  }
  if (cutStart >= 0) pieces.push(text.slice(copied, cutStart), 'null');
  else if (pieces.length > 0) pieces.push(text.slice(copied));
  return { text: pieces.length === 0 ? text : pieces.join(''), depth: maxSeen, numbers, deepMembers };
}

/**
 * The nesting depth of a decoded value (an Avro record), counted iteratively and only up to
 * `limit + 1`: objects and arrays count, bytes and dates are leaves.
 */
export function valueDepth(value: unknown, limit: number): number {
  let deepest = 0;
  const stack: { value: unknown; depth: number }[] = [{ value, depth: 0 }];
  for (let item = stack.pop(); item !== undefined; item = stack.pop()) {
    const v = item.value;
    if (typeof v !== 'object' || v === null || Buffer.isBuffer(v) || v instanceof Date) continue;
    const depth = item.depth + 1;
    if (depth > deepest) deepest = depth;
    if (depth > limit) return depth;
    for (const child of Object.values(v)) stack.push({ value: child, depth });
  }
  return deepest;
}
