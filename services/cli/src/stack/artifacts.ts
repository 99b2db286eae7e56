import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { TierstreamError } from '@tierstream/runtime';
import { REPO_ROOT, type StackSettings } from './settings';

const run = promisify(execFile);
const POM = path.join(REPO_ROOT, 'infra', 'local', 'pom.xml');
const COMPLETE = '.complete';

async function maven(args: readonly string[], what: string): Promise<void> {
  try {
    await run('mvn', ['-B', '-q', '-f', POM, ...args], { maxBuffer: 64 * 1024 * 1024 });
  } catch (err) {
    const e = err as { code?: string; stdout?: string; stderr?: string };
    const reason = e.code === 'ENOENT' ? 'mvn is not installed (apt-get install maven)' : `${e.stdout ?? ''}${e.stderr ?? ''}`.trim().slice(-2000);
    throw new TierstreamError('TS_ERR_STACK_PREREQUISITE', `could not resolve ${what} through Maven: ${reason}`, { cause: err });
  }
}

/** Resolves into `dir` once; a marker file makes later calls free and a half-done copy redone. */
async function once(dir: string, fill: (dir: string) => Promise<void>): Promise<string> {
  if (fs.existsSync(path.join(dir, COMPLETE))) return dir;
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  await fill(dir);
  fs.writeFileSync(path.join(dir, COMPLETE), new Date().toISOString());
  return dir;
}

/** The directory holding Kafka's server jars (and its logging bindings) for this version. */
export function kafkaJars(settings: StackSettings): Promise<string> {
  const dir = path.join(settings.cacheDir, `kafka-${settings.kafkaVersion}`);
  return once(dir, (d) =>
    maven(['-Pkafka', `-Dkafka.version=${settings.kafkaVersion}`, 'dependency:copy-dependencies', `-DoutputDirectory=${d}`], `Kafka ${settings.kafkaVersion}`),
  );
}

/** The unpacked Apicurio Registry distribution (quarkus-run.jar at its root from 3.3 on). */
export function apicurioDistribution(settings: StackSettings): Promise<string> {
  const dir = path.join(settings.cacheDir, `apicurio-${settings.apicurioVersion}`);
  return once(dir, async (d) => {
    await maven(['-Papicurio', `-Dapicurio.version=${settings.apicurioVersion}`, 'dependency:copy', `-DoutputDirectory=${d}`], `Apicurio Registry ${settings.apicurioVersion}`);
    const archive = fs.readdirSync(d).find((f) => f.endsWith('.tar.gz'));
    if (!archive) throw new TierstreamError('TS_ERR_STACK_PREREQUISITE', `Maven left no Apicurio archive in ${d}`);
    await run('tar', ['-xzf', archive], { cwd: d });
    fs.rmSync(path.join(d, archive));
    if (!fs.existsSync(path.join(d, 'quarkus-run.jar'))) {
      throw new TierstreamError('TS_ERR_STACK_PREREQUISITE', `Apicurio ${settings.apicurioVersion} has no quarkus-run.jar at its root; use 3.3.0 or newer`);
    }
  });
}

/** The classpath for Kafka: every jar but the logging binding of the other Kafka line. */
export function kafkaClasspath(jarDir: string, kafkaVersion: string): string {
  const log4j2 = Number(kafkaVersion.split('.')[0]) >= 4;
  const skip = log4j2 ? /^(slf4j-reload4j|reload4j)-/ : /^log4j-(slf4j-impl|core|api)-/;
  return fs
    .readdirSync(jarDir)
    .filter((f) => f.endsWith('.jar') && !skip.test(f))
    .map((f) => path.join(jarDir, f))
    .join(path.delimiter);
}
