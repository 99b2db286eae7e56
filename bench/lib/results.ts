import fs from 'node:fs';
import path from 'node:path';

/** JSON with two-space indents, but arrays of numbers (samples, per-partition counts) on one line each. */
export const formatResult = (result: unknown): string =>
  JSON.stringify(result, null, 2).replace(/\[\s*(-?[\d.e+-]+(?:,\s*-?[\d.e+-]+)*)\s*\]/g, (_, numbers: string) => `[${numbers.split(/,\s*/).join(', ')}]`);

/** Writes the result as `sweep-rate-<timestamp>.json` and `sweep-rate-latest.json`, each atomically (.tmp, then rename). */
export function writeResult(dir: string, startedAt: Date, result: unknown): string {
  fs.mkdirSync(dir, { recursive: true });
  const stamp = startedAt.toISOString().replace(/\.\d+Z$/, 'Z').replace(/:/g, '-');
  const text = `${formatResult(result)}\n`;
  const file = path.join(dir, `sweep-rate-${stamp}.json`);
  for (const target of [file, path.join(dir, 'sweep-rate-latest.json')]) {
    fs.writeFileSync(`${target}.tmp`, text);
    fs.renameSync(`${target}.tmp`, target);
  }
  return file;
}

export const int = (n: number): string => Math.round(n).toLocaleString('en-US');
export const fixed = (n: number, digits = 1): string => n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
export const mib = (bytes: number): string => `${fixed(bytes / 2 ** 20, 0)} MiB`;
export const pct = (share: number | null): string => (share === null ? 'n/a' : `${fixed(share * 100, 0)}%`);

/** Writes the result under each of `names` in `dir`, each atomically (.tmp, then rename); returns the first path. */
export function writeResultFiles(dir: string, names: readonly string[], result: unknown): string {
  fs.mkdirSync(dir, { recursive: true });
  const text = `${formatResult(result)}\n`;
  for (const name of names) {
    const target = path.join(dir, name);
    fs.writeFileSync(`${target}.tmp`, text);
    fs.renameSync(`${target}.tmp`, target);
  }
  return path.join(dir, names[0] ?? '');
}
