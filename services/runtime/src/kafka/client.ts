import { createRequire } from 'node:module';
import { Kafka, logLevel, type Consumer, type ConsumerConfig, type ISocketFactory, type LogEntry, type logCreator } from 'kafkajs';
import { DEFAULT_GROUP_TIMING, type GroupTiming } from '../config';
import type { Logger } from '../logger';

export interface KafkaClientSettings {
  readonly clientId: string;
  readonly brokers: readonly string[];
  readonly logger: Logger;
  /** Session and heartbeat of every consumer of this client that sets none itself. */
  readonly consumerGroup?: GroupTiming;
  /** How connections to brokers are made; tests pass one that can cut them to play an outage. */
  readonly socketFactory?: ISocketFactory;
}

type Level = 'error' | 'warn' | 'info' | 'debug';

const LEVELS: Record<number, Level> = {
  [logLevel.ERROR]: 'error',
  [logLevel.WARN]: 'warn',
  [logLevel.INFO]: 'info',
  [logLevel.DEBUG]: 'debug',
};

interface ProtocolError {
  readonly type: string;
  readonly retriable: boolean;
  readonly message: string;
}

// kafkajs 2.2.4 (pinned, no longer developed) keeps its protocol error table internal and untyped.
const { errorCodes } = createRequire(__filename)('kafkajs/src/protocol/error') as { errorCodes: readonly ProtocolError[] };

/** Errors kafkajs handles by itself every time: expected in a healthy run, so below warn. */
const ROUTINE = new Set(['CONCURRENT_TRANSACTIONS', 'REBALANCE_IN_PROGRESS']);
/** Not retriable in the table, but kafkajs answers them by rejoining the group. */
const REJOINED = new Set(['ILLEGAL_GENERATION', 'UNKNOWN_MEMBER_ID']);

/**
 * kafkajs logs every error answer at error level, also those it retries: its Connection the
 * response, its Producer each failed attempt (CONCURRENT_TRANSACTIONS after each transaction
 * commit, about 256 lines a fault-free run). Those go to debug or warn by protocol error; an
 * operation that finally gives up still fails its caller, which logs it.
 */
const ANSWER_LEVELS = new Map<string, Level>(
  errorCodes.flatMap((e): [string, Level][] => (ROUTINE.has(e.type) ? [[e.message, 'debug']] : e.retriable || REJOINED.has(e.type) ? [[e.message, 'warn']] : [])),
);

/** Lines kafkajs writes at error level about what it recovers from by itself. */
const RECOVERED = [/^Restarting the consumer in \d+ms$/, /^The coordinator is not aware of this member, re-joining the group$/];

/** The broker's answer a kafkajs error line is about, if it is one. */
function answerOf(namespace: string, message: string, error: unknown): string | undefined {
  if (namespace === 'Connection' && message.startsWith('Response ') && typeof error === 'string') return error;
  if (namespace === 'Producer') return message.replace(/^Failed to send messages: /, '');
  return undefined;
}

/** The level a kafkajs log line gets in our logs. */
export function kafkajsLineLevel(entry: Pick<LogEntry, 'namespace' | 'level' | 'log'>): Level {
  const level = LEVELS[entry.level] ?? 'info';
  if (level !== 'error') return level;
  const { message, error } = entry.log as { message: string; error?: unknown };
  const answer = answerOf(entry.namespace, message, error);
  const demoted = answer === undefined ? undefined : ANSWER_LEVELS.get(answer);
  return demoted ?? (RECOVERED.some((re) => re.test(message)) ? 'warn' : level);
}

/** Routes KafkaJS's own log lines into our pino logger, namespaced per component. */
function pinoLogCreator(root: Logger): logCreator {
  return () => (entry: LogEntry) => {
    const { message, error, ...rest } = entry.log as LogEntry['log'] & { error?: unknown };
    // kafkajs passes the handler's Error as `error`; pino serialises an Error only as `err`.
    const fields = error instanceof Error ? { ...rest, err: error } : error === undefined ? rest : { ...rest, error };
    root.child({ component: `kafkajs.${entry.namespace}` })[kafkajsLineLevel(entry)](fields, message);
  };
}

/** A Kafka client whose consumers get the worker's group timing and retry unless they set their own. */
class WorkerKafka extends Kafka {
  constructor(
    config: ConstructorParameters<typeof Kafka>[0],
    private readonly timing: GroupTiming,
  ) {
    super(config);
  }

  override consumer(config: ConsumerConfig): Consumer {
    const { sessionTimeoutMs, heartbeatIntervalMs } = this.timing;
    return super.consumer({
      sessionTimeout: sessionTimeoutMs,
      heartbeatInterval: heartbeatIntervalMs,
      ...config,
      // kafkajs sleeps between retries of a failed batch without heartbeating: half a session
      // at most keeps the member in its group. About a minute of retries before kafkajs
      // restarts the consumer (rejoins), which rides out a dependency's short outage.
      retry: { initialRetryTime: 300, maxRetryTime: Math.min(5000, Math.floor(sessionTimeoutMs / 2)), retries: 20, ...config.retry },
    });
  }
}

export function createKafka(settings: KafkaClientSettings): Kafka {
  return new WorkerKafka(
    {
      clientId: settings.clientId,
      brokers: [...settings.brokers],
      logLevel: logLevel.WARN,
      logCreator: pinoLogCreator(settings.logger),
      retry: { initialRetryTime: 200, retries: 8 },
      ...(settings.socketFactory ? { socketFactory: settings.socketFactory } : {}),
    },
    settings.consumerGroup ?? DEFAULT_GROUP_TIMING,
  );
}
