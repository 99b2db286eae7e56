import fs from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { compilePolicy, PolicyError, type Policy } from '@tierstream/domain';
import { TierstreamError } from '../errors';

/** policies/default.yaml, from src/ or dist/ (and in the container image). */
export const DEFAULT_POLICY_FILE = path.resolve(__dirname, '..', '..', '..', '..', 'policies', 'default.yaml');

/** Reads, parses and compiles a policy file; every problem is reported with file and path. */
export function loadPolicyFile(file: string): Policy {
  const shown = path.relative(process.cwd(), file) || file;
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new TierstreamError('TS_ERR_POLICY', `cannot read policy ${shown}: ${(err as Error).message}`, { cause: err });
  }
  let doc: unknown;
  try {
    doc = parse(text);
  } catch (err) {
    throw new TierstreamError('TS_ERR_POLICY', `${shown}: not valid YAML: ${(err as Error).message}`, { cause: err });
  }
  try {
    return compilePolicy(doc, shown);
  } catch (err) {
    if (err instanceof PolicyError) throw new TierstreamError('TS_ERR_POLICY', err.message, { cause: err, context: { file: shown, problems: err.problems } });
    throw err;
  }
}
