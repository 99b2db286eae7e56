import { KafkaContainer } from '@testcontainers/kafka';
import { GenericContainer, Network, Wait, type StartedNetwork, type StartedTestContainer } from 'testcontainers';
import type { Endpoints } from '@tierstream/runtime';

/**
 * Kafka (KRaft), Confluent Schema Registry and Redis as containers, for machines with a
 * Docker engine. Same images as docker-compose.yml. Not exercised where there is no Docker.
 */
export interface ContainerStack {
  readonly endpoints: Endpoints;
  stop(): Promise<void>;
}

export async function startContainerStack(): Promise<ContainerStack> {
  const network: StartedNetwork = await new Network().start();
  const started: StartedTestContainer[] = [];
  try {
    const kafka = await new KafkaContainer('confluentinc/cp-kafka:7.7.1').withKraft().withNetwork(network).withNetworkAliases('kafka').start();
    started.push(kafka);
    const [registry, redis] = await Promise.all([
      new GenericContainer('confluentinc/cp-schema-registry:7.7.1')
        .withNetwork(network)
        .withEnvironment({
          SCHEMA_REGISTRY_HOST_NAME: 'schema-registry',
          SCHEMA_REGISTRY_LISTENERS: 'http://0.0.0.0:8081',
          SCHEMA_REGISTRY_KAFKASTORE_BOOTSTRAP_SERVERS: 'PLAINTEXT://kafka:9092',
        })
        .withExposedPorts(8081)
        .withWaitStrategy(Wait.forHttp('/subjects', 8081))
        .start(),
      new GenericContainer('redis:7.2').withCommand(['redis-server', '--appendonly', 'yes']).withExposedPorts(6379).withWaitStrategy(Wait.forLogMessage('Ready to accept connections')).start(),
    ]);
    started.push(registry, redis);
    return {
      endpoints: {
        kafkaBrokers: [`${kafka.getHost()}:${kafka.getMappedPort(9093)}`],
        schemaRegistryUrl: `http://${registry.getHost()}:${registry.getMappedPort(8081)}`,
        redisUrl: `redis://${redis.getHost()}:${redis.getMappedPort(6379)}`,
      },
      async stop() {
        await Promise.all(started.map((c) => c.stop()));
        await network.stop();
      },
    };
  } catch (err) {
    await Promise.allSettled(started.map((c) => c.stop()));
    await network.stop().catch(() => undefined);
    throw err;
  }
}
