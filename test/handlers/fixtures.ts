import { type IvsClient, PutMetadataCommand } from '@aws-sdk/client-ivs';
import {
  BatchGetCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  UpdateCommand,
  type UpdateCommandInput,
} from '@aws-sdk/lib-dynamodb';
import type { AwsClientStub } from 'aws-sdk-client-mock';
import type { Quiz } from '../../lambda/domain/quiz';
import { TEST_ENV } from '../setup-env';

export type DynamoMock = AwsClientStub<DynamoDBDocumentClient>;
export type IvsMock = AwsClientStub<IvsClient>;

export const CHANNEL_ARN = TEST_ENV.CUECAST_CHANNEL_ARN;
export const TABLES = {
  quizzes: TEST_ENV.CUECAST_QUIZZES_TABLE,
  tally: TEST_ENV.CUECAST_TALLY_TABLE,
  control: TEST_ENV.CUECAST_CONTROL_TABLE,
} as const;
export const TALLY_SHARDS = Number(TEST_ENV.CUECAST_TALLY_SHARDS);
export const RATE_PER_SECOND = Number(TEST_ENV.CUECAST_METADATA_RATE_PER_SECOND);
export const RETENTION_DAYS = Number(TEST_ENV.CUECAST_DATA_RETENTION_DAYS);

/** Input matchers, so quiz reads, rate-window reads and the show item answer differently. */
export const RATE_WINDOW = { TableName: TABLES.control, Key: { pk: `rate#${CHANNEL_ARN}` } } as const;
export const SHOW_ITEM = { TableName: TABLES.control, Key: { pk: 'show' } } as const;
export const quizItem = (quizId: string) => ({ TableName: TABLES.quizzes, Key: { quizId } }) as const;

/** The ids `newId()` produces: 16 characters of base64url. */
export const GENERATED_ID = /^[A-Za-z0-9_-]{16}$/;

/** An empty rate window and a live channel: the next cue goes out. */
export function allowPublishing(ddbMock: DynamoMock, ivsMock: IvsMock): void {
  ddbMock.on(GetCommand, RATE_WINDOW).resolves({});
  ddbMock.on(UpdateCommand, RATE_WINDOW).resolves({});
  ivsMock.on(PutMetadataCommand).resolves({});
}

/** A window in which `RATE_PER_SECOND` cues all went out at `atMs`: the next one must wait. */
export function fullRateWindow(atMs: number): Record<string, unknown> {
  const item: Record<string, unknown> = { pk: RATE_WINDOW.Key.pk, seq: RATE_PER_SECOND };
  for (let slot = 0; slot < RATE_PER_SECOND; slot++) item[`s${slot}`] = atMs;
  return item;
}

/** The cue strings IVS received, in order, checking each went to the configured channel. */
export function sentCues(ivsMock: IvsMock): unknown[] {
  return ivsMock.commandCalls(PutMetadataCommand).map((call) => {
    const input = call.args[0].input;
    expect(input.channelArn).toBe(CHANNEL_ARN);
    return JSON.parse(String(input.metadata));
  });
}

/** A quiz as the quizzes table holds it: the domain fields plus the TTL attribute. */
export type QuizItem = Quiz & { readonly expiresAt: number } & Record<string, unknown>;

/** A stored quiz item; `offsetSeconds` places its opening relative to now (negative is the past). */
export function storedQuiz(overrides: Partial<Quiz> = {}, offsetSeconds = -5): QuizItem {
  const opensAt = new Date(Date.now() + offsetSeconds * 1000);
  const durationSeconds = overrides.durationSeconds ?? 30;
  return {
    quizId: 'quiz_ABC-123',
    question: 'Which planet is largest?',
    choices: ['Mars', 'Jupiter', 'Venus'],
    kind: 'quiz',
    correctIndex: 1,
    durationSeconds,
    opensAt: opensAt.toISOString(),
    closesAt: new Date(opensAt.getTime() + durationSeconds * 1000).toISOString(),
    graceSeconds: 0,
    tallyShards: TALLY_SHARDS,
    expiresAt: Math.floor(opensAt.getTime() / 1000) + RETENTION_DAYS * 86_400,
    ...overrides,
  };
}

/** Tally shard items `<quizId>#<shard>` with per-choice counts `c0..cN`. */
export function tallyShard(
  quizId: string,
  shard: number,
  counts: readonly number[],
): Record<string, unknown> {
  const item: Record<string, unknown> = { pk: `${quizId}#${shard}` };
  counts.forEach((count, index) => {
    item[`c${index}`] = count;
  });
  return item;
}

/**
 * The tally holds `items`: a live read (BatchGet) returns them all in one page, and the reveal's
 * seal of a shard returns that shard as stored (an empty one when no answer reached it).
 */
export function tallyReturns(ddbMock: DynamoMock, items: Record<string, unknown>[]): void {
  ddbMock.on(BatchGetCommand).resolves({ Responses: { [TABLES.tally]: items } });
  ddbMock.on(UpdateCommand, { TableName: TABLES.tally }).callsFake((input: UpdateCommandInput) => {
    const pk = String(input.Key?.pk);
    return { Attributes: { ...(items.find((item) => item.pk === pk) ?? { pk }), sealedAt: 'sealed' } };
  });
}

/** The keys of the tally shards the reveal sealed, in call order. */
export const sealedKeys = (ddbMock: DynamoMock) =>
  ddbMock.commandCalls(UpdateCommand, { TableName: TABLES.tally }).map((call) => call.args[0].input.Key);

/** The keys of every tally shard of a quiz, in shard order. */
export const shardKeys = (quizId: string, shards = TALLY_SHARDS) =>
  Array.from({ length: shards }, (_, shard) => ({ pk: `${quizId}#${shard}` }));
