import { type Bounded, FAN_OUT_CONCURRENCY, FAN_OUT_SEGMENTS } from './domain/fan-out-job';
import { DEFAULT_GRACE_SECONDS, MAX_GRACE_SECONDS } from './domain/quiz';
import { DEFAULT_TALLY_SHARDS, MAX_TALLY_SHARDS } from './domain/tally';
import {
  DEFAULT_TOKEN_TTL_SECONDS,
  MAX_TOKEN_TTL_SECONDS,
  MIN_TOKEN_TTL_SECONDS,
} from './domain/viewer-token';
import { ENV, type EnvName } from './env-names';

type Reader<T> = (env: NodeJS.ProcessEnv) => T;

function required(name: EnvName): Reader<string> {
  return (env) => {
    const value = env[name];
    if (!value) throw new Error(`configuration: environment variable ${name} is not set`);
    return value;
  };
}

function integer(name: EnvName, fallback: number, min: number, max: number): Reader<number> {
  return (env) => {
    const raw = env[name];
    if (raw === undefined || raw === '') return fallback;
    const value = Number(raw);
    if (!Number.isInteger(value) || value < min || value > max) {
      throw new Error(`configuration: ${name} must be an integer from ${min} to ${max}, got "${raw}"`);
    }
    return value;
  };
}

const bounded = (name: EnvName, setting: Bounded) => integer(name, setting.default, setting.min, setting.max);

const SETTINGS = {
  quizzesTable: required(ENV.QUIZZES_TABLE),
  answersTable: required(ENV.ANSWERS_TABLE),
  tallyTable: required(ENV.TALLY_TABLE),
  controlTable: required(ENV.CONTROL_TABLE),
  channelArn: required(ENV.CHANNEL_ARN),
  connectionsTable: required(ENV.CONNECTIONS_TABLE),
  callbackUrl: required(ENV.CALLBACK_URL),
  fanOutFunction: required(ENV.FAN_OUT_FUNCTION),
  fanOutConcurrency: bounded(ENV.FAN_OUT_CONCURRENCY, FAN_OUT_CONCURRENCY),
  fanOutSegments: bounded(ENV.FAN_OUT_SEGMENTS, FAN_OUT_SEGMENTS),
  tallyShards: integer(ENV.TALLY_SHARDS, DEFAULT_TALLY_SHARDS, 1, MAX_TALLY_SHARDS),
  answerGraceSeconds: integer(ENV.ANSWER_GRACE_SECONDS, DEFAULT_GRACE_SECONDS.LOW, 0, MAX_GRACE_SECONDS),
  dataRetentionDays: integer(ENV.DATA_RETENTION_DAYS, 30, 1, 3650),
  metadataRatePerSecond: integer(ENV.METADATA_RATE_PER_SECOND, 5, 1, 5),
  viewerTokenSecret: required(ENV.VIEWER_TOKEN_SECRET),
  viewerTokenTtlSeconds: integer(
    ENV.VIEWER_TOKEN_TTL_SECONDS,
    DEFAULT_TOKEN_TTL_SECONDS,
    MIN_TOKEN_TTL_SECONDS,
    MAX_TOKEN_TTL_SECONDS,
  ),
} satisfies Record<string, Reader<unknown>>;

export type Config = { readonly [K in keyof typeof SETTINGS]: ReturnType<(typeof SETTINGS)[K]> };
export type Setting = keyof Config;

/**
 * Reads the settings a handler needs, once, at cold start. A missing or malformed value
 * throws there, so a misconfigured function fails its first invocation loudly instead of
 * misbehaving later.
 */
export function loadConfig<const K extends Setting>(
  keys: readonly K[],
  env = process.env,
): Readonly<Pick<Config, K>> {
  const config = {} as Pick<Config, K>;
  for (const key of keys) (config as Record<string, unknown>)[key] = SETTINGS[key](env);
  return Object.freeze(config);
}
