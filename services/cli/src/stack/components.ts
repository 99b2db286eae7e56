import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { TierstreamError } from '@tierstream/runtime';
import { apicurioDistribution, kafkaClasspath, kafkaJars } from './artifacts';
import { kafkaProbe, redisProbe, registryProbe, type Probe } from './health';
import { findJava } from './java';
import { startDetached, type ManagedProcess } from './process-control';
import { localEndpoints, type StackSettings } from './settings';

const run = promisify(execFile);

/** One server of the local stack: how to prepare it, start it and tell it is healthy. */
export interface StackComponent {
  readonly name: 'redis' | 'kafka' | 'schema-registry';
  readonly process: ManagedProcess;
  readonly ports: readonly number[];
  readonly probe: Probe;
  /** Downloads, configuration files and one-time storage formatting; idempotent. */
  prepare(): Promise<void>;
  /** Starts the process and returns its PID. */
  start(): number;
}

function managed(settings: StackSettings, name: string, workDir: string): ManagedProcess {
  return {
    name,
    pidFile: path.join(settings.runDir, `${name}.pid`),
    logFile: path.join(settings.runDir, 'logs', `${name}.log`),
    workDir,
  };
}

export function redisComponent(settings: StackSettings): StackComponent {
  const dir = path.join(settings.runDir, 'redis');
  const conf = path.join(dir, 'redis.conf');
  const proc = managed(settings, 'redis', dir);
  return {
    name: 'redis',
    process: proc,
    ports: [settings.ports.redis],
    probe: redisProbe(localEndpoints(settings).redisUrl),
    async prepare() {
      fs.mkdirSync(dir, { recursive: true });
      // AOF on, fsync before each reply: the fault tests kill Redis and expect every write it
      // acknowledged back; `everysec` loses some at a kill -9 (docs/delivery-guarantees.md).
      fs.writeFileSync(
        conf,
        [`bind 127.0.0.1`, `port ${settings.ports.redis}`, `dir ${dir}`, 'appendonly yes', 'appendfsync always', 'save ""', 'protected-mode yes', 'daemonize no', ''].join('\n'),
      );
    },
    start() {
      return startDetached(proc, 'redis-server', [conf], process.env);
    },
  };
}

export function kafkaComponent(settings: StackSettings): StackComponent {
  const dir = path.join(settings.runDir, 'kafka');
  const dataDir = path.join(dir, 'data');
  const props = path.join(dir, 'server.properties');
  const proc = managed(settings, 'kafka', dir);
  const log4j2 = Number(settings.kafkaVersion.split('.')[0]) >= 4;
  let classpath = '';
  let java = '';
  return {
    name: 'kafka',
    process: proc,
    ports: [settings.ports.kafka, settings.ports.kafkaController],
    probe: kafkaProbe(localEndpoints(settings).kafkaBrokers),
    async prepare() {
      fs.mkdirSync(dir, { recursive: true });
      java = findJava(settings.javaHome).bin;
      classpath = kafkaClasspath(await kafkaJars(settings), settings.kafkaVersion);
      const { kafka, kafkaController } = settings.ports;
      fs.writeFileSync(props, kafkaServerProperties(dataDir, kafka, kafkaController));
      fs.writeFileSync(path.join(dir, 'log4j2.yaml'), LOG4J2_YAML);
      fs.writeFileSync(path.join(dir, 'log4j.properties'), LOG4J_PROPERTIES);
      if (!fs.existsSync(path.join(dataDir, 'meta.properties'))) {
        // A Kafka cluster id is 16 random bytes, base64url without padding.
        const clusterId = randomBytes(16).toString('base64url');
        try {
          await run(java, ['-cp', classpath, ...logArgs(dir, log4j2), 'kafka.tools.StorageTool', 'format', '-t', clusterId, '-c', props], { cwd: dir });
        } catch (err) {
          const e = err as { stdout?: string; stderr?: string };
          throw new TierstreamError('TS_ERR_STACK_START', `kafka: formatting ${dataDir} failed: ${`${e.stdout ?? ''}${e.stderr ?? ''}`.trim().slice(-1500)}`, { cause: err });
        }
      }
    },
    start() {
      const heap = process.env['TIERSTREAM_KAFKA_HEAP'] ?? '-Xms256m -Xmx768m';
      return startDetached(proc, java, [...heap.split(/\s+/), '-cp', classpath, ...logArgs(dir, log4j2), 'kafka.Kafka', props], process.env);
    },
  };
}

