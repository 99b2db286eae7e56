import { runWorkerMain } from '@tierstream/runtime';
import { ingestConfigFromEnv } from './config';
import { IngestWorker } from './ingest-worker';

// Only wiring: the worker host reads the shared variables, ingest its own (a ConfigError
// names each bad variable and the process exits 1).
runWorkerMain('ingest', (ctx) => new IngestWorker(ctx, ingestConfigFromEnv(process.env, ctx.config.namespace)));
