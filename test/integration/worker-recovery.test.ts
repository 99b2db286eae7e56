// Defect 5 of issue 9: how long a worker killed with SIGKILL and restarted 1 s later (as
// Kubernetes would) takes to consume again. The figures are printed, not asserted (the
// machine is shared); the test asserts the behaviour: it resumes and consumes everything.
import os from 'node:os';
import path from 'node:path';
import fs from 'node:fs';
import { Partitioners, type Admin, type Message, type Producer } from 'kafkajs';
import type { CustomerEvent, TierChanged } from '@tierstream/domain';
import { AvroCodec, createSchemaRegistry, SchemaFiles, topicNames, type Endpoints } from '@tierstream/runtime';
import { committedOffsets, lag, sum } from '../../services/cli/src/demo/consumer-lag';
import { toUpstreamJson } from '../../services/cli/src/demo/upstream-json';
import { tierChange } from '../../services/notifier/src/testing/fixtures';
import { provisionNamespace, workerEnv } from '../support/pipeline';
import { testKafka, waitFor } from '../support/test-stack';
import { unusedPort, WorkerChild, type WorkerBinary } from '../support/worker-process';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const order = (seq: number, ns: string): CustomerEvent => ({
  event_id: `${ns}e-${seq}`,
  customer_id: `c-${seq % 40}`,
  type: 'ORDER',
  event_time: Date.UTC(2026, 0, 1) + seq * 60_000,
  channel: 'web',
  region: 'CN-SH',
  customer_type: 'B2C',
  industry: null,
  order: { order_id: `o-${seq}`, amount_minor: 1_000 + (seq % 7) * 10_000, currency: 'CNY', item_count: 1 },
  refund: null,
  interaction: null,
  feedback: null,
  attributes: {},
});

interface Subject {
  readonly input: string;
  readonly group: string;
  readonly env: Record<string, string>;
  /** Records number `seq` of the worker's input. */
  message(seq: number): Promise<Message>;
}

async function subjectFor(name: WorkerBinary, namespace: string, endpoints: Endpoints): Promise<Subject> {
  const topics = topicNames(namespace);
  const registry = createSchemaRegistry(endpoints.schemaRegistryUrl);
  if (name === 'ingest') {
    return {
      input: topics.raw,
      group: `${namespace}tierstream-ingest`,
      env: {},
      message: async (seq) => {
        const e = order(seq, namespace);
        return { key: e.customer_id, value: JSON.stringify(toUpstreamJson(e)) };
      },
    };
  }
  if (name === 'scoring') {
    const codec = new AvroCodec<CustomerEvent>(registry, topics.events, SchemaFiles.customerEvent);
    await codec.init();
    return {
      input: topics.events,
      group: `${namespace}tierstream-scoring`,
      env: {},
      message: async (seq) => {
        const e = order(seq, namespace);
        return { key: e.customer_id, value: await codec.encode(e) };
      },
    };
  }
  const codec = new AvroCodec<TierChanged>(registry, topics.tierChanged, SchemaFiles.tierChanged);
  await codec.init();
  return {
    input: topics.tierChanged,
    group: `${namespace}tierstream-notifier`,
    env: { NOTIFIER_SUBSCRIBERS: JSON.stringify([{ id: 'log', type: 'log' }]) },
    message: async (seq) => {
      const c = tierChange({ customer_id: `c-${seq % 40}`, transition_id: `c-${seq % 40}/value/${seq}`, tier_version: seq, emitted_at: Date.now() });
      return { key: c.customer_id, value: await codec.encode(c) };
    },
  };
}

/** Produces a few records every 100 ms until stopped; returns how many it produced. */
function feed(producer: Producer, subject: Subject): { stop(): Promise<number> } {
  let seq = 0;
  let running = true;
  const loop = (async () => {
    while (running) {
      const messages = await Promise.all(Array.from({ length: 5 }, () => subject.message(seq++)));
      await producer.send({ topic: subject.input, acks: -1, messages });
      await sleep(100);
    }
  })();
  return {
    stop: async () => {
      running = false;
      await loop;
      return seq;
    },
  };
}

