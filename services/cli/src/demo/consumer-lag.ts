import type { Admin } from 'kafkajs';

/** Per-partition offsets of a topic: the end (high watermark) or a group's committed position. */
export type Offsets = Map<number, number>;

export async function endOffsets(admin: Admin, topic: string): Promise<Offsets> {
  const offsets = await admin.fetchTopicOffsets(topic);
  return new Map(offsets.map((o) => [o.partition, Number(o.high)]));
}

export async function committedOffsets(admin: Admin, groupId: string, topic: string): Promise<Offsets> {
  const [entry] = await admin.fetchOffsets({ groupId, topics: [topic] });
  return new Map((entry?.partitions ?? []).map((p) => [p.partition, Math.max(0, Number(p.offset))]));
}

/** How many records of `topic` the group has not committed yet. */
export async function lag(admin: Admin, groupId: string, topic: string): Promise<number> {
  const [end, committed] = await Promise.all([endOffsets(admin, topic), committedOffsets(admin, groupId, topic)]);
  let total = 0;
  for (const [p, high] of end) total += Math.max(0, high - (committed.get(p) ?? 0));
  return total;
}

export const sum = (o: Offsets): number => [...o.values()].reduce((a, b) => a + b, 0);

/**
 * Records of `topic` the group has not committed, not counting a partition's final offset:
 * on a topic written in transactions (as ingest writes customer.events.v1) the last offset
 * is a commit marker, which consumers never see and so never commit past. Zero means the
 * group has caught up with every transaction committed so far.
 */
export async function uncommitted(admin: Admin, groupId: string, topic: string): Promise<number> {
  const [end, committed] = await Promise.all([endOffsets(admin, topic), committedOffsets(admin, groupId, topic)]);
  let total = 0;
  for (const [p, high] of end) if (high > 0) total += Math.max(0, high - 1 - (committed.get(p) ?? 0));
  return total;
}

/** A worker's counter from its Prometheus /metrics, summed over labels matching `label`. */
export async function scrapeCounter(port: number, metric: string, label = ''): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  let total = 0;
  for (const line of text.split('\n')) {
    if (line.startsWith(`${metric}{`) && line.includes(label)) total += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return total;
}
