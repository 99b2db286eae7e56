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

/** The /readyz checks, and a close() for the admin client the Kafka check keeps open. */
function readinessChecks(ctx: WorkerContext): { checks: Record<string, ReadinessCheck>; close: () => Promise<void> } {
  const admin = ctx.kafka.admin();
  let adminConnected: Promise<void> | undefined;
  const checks: Record<string, ReadinessCheck> = {
    kafka: async () => {
      adminConnected ??= admin.connect();
      await adminConnected;
      const { brokers } = await admin.describeCluster();
      return brokers.length > 0 ? undefined : 'no broker in metadata';
    },
    schemaRegistry: async () => {
      const res = await fetch(`${ctx.config.endpoints.schemaRegistryUrl}/subjects`, { signal: AbortSignal.timeout(1500) });
      return res.ok ? undefined : `GET /subjects answered ${res.status}`;
    },
    redis: async () => ((await ctx.redis.ping()) === 'PONG' ? undefined : 'PING did not answer PONG'),
  };
  return { checks, close: async () => (adminConnected ? admin.disconnect() : undefined) };
}

/**
 * Builds the shared context from the environment, starts the worker and its HTTP server
 * (/healthz, /readyz, /metrics), and returns a handle whose close() shuts down in order.
 */
export async function startWorker(name: WorkerName, env: Env, build: (ctx: WorkerContext) => WorkerProcess): Promise<RunningWorker> {
  const config = workerConfigFromEnv(name, env);
  const logger = createLogger({ name: `tierstream-${name}`, level: config.logLevel });
  const metrics = new WorkerMetrics(name);
  const kafka = createKafka({ clientId: config.kafkaClientId, brokers: config.endpoints.kafkaBrokers, logger });
  const registry = createSchemaRegistry(config.endpoints.schemaRegistryUrl);
  const redis = createRedis(config.endpoints.redisUrl, logger);
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
  const httpPort = await ops.start();
  await worker.start();
  logger.info({ httpPort, namespace: config.namespace }, `${name} worker started`);
  let closing: Promise<void> | undefined;
  return {
    httpPort,
    close: () =>
      (closing ??= (async () => {
        ops.drain();
        await worker.stop();
        await ops.close();
        await readiness.close();
        redis.disconnect();
        logger.info(`${name} worker stopped`);
      })()),
  };
}

/**
 * The whole of a worker's main.ts: start, stop cleanly on SIGTERM/SIGINT (exit 0), and
 * exit 1 with a clear message on a start failure (a config error names each variable).
 */
export function runWorkerMain(name: WorkerName, build: (ctx: WorkerContext) => WorkerProcess): void {
  startWorker(name, process.env, build).then(
    (running) => {
      const shutdown = (signal: string) => {
        process.stderr.write(`${name}: ${signal} received, finishing the batch in hand\n`);
        running.close().then(
          () => process.exit(0),
          (err: unknown) => {
            process.stderr.write(`${name}: shutdown failed: ${String(err)}\n`);
            process.exit(1);
          },
        );
      };
      process.once('SIGTERM', () => shutdown('SIGTERM'));
      process.once('SIGINT', () => shutdown('SIGINT'));
    },
    (err: unknown) => {
      process.stderr.write(isTierstreamError(err) ? `${name}: ${err.code}: ${err.message}\n` : `${name}: failed to start: ${(err as Error).stack ?? String(err)}\n`);
      process.exit(1);
    },
  );
}
