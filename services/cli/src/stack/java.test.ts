import { parseMajor } from './java';

describe('parseMajor', () => {
  it.each([
    ['openjdk version "17.0.15" 2025-04-15', 17],
    ['openjdk version "25.0.3" 2026-04-21 LTS', 25],
    ['java version "1.8.0_402"', 8],
    ['openjdk version "21" 2023-09-19', 21],
  ])('reads %s as %i', (text, major) => {
    expect(parseMajor(text)).toBe(major);
  });

  it('returns undefined for text that is not a java -version banner', () => {
    expect(parseMajor('bash: java: command not found')).toBeUndefined();
  });
});
