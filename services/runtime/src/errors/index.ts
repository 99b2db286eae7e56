export { ErrorCodes, type ErrorCode } from './codes';
export { TierstreamError, isTierstreamError, type TierstreamErrorOptions } from './tierstream-error';
export { ConfigError, type ConfigProblem } from './config-error';
