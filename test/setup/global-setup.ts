import { getContainerRuntimeClient } from 'testcontainers';
import { chooseBackend } from '../../services/cli/src/stack/select-backend';
import { LocalStack } from '../../services/cli/src/stack/local-stack';
import { stackSettingsFromEnv } from '../../services/cli/src/stack/settings';
import { startContainerStack, type ContainerStack } from './testcontainers-stack';

declare global {
  // Handed from setup to teardown (same process); jest documents globalThis for this.
  var __TIERSTREAM_TEARDOWN__: (() => Promise<void>) | undefined;
}

async function dockerAvailable(): Promise<boolean> {
  try {
    await getContainerRuntimeClient();
    return true;
  } catch {
    return false;
  }
}

/**
 * Brings up the backing services once for all integration suites and hands their
 * endpoints to the test workers through the environment (workers inherit it).
 */
export default async function globalSetup(): Promise<void> {
  const choice = await chooseBackend(process.env, { dockerAvailable });
  process.env['TIERSTREAM_TEST_BACKEND'] = choice.kind;
  console.log(`\nintegration backend: ${choice.kind} (${choice.why})`);
  if (choice.kind === 'env') return;
  if (choice.kind === 'testcontainers') {
    const stack: ContainerStack = await startContainerStack();
    setEndpoints(stack.endpoints);
    globalThis.__TIERSTREAM_TEARDOWN__ = () => stack.stop();
    return;
  }
  const settings = stackSettingsFromEnv();
  const stack = new LocalStack(settings, (line) => console.log(`  ${line}`));
  const report = await stack.up();
  setEndpoints(report.endpoints);
  process.env['TIERSTREAM_TEST_KAFKA_VERSION'] = settings.kafkaVersion;
  // Stop only what this run started: a stack the developer brought up stays up.
  if (!report.alreadyUp && process.env['TIERSTREAM_KEEP_STACK'] !== '1') globalThis.__TIERSTREAM_TEARDOWN__ = async () => void (await stack.down());
}

function setEndpoints(e: { kafkaBrokers: readonly string[]; schemaRegistryUrl: string; redisUrl: string }): void {
  process.env['KAFKA_BROKERS'] = e.kafkaBrokers.join(',');
  process.env['SCHEMA_REGISTRY_URL'] = e.schemaRegistryUrl;
  process.env['REDIS_URL'] = e.redisUrl;
}
