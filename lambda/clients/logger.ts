import { Logger } from '@aws-lambda-powertools/logger';

/** One structured logger per container; `POWERTOOLS_SERVICE_NAME` and `POWERTOOLS_LOG_LEVEL` come from the construct. */
export const logger = new Logger({ serviceName: 'cuecast' });