describe('a worker killed with SIGKILL and restarted 1 s later', () => {
  const logDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tierstream-recovery-'));
  const kafka = testKafka();
  let admin: Admin;
  let producer: Producer;
  const children: WorkerChild[] = [];

  beforeAll(async () => {
    admin = kafka.admin();
    await admin.connect();
    producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
    await producer.connect();
  });
  afterAll(async () => {
    await Promise.all(children.map((c) => c.kill('SIGKILL')));
    await producer?.disconnect();
    await admin?.disconnect();
  });

  it.each<WorkerBinary>(['ingest', 'scoring', 'notifier'])(
    '%s resumes after the restart and consumes every record',
    async (name) => {
      const { namespace, endpoints } = await provisionNamespace(`recovery-${name}`, 3);
      const subject = await subjectFor(name, namespace, endpoints);
      const env = workerEnv(namespace, endpoints, { HTTP_PORT: String(await unusedPort()), LOG_LEVEL: 'info', ...subject.env });
      const logFile = path.join(logDir, `${name}.log`);
      const start = () => {
        const child = new WorkerChild(name, env, logFile);
        children.push(child);
        return child;
      };
      const committed = async () => sum(await committedOffsets(admin, subject.group, subject.input));

      const first = start();
      const input = feed(producer, subject);
      await waitFor(async () => ((await committed()) > 0 ? true : undefined), 90_000, `${name} to commit a first batch (log ${logFile})`);

      const killedAt = Date.now();
      await first.kill('SIGKILL');
      await sleep(1000);
      const restartedAt = Date.now();
      const before = await committed();
      const second = start();
      await waitFor(async () => ((await committed()) > before ? true : undefined), 90_000, `${name} to consume again after the restart (log ${logFile})`);
      const resumedAt = Date.now();

      const produced = await input.stop();
      await waitFor(async () => ((await lag(admin, subject.group, subject.input)) === 0 ? true : undefined), 90_000, `${name} to consume all ${produced} records (log ${logFile})`);
      process.stdout.write(
        `recovery ${name}: consuming again ${((resumedAt - killedAt) / 1000).toFixed(1)} s after the SIGKILL, ${((resumedAt - restartedAt) / 1000).toFixed(1)} s after the restart (${produced} records)\n`,
      );
      expect(await lag(admin, subject.group, subject.input)).toBe(0);
      expect(await second.kill('SIGTERM')).toEqual({ code: 0, signal: null });
    },
    300_000,
  );

  it('notifier killed again while it joins (its predecessor killed just before) resumes and consumes every record', async () => {
    const { namespace, endpoints } = await provisionNamespace('recovery-join', 3);
    const subject = await subjectFor('notifier', namespace, endpoints);
    const env = workerEnv(namespace, endpoints, { HTTP_PORT: '0', LOG_LEVEL: 'info', ...subject.env });
    const logFile = path.join(logDir, 'notifier-join.log');
    const start = () => {
      const child = new WorkerChild('notifier', env, logFile);
      children.push(child);
      return child;
    };
    const committed = async () => sum(await committedOffsets(admin, subject.group, subject.input));
    const groupState = async () => (await admin.describeGroups([subject.group])).groups[0]?.state;

    const first = start();
    const input = feed(producer, subject);
    await waitFor(async () => ((await committed()) > 0 ? true : undefined), 90_000, `a first commit (log ${logFile})`);
    await first.kill('SIGKILL');
    await sleep(1000);
    const second = start();
    // Its JoinGroup is in: the group waits for the first one's session.
    await waitFor(async () => ((await groupState()) === 'PreparingRebalance' ? true : undefined), 60_000, 'the second notifier to be joining');
    const killedAt = Date.now();
    await second.kill('SIGKILL');
    await sleep(1000);
    const restartedAt = Date.now();
    const before = await committed();
    const third = start();
    await waitFor(async () => ((await committed()) > before ? true : undefined), 120_000, `consuming again after the second kill (log ${logFile})`);
    const resumedAt = Date.now();
    const produced = await input.stop();
    await waitFor(async () => ((await lag(admin, subject.group, subject.input)) === 0 ? true : undefined), 90_000, `all ${produced} records consumed (log ${logFile})`);
    process.stdout.write(
      `recovery notifier killed while joining: consuming again ${((resumedAt - killedAt) / 1000).toFixed(1)} s after the second SIGKILL, ${((resumedAt - restartedAt) / 1000).toFixed(1)} s after the restart (${produced} records)\n`,
    );
    expect(await lag(admin, subject.group, subject.input)).toBe(0);
    expect(await third.kill('SIGTERM')).toEqual({ code: 0, signal: null });
  }, 300_000);
});
