import { runWorkerMain } from '@tierstream/runtime';
import { buildNotifier } from './notifier-worker';

runWorkerMain('notifier', buildNotifier(process.env));