function logArgs(dir: string, log4j2: boolean): string[] {
  return log4j2 ? [`-Dlog4j2.configurationFile=${path.join(dir, 'log4j2.yaml')}`] : [`-Dlog4j.configuration=file:${path.join(dir, 'log4j.properties')}`];
}

export function kafkaServerProperties(dataDir: string, port: number, controllerPort: number): string {
  return [
    'process.roles=broker,controller',
    'node.id=1',
    `controller.quorum.voters=1@127.0.0.1:${controllerPort}`,
    `listeners=PLAINTEXT://127.0.0.1:${port},CONTROLLER://127.0.0.1:${controllerPort}`,
    `advertised.listeners=PLAINTEXT://127.0.0.1:${port}`,
    'controller.listener.names=CONTROLLER',
    'inter.broker.listener.name=PLAINTEXT',
    'listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT',
    `log.dirs=${dataDir}`,
    // Topics come from infra/topics.yaml only; a typo must not create one.
    'auto.create.topics.enable=false',
    'num.partitions=1',
    'offsets.topic.replication.factor=1',
    // Fewer internal partitions: faster start on a 2-core machine, same semantics.
    'offsets.topic.num.partitions=8',
    'transaction.state.log.num.partitions=8',
    'transaction.state.log.replication.factor=1',
    'transaction.state.log.min.isr=1',
    'share.coordinator.state.topic.replication.factor=1',
    'share.coordinator.state.topic.min.isr=1',
    'group.initial.rebalance.delay.ms=0',
    '',
  ].join('\n');
}

const LOG4J2_YAML = `Configuration:
  Appenders:
    Console:
      name: STDOUT
      PatternLayout:
        pattern: "[%d] %p %m (%c)%n"
  Loggers:
    Root:
      level: INFO
      AppenderRef:
        - ref: STDOUT
    Logger:
      - name: kafka.request.logger
        level: WARN
`;

const LOG4J_PROPERTIES = `log4j.rootLogger=INFO, stdout
log4j.appender.stdout=org.apache.log4j.ConsoleAppender
log4j.appender.stdout.layout=org.apache.log4j.PatternLayout
log4j.appender.stdout.layout.ConversionPattern=[%d] %p %m (%c)%n
log4j.logger.kafka.request.logger=WARN
`;

export function registryComponent(settings: StackSettings): StackComponent {
  const dir = path.join(settings.runDir, 'schema-registry');
  const proc = managed(settings, 'schema-registry', dir);
  let java = '';
  let distribution = '';
  return {
    name: 'schema-registry',
    process: proc,
    ports: [settings.ports.registry, settings.ports.registryManagement],
    probe: registryProbe(localEndpoints(settings).schemaRegistryUrl),
    async prepare() {
      fs.mkdirSync(dir, { recursive: true });
      java = findJava(settings.javaHome).bin;
      distribution = await apicurioDistribution(settings);
    },
    start() {
      const env: NodeJS.ProcessEnv = {
        ...process.env,
        // KafkaSQL: the registry's state is a journal topic on our broker, so schema ids survive restarts.
        APICURIO_STORAGE_KIND: 'kafkasql',
        APICURIO_KAFKASQL_BOOTSTRAP_SERVERS: localEndpoints(settings).kafkaBrokers.join(','),
        QUARKUS_HTTP_HOST: '127.0.0.1',
        QUARKUS_HTTP_PORT: String(settings.ports.registry),
        QUARKUS_MANAGEMENT_HOST: '127.0.0.1',
        QUARKUS_MANAGEMENT_PORT: String(settings.ports.registryManagement),
        // @kafkajs/confluent-schema-registry compares a subject's compatibility with its own
        // (BACKWARD); Apicurio answers the global rule for subjects without one.
        APICURIO_RULES_GLOBAL_COMPATIBILITY: 'BACKWARD',
        QUARKUS_LOG_CONSOLE_JSON: 'false',
      };
      const heap = process.env['TIERSTREAM_REGISTRY_HEAP'] ?? '-Xms128m -Xmx512m';
      return startDetached(proc, java, [...heap.split(/\s+/), '-jar', path.join(distribution, 'quarkus-run.jar')], env);
    },
  };
}
