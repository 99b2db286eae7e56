import { chunkMessages } from './chunk-messages';

describe('chunkMessages', () => {
  const msg = (n: number, bytes: number) => ({ key: `k${n}`, value: Buffer.alloc(bytes) });

  it('keeps order and stays under the limit per chunk', () => {
    const messages = Array.from({ length: 10 }, (_, i) => msg(i, 300));
    const chunks = chunkMessages(messages, 1000);
    expect(chunks.flat()).toEqual(messages);
    expect(chunks.map((c) => c.length)).toEqual([2, 2, 2, 2, 2]);
  });

  it('sends a message larger than the limit alone, and nothing for nothing', () => {
    expect(chunkMessages([msg(1, 10), msg(2, 5000), msg(3, 10)], 1000).map((c) => c.map((m) => m.key))).toEqual([['k1'], ['k2'], ['k3']]);
    expect(chunkMessages([], 1000)).toEqual([]);
  });
});
