/**
 * Environment every test file starts with. Handlers read their configuration at import
 * (cold start), so these must exist before any handler module is loaded.
 */
import { ENV } from '../lambda/env-names';

export const TEST_ENV = {
  AWS_REGION: 'eu-west-1',
  AWS_ACCESS_KEY_ID: 'AKIATESTTESTTEST',
  AWS_SECRET_ACCESS_KEY: 'test-secret',
  POWERTOOLS_LOG_LEVEL: 'SILENT',
  POWERTOOLS_SERVICE_NAME: 'Cuecast',
  // EMF lines would go straight to stdout; test/handlers/metrics.test.ts turns them on to read them.
  POWERTOOLS_METRICS_DISABLED: 'true',
  [ENV.QUIZZES_TABLE]: 'test-quizzes',
  [ENV.ANSWERS_TABLE]: 'test-answers',
  [ENV.TALLY_TABLE]: 'test-tally',
  [ENV.CONTROL_TABLE]: 'test-control',
  [ENV.CHANNEL_ARN]: 'arn:aws:ivs:eu-west-1:123456789012:channel/abcdEFGH1234',
  [ENV.TALLY_SHARDS]: '4',
  [ENV.ANSWER_GRACE_SECONDS]: '6',
  [ENV.DATA_RETENTION_DAYS]: '30',
  [ENV.METADATA_RATE_PER_SECOND]: '5',
  [ENV.CONNECTIONS_TABLE]: 'test-connections',
  [ENV.CALLBACK_URL]: 'https://abc123.execute-api.eu-west-1.amazonaws.com/live',
  [ENV.FAN_OUT_FUNCTION]: 'test-fan-out',
  [ENV.FAN_OUT_SEGMENTS]: '4',
  [ENV.FAN_OUT_CONCURRENCY]: '8',
  [ENV.VIEWER_TOKEN_SECRET]: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:cuecast-viewer-key-AbCdEf',
  [ENV.VIEWER_TOKEN_TTL_SECONDS]: '3600',
} as const;

Object.assign(process.env, TEST_ENV);
