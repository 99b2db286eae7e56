import { endpointsFromEnv } from '@tierstream/runtime';
import { LocalStack } from '../stack/local-stack';
import { stackSettingsFromEnv } from '../stack/settings';

const say = (line: string) => console.log(`  ${line}`);

function externalNotice(): boolean {
  const env = endpointsFromEnv(process.env);
  if (!env) return false;
  console.log(`KAFKA_BROKERS, SCHEMA_REGISTRY_URL and REDIS_URL are set: using them, nothing is started.`);
  console.log(`  kafka ${env.kafkaBrokers.join(',')}  registry ${env.schemaRegistryUrl}  redis ${env.redisUrl}`);
  return true;
}

export async function stackUp(): Promise<void> {
  if (externalNotice()) return;
  const settings = stackSettingsFromEnv();
  const begun = Date.now();
  console.log(`local stack (Kafka ${settings.kafkaVersion}, Apicurio Registry ${settings.apicurioVersion}, Redis) in ${settings.runDir}`);
  const report = await new LocalStack(settings, say).up();
  const secs = ((Date.now() - begun) / 1000).toFixed(1);
  console.log(report.alreadyUp ? `already up and healthy (${secs} s)` : `up and healthy in ${secs} s`);
  console.log(`  KAFKA_BROKERS=${report.endpoints.kafkaBrokers.join(',')}`);
  console.log(`  SCHEMA_REGISTRY_URL=${report.endpoints.schemaRegistryUrl}`);
  console.log(`  REDIS_URL=${report.endpoints.redisUrl}`);
}

export async function stackStatus(options: { json?: boolean }): Promise<void> {
  if (externalNotice()) return;
  const settings = stackSettingsFromEnv();
  const statuses = await new LocalStack(settings).status();
  if (options.json) console.log(JSON.stringify({ runDir: settings.runDir, kafkaVersion: settings.kafkaVersion, components: statuses }, null, 2));
  else for (const s of statuses) console.log(`${s.name.padEnd(16)} ${s.state.padEnd(10)} pid ${String(s.pid ?? '-').padEnd(8)} ${s.detail ?? ''}`);
  if (statuses.some((s) => s.state !== 'healthy')) process.exitCode = 3;
}

export async function stackDown(): Promise<void> {
  if (externalNotice()) return;
  const stopped = await new LocalStack(stackSettingsFromEnv(), say).down();
  console.log(stopped.length === 0 ? 'nothing was running' : `stopped ${stopped.join(', ')}`);
}
