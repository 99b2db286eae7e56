import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/**
 * A copy of policies/default.yaml with its wall-clock tick off, as docs/scoring.md advises for
 * a replay: nothing but the partition's own records moves its watermark. Returns the file.
 */
export function replayPolicyFile(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tierstream-policy-'));
  const file = path.join(dir, 'replay.yaml');
  const source = fs.readFileSync(path.resolve(__dirname, '..', '..', 'policies', 'default.yaml'), 'utf8');
  const replay = source.replace(/wall_clock_tick: \{[^}]*\}/, 'wall_clock_tick: off');
  if (replay === source) throw new Error('policies/default.yaml has no wall_clock_tick to turn off');
  fs.writeFileSync(file, replay);
  return file;
}
