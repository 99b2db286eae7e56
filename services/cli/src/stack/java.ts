import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { TierstreamError } from '@tierstream/runtime';

/** Apicurio Registry 3.3 is compiled for Java 21; Kafka needs 17. One JDK serves both. */
export const MIN_JAVA_MAJOR = 21;

export interface JavaRuntime {
  readonly bin: string;
  readonly major: number;
}

function majorOf(javaBin: string): number | undefined {
  // `java -version` writes to stderr.
  const res = spawnSync(javaBin, ['-version'], { encoding: 'utf8' });
  return res.error ? undefined : parseMajor(`${res.stderr}${res.stdout}`);
}

export function parseMajor(versionText: string): number | undefined {
  const m = /version "(\d+)(?:\.(\d+))?/.exec(versionText);
  if (!m?.[1]) return undefined;
  const first = Number(m[1]);
  return first === 1 && m[2] ? Number(m[2]) : first;
}

/**
 * The newest JDK of at least MIN_JAVA_MAJOR: an explicit home first, then JAVA_HOME,
 * `java` on PATH, and every JDK under /usr/lib/jvm.
 */
export function findJava(explicitHome: string | undefined, env: NodeJS.ProcessEnv = process.env): JavaRuntime {
  if (explicitHome) {
    const bin = path.join(explicitHome, 'bin', 'java');
    const major = majorOf(bin);
    if (major === undefined || major < MIN_JAVA_MAJOR) {
      throw new TierstreamError('TS_ERR_STACK_PREREQUISITE', `TIERSTREAM_JAVA_HOME=${explicitHome} is not a JDK ${MIN_JAVA_MAJOR}+ (found ${major ?? 'none'})`, {
        context: { variable: 'TIERSTREAM_JAVA_HOME' },
      });
    }
    return { bin, major };
  }
  const candidates = new Set<string>();
  if (env['JAVA_HOME']) candidates.add(path.join(env['JAVA_HOME'], 'bin', 'java'));
  candidates.add('java');
  const jvmRoot = '/usr/lib/jvm';
  if (fs.existsSync(jvmRoot)) {
    for (const entry of fs.readdirSync(jvmRoot)) {
      const bin = path.join(jvmRoot, entry, 'bin', 'java');
      if (fs.existsSync(bin)) candidates.add(fs.realpathSync(bin));
    }
  }
  let best: JavaRuntime | undefined;
  const seen: string[] = [];
  for (const bin of candidates) {
    const major = majorOf(bin);
    if (major === undefined) continue;
    seen.push(`${bin} (${major})`);
    if (major >= MIN_JAVA_MAJOR && (!best || major > best.major)) best = { bin, major };
  }
  if (!best) {
    throw new TierstreamError(
      'TS_ERR_STACK_PREREQUISITE',
      `no JDK ${MIN_JAVA_MAJOR}+ found (Apicurio Registry 3.3 needs it); found: ${seen.join(', ') || 'none'}. ` +
        'Install one (e.g. Temurin 21 or 25) or set TIERSTREAM_JAVA_HOME.',
    );
  }
  return best;
}
