import fc from 'fast-check';
import { pathKey, scanJson, valueDepth } from './json-text';

/** The reference: depth and cut computed recursively on the parsed value (fine for small values). */
const depthOf = (v: unknown): number => (typeof v === 'object' && v !== null ? 1 + Math.max(0, ...Object.values(v).map(depthOf)) : 0);
const cut = (v: unknown, limit: number, level = 0): unknown => {
  if (typeof v !== 'object' || v === null) return v;
  if (level + 1 > limit) return null;
  if (Array.isArray(v)) return v.map((x) => cut(x, limit, level + 1));
  return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, cut(x, limit, level + 1)]));
};

describe('scanJson: nesting depth', () => {
  it.each([
    ['1', 0],
    ['"[[[{{{"', 0],
    ['[]', 1],
    ['{"a":[1,{"b":[]}]}', 4],
    ['["\\"[", ["\\\\"]]', 2],
  ])('measures %s as %i levels, brackets in strings and escaped quotes not counted', (text, depth) => {
    const scan = scanJson(text, 100);
    expect(scan.depth).toBe(depth);
    expect(scan.text).toBe(text);
  });

  it('replaces every container opening below the limit by null, keeping the rest as written', () => {
    const text = '{"id":"x","junk":[[[1]]],"keep":[2]}';
    const scan = scanJson(text, 2);
    expect(scan.depth).toBe(4);
    expect(scan.text).toBe('{"id":"x","junk":[null],"keep":[2]}');
  });

  it('scans 1,000,000 levels without recursion, returning a text JSON.parse reads as the cut value', () => {
    const levels = 1_000_000;
    const scan = scanJson(`{"event_id":"e","junk":${'['.repeat(levels)}${']'.repeat(levels)}}`, 3);
    expect(scan.depth).toBe(levels + 1);
    expect(JSON.parse(scan.text)).toEqual({ event_id: 'e', junk: [[null]] });
  });

  it('cuts an unterminated deep text to the limit, so that JSON.parse still refuses it', () => {
    const scan = scanJson(`{"a":${'['.repeat(100)}`, 5);
    expect(scan.depth).toBe(101);
    expect(() => JSON.parse(scan.text)).toThrow(SyntaxError);
  });

  it('reports the top-level array members that were cut, with their own depth and their span as written', () => {
    const deep = `{"event_id":"d","x":${'['.repeat(10)}${']'.repeat(10)}}`;
    const text = `[ {"event_id":"a"} ,  ${deep}\n, 3, [[[[]]]] ]`;
    const scan = scanJson(text, 4, { members: true });
    expect([...scan.deepMembers.keys()]).toEqual([1, 3]);
    const member = scan.deepMembers.get(1);
    expect(member?.depth).toBe(11);
    expect(text.slice(member?.start, member?.end)).toBe(deep);
    expect(scan.deepMembers.get(3)?.depth).toBe(4);
    expect(text.slice(scan.deepMembers.get(3)?.start, scan.deepMembers.get(3)?.end)).toBe('[[[[]]]]');
    expect(JSON.parse(scan.text)).toEqual([{ event_id: 'a' }, { event_id: 'd', x: [[null]] }, 3, [[[null]]]]);
  });

  it('agrees with a recursive reference on any JSON value and limit', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 6 }), fc.integer({ min: 1, max: 7 }), fc.boolean(), (value, limit, pretty) => {
        const text = JSON.stringify(value, null, pretty ? 2 : undefined);
        const scan = scanJson(text, limit);
        expect(scan.depth).toBe(depthOf(value));
        expect(JSON.parse(scan.text)).toEqual(cut(JSON.parse(text), limit));
        if (scan.depth <= limit) expect(scan.text).toBe(text);
      }),
      { seed: 9, numRuns: 500 },
    );
  });
});

describe('scanJson: number tokens as written', () => {
  const keys = new Set(['amount', 'a"b']);

  it('keeps, by path, the tokens of the keys asked for whose JS number prints otherwise, and only those', () => {
    const scan = scanJson('{"amount":1e2,"n":1e2,"order":{"amount":12.50,"a\\"b":-0},"list":[1e2],"s":"1e5","x":{"amount":7}}', 64, { numberKeys: keys });
    expect([...(scan.numbers.get(-1) ?? new Map()).entries()]).toEqual([
      [pathKey(['amount']), '1e2'],
      [pathKey(['order', 'amount']), '12.50'],
      [pathKey(['order', 'a"b']), '-0'],
    ]);
  });

  it('reads escaped keys, and keeps the last token of a repeated key, as JSON.parse keeps the last value', () => {
    const scan = scanJson('{"amount":12.50,"\\u0061mount":1e2}', 64, { numberKeys: keys });
    expect(scan.numbers.get(-1)?.get(pathKey(['amount']))).toBe('1e2');
    expect(JSON.parse(scan.text)).toEqual({ amount: 100 });
  });

  it('reports them per member of a top-level array, with paths inside the member', () => {
    const scan = scanJson('[{"amount":1},{"amount":1e-400},{"amount":2.0}]', 65, { members: true, numberKeys: keys });
    expect([...scan.numbers.keys()]).toEqual([1, 2]);
    expect(scan.numbers.get(1)?.get(pathKey(['amount']))).toBe('1e-400');
    expect(scan.numbers.get(2)?.get(pathKey(['amount']))).toBe('2.0');
  });

  it('ignores numbers inside a container cut for depth', () => {
    expect(scanJson('{"a":[[{"amount":1e2}]]}', 2, { numberKeys: keys }).numbers.size).toBe(0);
  });
});

describe('valueDepth', () => {
  it('counts objects and arrays, not bytes or dates, and stops one past the limit', () => {
    expect(valueDepth({ a: [Buffer.from('x'), new Date(0)], b: 'c' }, 10)).toBe(2);
    let deep: unknown = {};
    for (let i = 0; i < 100_000; i++) deep = { next: deep };
    expect(valueDepth(deep, 64)).toBe(65);
  });
});
