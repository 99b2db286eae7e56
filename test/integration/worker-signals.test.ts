// Defect 7 of issue 9: a SIGTERM that arrives while a worker still joins its group must end
// it cleanly (exit 0), not by the signal.
import os from 'node:os';
import path from 'node:path';
import fs from 'node:fs';
import type { Admin } from 'kafkajs';
import { provisionNamespace, workerEnv } from '../support/pipeline';
import { testKafka, waitFor } from '../support/test-stack';
import { opsGet, unusedPort, WorkerChild } from '../support/worker-process';

describe('a worker signalled while it joins its group', () => {
  const logDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tierstream-signals-'));
  const children: WorkerChild[] = [];
  let admin: Admin;

  beforeAll(async () => {
    admin = testKafka().admin();
    await admin.connect();
  });
  afterAll(async () => {
    await Promise.all(children.map((c) => c.kill('SIGKILL')));
    await admin?.disconnect();
  });

  it('notifier: SIGTERM before it is ready ends it with exit code 0 once the join settled', async () => {
    const { namespace, endpoints } = await provisionNamespace('signals', 1);
    const group = `${namespace}tierstream-notifier`;
    const env = (extra: Record<string, string>) => workerEnv(namespace, endpoints, { LOG_LEVEL: 'info', NOTIFIER_SUBSCRIBERS: JSON.stringify([{ id: 'log', type: 'log' }]), ...extra });
    const state = async () => (await admin.describeGroups([group])).groups[0];

    // A member killed with SIGKILL stays in the group for its session: the next one's join waits for it.
    const dead = new WorkerChild('notifier', env({ HTTP_PORT: '0', KAFKA_SESSION_TIMEOUT_MS: '15000', KAFKA_HEARTBEAT_INTERVAL_MS: '1000' }), path.join(logDir, 'killed.log'));
    children.push(dead);
    await waitFor(async () => ((await state())?.state === 'Stable' ? true : undefined), 60_000, `the first notifier to join (log ${dead.logFile})`);
    await dead.kill('SIGKILL');

    const port = await unusedPort();
    const joining = new WorkerChild('notifier', env({ HTTP_PORT: String(port) }), path.join(logDir, 'signalled.log'));
    children.push(joining);
    // Its HTTP server is up (start has begun) and the group waits for the dead member: it is joining.
    await waitFor(async () => ((await opsGet(port, '/healthz'))?.status === 200 ? true : undefined), 60_000, 'the second notifier to serve /healthz');
    await waitFor(async () => ((await state())?.state === 'PreparingRebalance' ? true : undefined), 60_000, 'the second notifier to be joining');
    expect(joining.log()).not.toMatch(/notifier worker started/);

    expect(await joining.kill('SIGTERM')).toEqual({ code: 0, signal: null });
    expect(joining.log()).toMatch(/SIGTERM received while starting/);
  }, 180_000);
});
