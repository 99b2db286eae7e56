import { Kafka, logLevel, type LogEntry, type logCreator } from 'kafkajs';
import type { Logger } from '../logger';

export interface KafkaClientSettings {
  readonly clientId: string;
  readonly brokers: readonly string[];
  readonly logger: Logger;
}

const LEVELS: Record<number, 'error' | 'warn' | 'info' | 'debug'> = {
  [logLevel.ERROR]: 'error',
  [logLevel.WARN]: 'warn',
  [logLevel.INFO]: 'info',
  [logLevel.DEBUG]: 'debug',
};

/** Routes KafkaJS's own log lines into our pino logger, namespaced per component. */
function pinoLogCreator(root: Logger): logCreator {
  return () => (entry: LogEntry) => {
    const { message, ...rest } = entry.log;
    const level = LEVELS[entry.level] ?? 'info';
    root.child({ component: `kafkajs.${entry.namespace}` })[level](rest, message);
  };
}

export function createKafka(settings: KafkaClientSettings): Kafka {
  return new Kafka({
    clientId: settings.clientId,
    brokers: [...settings.brokers],
    logLevel: logLevel.WARN,
    logCreator: pinoLogCreator(settings.logger),
    retry: { initialRetryTime: 200, retries: 8 },
  });
}
