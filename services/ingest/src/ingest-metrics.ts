import { Counter } from 'prom-client';
import type { WorkerMetrics } from '@tierstream/runtime';

export type IngestSource = 'kafka' | 'http';

/**
 * Ingest's own counters, on the worker's registry beside WorkerMetrics (events in/out and
 * dead letters by reason come from there).
 */
export class IngestMetrics {
  readonly duplicates: Counter<'source'>;
  readonly rejected: Counter<'source' | 'reason'>;
  readonly httpRequests: Counter<'status'>;

  constructor(readonly worker: WorkerMetrics) {
    const registers = [worker.registry];
    this.duplicates = new Counter({
      name: 'tierstream_ingest_duplicates_total',
      help: 'Events dropped because their event_id was already ingested within the dedupe horizon',
      labelNames: ['source'],
      registers,
    });
    this.rejected = new Counter({
      name: 'tierstream_ingest_rejected_total',
      help: 'Events not accepted, by source and reason code (all but TS_ERR_INGEST_DUPLICATE_IN_FLIGHT also go to the DLQ)',
      labelNames: ['source', 'reason'],
      registers,
    });
    this.httpRequests = new Counter({ name: 'tierstream_ingest_http_requests_total', help: 'POST /v1/events requests by answer status', labelNames: ['status'], registers });
  }
}
