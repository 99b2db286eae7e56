import fs from 'node:fs';
import { StringDecoder } from 'node:string_decoder';

/** Warnings and errors (pino levels 40 and 50+) in the workers' JSON logs, with the first of each. */
export function countLogProblems(files: readonly string[]): { warnings: number; errors: number; firstWarning: string | null; firstError: string | null } {
  let warnings = 0;
  let errors = 0;
  let firstWarning: string | null = null;
  let firstError: string | null = null;
  const see = (line: string): void => {
    const level = /"level":(\d+)/.exec(line)?.[1];
    if (level === '40') {
      warnings++;
      firstWarning ??= line.slice(0, 500);
    }
    if (level !== undefined && Number(level) >= 50) {
      errors++;
      firstError ??= line.slice(0, 500);
    }
  };
  // By chunks: a notifier logging a million transitions writes more than a string can hold.
  const chunk = Buffer.alloc(1 << 20);
  for (const f of files) {
    if (!fs.existsSync(f)) continue;
    const fd = fs.openSync(f, 'r');
    try {
      let rest = '';
      const decoder = new StringDecoder('utf8');
      for (let n = fs.readSync(fd, chunk); n > 0; n = fs.readSync(fd, chunk)) {
        const lines = (rest + decoder.write(chunk.subarray(0, n))).split('\n');
        rest = lines.pop() ?? '';
        for (const line of lines) see(line);
      }
      if (rest !== '') see(rest);
    } finally {
      fs.closeSync(fd);
    }
  }
  return { warnings, errors, firstWarning, firstError };
}
