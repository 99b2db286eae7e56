import { runWorkerMain } from '@tierstream/runtime';
import { scoringSettingsFromEnv } from './scoring-settings';
import { ScoringWorker } from './scoring-worker';

runWorkerMain('scoring', (ctx) => new ScoringWorker(ctx, scoringSettingsFromEnv(process.env)));
