import { Kafka } from 'kafkajs';
import type { Redis } from 'ioredis';
import { workerConfigFromEnv, type Env, type WorkerConfig, type WorkerName } from '../config';
import { isTierstreamError } from '../errors';
import { OpsServer, type ReadinessCheck, type RouteHandler } from '../http/ops-server';
import { createKafka } from '../kafka/client';
import { createLogger, type Logger } from '../logger';
import { WorkerMetrics } from '../metrics/worker-metrics';
import { createRedis } from '../redis/connection';
import { createSchemaRegistry, type SchemaRegistry } from '../registry/avro-registry';

/** What every worker gets: typed config and the shared clients. */
export interface WorkerContext {
  readonly config: WorkerConfig;
  readonly logger: Logger;
  readonly metrics: WorkerMetrics;
  readonly kafka: Kafka;
  readonly registry: SchemaRegistry;
  readonly redis: Redis;
}

/** A running worker's own part: started once, stopped once on SIGTERM. */
export interface WorkerProcess {
  start(): Promise<void>;
  /** Finish the batch in hand, commit, leave the group. */
  stop(): Promise<void>;
  readonly routes?: RouteHandler;
}

export interface RunningWorker {
  readonly httpPort: number;
  /** Idempotent: stops the worker, then the HTTP server and clients. */
  close(): Promise<void>;
}

/** The /readyz checks, each named for the part it probes, and a close() for the admin client the Kafka check keeps open. */
function readinessChecks(ctx: WorkerContext): { checks: Record<string, ReadinessCheck>; close: () => Promise<void> } {
  const admin = ctx.kafka.admin();
  let connected: Promise<void> | undefined;
  // One probe at a time: kafkajs retries a call for long while the broker is gone, and a
  // probe every few seconds must not pile them up.
  let probe: Promise<string | undefined> | undefined;
  const probeKafka = async (): Promise<string | undefined> => {
    try {
      connected ??= admin.connect();
      await connected;
      const { brokers } = await admin.describeCluster();
      return brokers.length > 0 ? undefined : 'no broker in metadata';
    } catch (err) {
      // A failed connect is not kept: the next probe connects again.
      connected = undefined;
      throw err;
    }
  };
  const checks: Record<string, ReadinessCheck> = {
    kafka: () =>
      (probe ??= probeKafka().finally(() => {
        probe = undefined;
      })),
    schemaRegistry: async () => {
      const res = await fetch(`${ctx.config.endpoints.schemaRegistryUrl}/subjects`, { signal: AbortSignal.timeout(1500) }).catch((err: unknown) => {
        // undici says only 'fetch failed'; the socket's reason is its cause.
        const cause = (err as { cause?: { code?: unknown; message?: unknown } }).cause;
        throw new Error(`unreachable: ${String(cause?.code ?? cause?.message ?? (err as Error).message)}`);
      });
      return res.ok ? undefined : `GET /subjects answered ${res.status}`;
    },
    redis: async () => {
      // Commands wait for a reconnect before they fail: the connection's state answers at once.
      if (ctx.redis.status !== 'ready') return `not connected (${ctx.redis.status})`;
      return (await ctx.redis.ping()) === 'PONG' ? undefined : 'PING did not answer PONG';
    },
    // Joined, not crashed: the dependencies may answer while the group member does not consume.
    consumer: async () => {
      const problems = Object.entries(ctx.metrics.consumerProblems());
      return problems.length === 0 ? undefined : problems.map(([group, problem]) => `${group}: ${problem}`).join('; ');
    },
  };
  return { checks, close: async () => (connected ? admin.disconnect() : undefined) };
}

/**
 * Builds the shared context from the environment, starts the worker and its HTTP server
 * (/healthz, /readyz, /metrics), and returns a handle whose close() shuts down in order.
 */
export async function startWorker(name: WorkerName, env: Env, build: (ctx: WorkerContext) => WorkerProcess): Promise<RunningWorker> {
  const config = workerConfigFromEnv(name, env);
  const logger = createLogger({ name: `tierstream-${name}`, level: config.logLevel });
  const metrics = new WorkerMetrics(name);
  const kafka = createKafka({ clientId: config.kafkaClientId, brokers: config.endpoints.kafkaBrokers, logger, consumerGroup: config.consumerGroup });
  const registry = createSchemaRegistry(config.endpoints.schemaRegistryUrl);
  const redis = createRedis(config.endpoints.redisUrl, logger, { commandTimeoutMs: config.redisCommandTimeoutMs });
  const ctx: WorkerContext = { config, logger, metrics, kafka, registry, redis };
  const worker = build(ctx);
  const readiness = readinessChecks(ctx);
  const ops = new OpsServer({
    port: config.httpPort,
    logger,
    metrics,
    checks: readiness.checks,
    ...(worker.routes ? { routes: worker.routes } : {}),
  });
  const closeAll = async (): Promise<void> => {
    ops.drain();
    await worker.stop();
    await ops.close();
    await readiness.close();
    redis.disconnect();
  };
  const httpPort = await ops.start();
  try {
    await worker.start();
  } catch (err) {
    // Leave nothing open behind a failed start (an in-process caller lives on).
    await closeAll().catch((closeErr: unknown) => logger.warn({ err: closeErr }, `closing after a failed start of ${name} failed`));
    throw err;
  }
  logger.info({ httpPort, namespace: config.namespace }, `${name} worker started`);
  let closing: Promise<void> | undefined;
  return {
    httpPort,
    close: () =>
      (closing ??= (async () => {
        await closeAll();
        logger.info(`${name} worker stopped`);
      })()),
  };
}

/**
 * The whole of a worker's main.ts: start, stop cleanly on SIGTERM/SIGINT (exit 0), and
 * exit 1 with a clear message on a start failure (a config error names each variable).
 * The signal handlers come first: a signal during start (e.g. while joining the group) stops
 * the worker as soon as the start settled, and it still exits 0.
 */
export function runWorkerMain(name: WorkerName, build: (ctx: WorkerContext) => WorkerProcess): void {
  let running: RunningWorker | undefined;
  let signalled = false;
  const shutdown = (worker: RunningWorker): void => {
    worker.close().then(
      () => process.exit(0),
      (err: unknown) => {
        process.stderr.write(`${name}: shutdown failed: ${String(err)}\n`);
        process.exit(1);
      },
    );
  };
  const onSignal = (signal: NodeJS.Signals): void => {
    if (signalled) {
      process.stderr.write(`${name}: ${signal} received again, still stopping\n`);
      return;
    }
    signalled = true;
    process.stderr.write(running ? `${name}: ${signal} received, finishing the batch in hand\n` : `${name}: ${signal} received while starting, stopping once the start settled\n`);
    if (running) shutdown(running);
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  startWorker(name, process.env, build).then(
    (worker) => {
      running = worker;
      if (signalled) shutdown(worker);
    },
    (err: unknown) => {
      process.stderr.write(isTierstreamError(err) ? `${name}: ${err.code}: ${err.message}\n` : `${name}: failed to start: ${(err as Error).stack ?? String(err)}\n`);
      process.exit(1);
    },
  );
}
