import path from 'node:path';
import { kafkaComponent, redisComponent, registryComponent, type StackComponent } from '../../services/cli/src/stack/components';
import { LocalStack } from '../../services/cli/src/stack/local-stack';
import { alive, runningPid } from '../../services/cli/src/stack/process-control';
import { REPO_ROOT, stackSettingsFromEnv, type StackSettings } from '../../services/cli/src/stack/settings';
import type { StackPart } from './schedule';

/**
 * The chaos suite's own stack: it kills Kafka, Redis and the registry, so it must never be
 * the shared one (19092/18081/16379) other suites test against.
 */
export const CHAOS_STACK_ENV = {
  TIERSTREAM_RUN_DIR: path.join(REPO_ROOT, '.tierstream', 'chaos'),
  TIERSTREAM_KAFKA_PORT: '29092',
  TIERSTREAM_KAFKA_CONTROLLER_PORT: '29093',
  TIERSTREAM_REGISTRY_PORT: '28081',
  TIERSTREAM_REGISTRY_MANAGEMENT_PORT: '28082',
  TIERSTREAM_REDIS_PORT: '26379',
} as const;

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export class ChaosStack {
  readonly settings: StackSettings;
  readonly stack: LocalStack;
  private readonly parts: Record<StackPart, StackComponent>;

  constructor(progress: (line: string) => void) {
    this.settings = stackSettingsFromEnv({ ...process.env, ...CHAOS_STACK_ENV });
    this.stack = new LocalStack(this.settings, progress);
    this.parts = { redis: redisComponent(this.settings), kafka: kafkaComponent(this.settings), 'schema-registry': registryComponent(this.settings) };
  }

  get endpoints() {
    return this.stack.endpoints;
  }

  /** Starts whatever is down (idempotent) and waits until all of it is healthy. */
  async up(): Promise<void> {
    await this.stack.up();
  }

  down(): Promise<string[]> {
    return this.stack.down();
  }

  /** Signals a part by its PID file and waits until the process is gone. */
  async stop(part: StackPart, signal: NodeJS.Signals, timeoutMs = 60_000): Promise<void> {
    const pid = runningPid(this.parts[part].process);
    if (pid === undefined) throw new Error(`${part} of the chaos stack is not running`);
    process.kill(pid, signal);
    const deadline = Date.now() + timeoutMs;
    while (alive(pid)) {
      if (Date.now() > deadline) {
        process.kill(pid, 'SIGKILL');
        await sleep(500);
      }
      await sleep(100);
    }
  }

  logFile(part: StackPart): string {
    return this.parts[part].process.logFile;
  }
}
