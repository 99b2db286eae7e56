import { uncommittedRecords } from './committed-records';

const batch = (...offsets: number[]) => offsets.map((o) => ({ offset: String(o) }));

describe('uncommittedRecords', () => {
  it('drops the records below the committed offset and keeps the rest in order', () => {
    expect(uncommittedRecords(batch(10, 11, 12, 13), 12)).toEqual(batch(12, 13));
  });
  it('keeps the whole batch when the committed offset is at its first record or none is committed', () => {
    expect(uncommittedRecords(batch(10, 11), 10)).toEqual(batch(10, 11));
    expect(uncommittedRecords(batch(10, 11), -1)).toEqual(batch(10, 11));
  });
  it('returns nothing when the group committed past the whole batch', () => {
    expect(uncommittedRecords(batch(10, 11), 12)).toEqual([]);
  });
});
