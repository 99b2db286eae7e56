export { EnvReader, type Env } from './env-reader';
export { endpointsFromEnv, ENDPOINT_VARIABLES, type Endpoints } from './endpoints';
