/**
 * Names of the environment variables the constructs set and the handlers read.
 * One module, imported by both lib/ and lambda/, so a rename cannot drift.
 */
export const ENV = {
  QUIZZES_TABLE: 'CUECAST_QUIZZES_TABLE',
  ANSWERS_TABLE: 'CUECAST_ANSWERS_TABLE',
  TALLY_TABLE: 'CUECAST_TALLY_TABLE',
  CONTROL_TABLE: 'CUECAST_CONTROL_TABLE',
  CONNECTIONS_TABLE: 'CUECAST_CONNECTIONS_TABLE',
  /** The WebSocket stage's callback URL (`WebSocketStage.callbackUrl`): the @connections API. */
  CALLBACK_URL: 'CUECAST_CALLBACK_URL',
  FAN_OUT_FUNCTION: 'CUECAST_FAN_OUT_FUNCTION',
  FAN_OUT_CONCURRENCY: 'CUECAST_FAN_OUT_CONCURRENCY',
  FAN_OUT_SEGMENTS: 'CUECAST_FAN_OUT_SEGMENTS',
  CHANNEL_ARN: 'CUECAST_CHANNEL_ARN',
  TALLY_SHARDS: 'CUECAST_TALLY_SHARDS',
  /** Seconds after `closesAt` that a new quiz still takes answers (docs/protocol.md §3.3). */
  ANSWER_GRACE_SECONDS: 'CUECAST_ANSWER_GRACE_SECONDS',
  DATA_RETENTION_DAYS: 'CUECAST_DATA_RETENTION_DAYS',
  METADATA_RATE_PER_SECOND: 'CUECAST_METADATA_RATE_PER_SECOND',
  /** The Secrets Manager secret (ARN) holding the viewer-token signing key; set only with viewer auth. */
  VIEWER_TOKEN_SECRET: 'CUECAST_VIEWER_TOKEN_SECRET',
  VIEWER_TOKEN_TTL_SECONDS: 'CUECAST_VIEWER_TOKEN_TTL_SECONDS',
} as const;

export type EnvName = (typeof ENV)[keyof typeof ENV];
