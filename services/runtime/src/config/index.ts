export { EnvReader, type Env } from './env-reader';
export { endpointsFromEnv, readEndpoints, ENDPOINT_VARIABLES, type Endpoints } from './endpoints';
export {
  workerConfigFromEnv,
  WORKER_ENV_VARIABLES,
  WORKER_NAMES,
  DEFAULT_HTTP_PORT,
  DEFAULT_GROUP_TIMING,
  DEFAULT_REDIS_COMMAND_TIMEOUT_MS,
  type GroupTiming,
  type WorkerConfig,
  type WorkerName,
} from './worker-config';
