// Sets the fan-out settings before the handler reads its configuration at import.
import {
  ConditionalCheckFailedException,
  ProvisionedThroughputExceededException,
} from '@aws-sdk/client-dynamodb';
import { ChannelNotBroadcasting, PutMetadataCommand, ThrottlingException } from '@aws-sdk/client-ivs';
import { InvokeCommand } from '@aws-sdk/client-lambda';
import { BatchGetCommand, GetCommand, UpdateCommand, type UpdateCommandInput } from '@aws-sdk/lib-dynamodb';
import { FAN_OUT_STALE_MS, REVEAL_LEASE_MARGIN_MS } from '../../lambda/domain/reveal';
import { ENV } from '../../lambda/env-names';
import { handler } from '../../lambda/handlers/reveal-quiz';
import { mockAws } from '../aws-mocks';
import { expectErrorReply, httpEvent, invoke } from './events';
import {
  allowPublishing,
  CHANNEL_ARN,
  fullRateWindow,
  quizItem,
  RATE_WINDOW,
  sealedKeys,
  sentCues,
  shardKeys,
  storedQuiz,
  TABLES,
  tallyReturns,
  tallyShard,
} from './fixtures';

const { ivs: ivsMock, ddb: ddbMock, lambda: lambdaMock } = mockAws();

const FAN_OUT_FUNCTION = process.env[ENV.FAN_OUT_FUNCTION];
const FAN_OUT_SEGMENTS = Number(process.env[ENV.FAN_OUT_SEGMENTS]);

const QUIZ = storedQuiz({ quizId: 'quiz_ABC-123', choices: ['Mars', 'Jupiter', 'Venus', 'Saturn'] }, -60);
const QUIZ_KEY = quizItem(QUIZ.quizId);
/** Shard counts per choice; they sum to [4, 11, 0, 2], 17 in all. */
const SHARDS = [
  tallyShard(QUIZ.quizId, 0, [1, 3, 0, 0]),
  tallyShard(QUIZ.quizId, 1, [2, 4, 0, 1]),
  tallyShard(QUIZ.quizId, 2, [0, 0, 0, 0]),
  tallyShard(QUIZ.quizId, 3, [1, 4, 0, 1]),
];
const EXPECTED = { quizId: QUIZ.quizId, correctIndex: 1, counts: [4, 11, 0, 2], total: 17, kind: 'quiz' };

const CLAIM = {
  TableName: TABLES.quizzes,
  Key: { quizId: QUIZ.quizId },
  UpdateExpression: 'SET #result = :result, revealLeaseUntil = :lease',
};
const RELEASE = {
  TableName: TABLES.quizzes,
  Key: { quizId: QUIZ.quizId },
  UpdateExpression: 'REMOVE #result, revealLeaseUntil',
};

const reveal = (quizId: string = QUIZ.quizId, query?: Record<string, string>) =>
  invoke(handler, httpEvent('POST /quizzes/{quizId}/reveal', { pathParameters: { quizId }, query }));

const conditionFailed = () => new ConditionalCheckFailedException({ message: 'x', $metadata: {} });

function onlyCall(input: Partial<UpdateCommandInput>): UpdateCommandInput {
  const calls = ddbMock.commandCalls(UpdateCommand, input);
  expect(calls).toHaveLength(1);
  return calls[0].args[0].input;
}

/** The fan-out jobs handed to the fan-out function, checking each is an asynchronous invocation. */
function fanOutJobs(): unknown[] {
  return lambdaMock.commandCalls(InvokeCommand).map((call) => {
    const { FunctionName, InvocationType, Payload } = call.args[0].input;
    expect(FunctionName).toBe(FAN_OUT_FUNCTION);
    expect(InvocationType).toBe('Event');
    return JSON.parse(Buffer.from(Payload as Uint8Array).toString('utf8'));
  });
}

beforeEach(() => {
  lambdaMock.on(InvokeCommand).resolves({ StatusCode: 202 });
  allowPublishing(ddbMock, ivsMock);
  ddbMock.on(GetCommand, QUIZ_KEY).resolves({ Item: QUIZ });
  ddbMock.on(UpdateCommand, { TableName: TABLES.quizzes }).resolves({});
  tallyReturns(ddbMock, SHARDS);
});

describe('when viewers behind in the video may still answer (the early-reveal rule)', () => {
  /** Opened 35 s ago for 30 s with a 10 s grace: closesAt was 5 s ago, answers close in 5 s. */
  const graced = (offsetSeconds: number) =>
    storedQuiz({ quizId: QUIZ.quizId, choices: QUIZ.choices, graceSeconds: 10 }, offsetSeconds);
  const IN_GRACE = graced(-35);

  it('answers 409 ANSWERS_STILL_OPEN with Retry-After until the answers close, and closes, seals and sends nothing', async () => {
    ddbMock.on(GetCommand, QUIZ_KEY).resolves({ Item: IN_GRACE });
    const reply = await reveal();

    expect(expectErrorReply(reply, 409, 'ANSWERS_STILL_OPEN')).toMatch(/add \?force=true/);
    expect(Number(reply.headers['retry-after'])).toBeGreaterThanOrEqual(4);
    expect(Number(reply.headers['retry-after'])).toBeLessThanOrEqual(5);
    expect(ddbMock.commandCalls(UpdateCommand)).toHaveLength(0);
    expect(ivsMock.commandCalls(PutMetadataCommand)).toHaveLength(0);
    expect(lambdaMock.commandCalls(InvokeCommand)).toHaveLength(0);
  });

  it('counts the wait from an open quiz to closesAt plus its grace', async () => {
    ddbMock.on(GetCommand, QUIZ_KEY).resolves({ Item: graced(-5) });
    const reply = await reveal();

    expect(reply.statusCode).toBe(409);
    expect(Number(reply.headers['retry-after'])).toBeGreaterThanOrEqual(34);
    expect(Number(reply.headers['retry-after'])).toBeLessThanOrEqual(35);
  });

  it('reveals at once with force=true: closes, seals and sends the result cue', async () => {
    ddbMock.on(GetCommand, QUIZ_KEY).resolves({ Item: IN_GRACE });
    const reply = await reveal(QUIZ.quizId, { force: 'true' });

    expect(reply.statusCode).toBe(200);
    expect(reply.body).toStrictEqual(EXPECTED);
    expect(sentCues(ivsMock)).toHaveLength(1);
  });

  it('refuses a force that is not true or false with a 400 naming it, and touches nothing', async () => {
    const reply = await reveal(QUIZ.quizId, { force: 'yes' });

    expect(expectErrorReply(reply, 400, 'BAD_REQUEST')).toBe('force: must be true or false');
    expect(ddbMock.commandCalls(GetCommand, QUIZ_KEY)).toHaveLength(0);
  });
});

describe('when the quiz is a poll', () => {
  const { correctIndex: _correct, ...question } = QUIZ;
  const POLL = { ...question, kind: 'poll' };
  const { correctIndex: _index, ...figures } = { ...EXPECTED, kind: 'poll' };

  beforeEach(() => {
    ddbMock.on(GetCommand, QUIZ_KEY).resolves({ Item: POLL });
  });

  it('answers 200 with the counts and no correct answer', async () => {
    const reply = await reveal();

    expect(reply.statusCode).toBe(200);
    expect(reply.body).toStrictEqual(figures);
  });

  it('sends one result cue with the same figures and no correctIndex, then fans out', async () => {
    await reveal();

    expect(sentCues(ivsMock)).toStrictEqual([{ v: 1, type: 'result', ...figures }]);
    expect(fanOutJobs()).toHaveLength(FAN_OUT_SEGMENTS);
  });
});

describe('when the quiz has not been revealed yet', () => {
  it('answers 200 with the correct answer and the counts summed over every shard', async () => {
    const reply = await reveal();

    expect(reply.statusCode).toBe(200);
    expect(reply.body).toStrictEqual(EXPECTED);
  });

  it('closes the quiz, then seals all 4 tally shards with one write each and sums them as sealed', async () => {
    await reveal();

    const writes = ddbMock.commandCalls(UpdateCommand).map((call) => call.args[0].input);
    const close = writes.findIndex((w) => w.UpdateExpression?.includes('closedAt'));
    const seals = writes.flatMap((w, i) => (w.TableName === TABLES.tally ? [i] : []));
    expect(writes[close]).toMatchObject({ ...QUIZ_KEY, ConditionExpression: 'attribute_exists(quizId)' });
    expect(seals).toHaveLength(4);
    expect(Math.min(...seals)).toBeGreaterThan(close);
    for (const i of seals) {
      expect(writes[i].UpdateExpression).toContain('#sealed = if_not_exists(#sealed, :now)');
      expect(writes[i].ReturnValues).toBe('ALL_NEW');
    }
    expect(sealedKeys(ddbMock)).toEqual(shardKeys(QUIZ.quizId, 4));
    // The figures come from the seal, not from a separate read that answers could overtake.
    expect(ddbMock.commandCalls(BatchGetCommand)).toHaveLength(0);
  });

  it('claims the result with a write conditioned on no result existing yet', async () => {
    const before = Date.now();
    await reveal();

    const claim = onlyCall(CLAIM);
    expect(claim.ConditionExpression).toContain('attribute_not_exists(#result)');
    expect(claim.ExpressionAttributeNames).toEqual({ '#result': 'result' });
    const result = claim.ExpressionAttributeValues?.[':result'];
    expect(result).toMatchObject({ counts: EXPECTED.counts, total: EXPECTED.total });
    expect(Date.parse(result.revealedAt)).toBeGreaterThanOrEqual(before);
    expect(ddbMock.commandCalls(UpdateCommand, RELEASE)).toHaveLength(0);
  });

  it('sends exactly one result cue with the same figures', async () => {
    await reveal();

    const calls = ivsMock.commandCalls(PutMetadataCommand);
    expect(calls).toHaveLength(1);
    expect(calls[0].args[0].input.channelArn).toBe(CHANNEL_ARN);
    expect(JSON.parse(String(calls[0].args[0].input.metadata))).toStrictEqual({
      v: 1,
      type: 'result',
      ...EXPECTED,
    });
  });

  it('hands the WebSocket copy to the fan-out function, one asynchronous job per segment', async () => {
    await reveal();

    expect(fanOutJobs()).toEqual(
      Array.from({ length: FAN_OUT_SEGMENTS }, (_, segment) => ({
        kind: 'result',
        quizId: QUIZ.quizId,
        segment,
        totalSegments: FAN_OUT_SEGMENTS,
      })),
    );
  });

  it('counts missing shard items and attributes as zero', async () => {
    tallyReturns(ddbMock, [tallyShard(QUIZ.quizId, 2, [0, 5])]);

    const reply = await reveal();

    expect(reply.body).toStrictEqual({ ...EXPECTED, counts: [0, 5, 0, 0], total: 5 });
    expect(sentCues(ivsMock)).toEqual([expect.objectContaining({ counts: [0, 5, 0, 0], total: 5 })]);
  });

  it('reads as many shards as the quiz was created with, not the current setting', async () => {
    ddbMock.on(GetCommand, QUIZ_KEY).resolves({ Item: { ...QUIZ, tallyShards: 2 } });
    tallyReturns(ddbMock, SHARDS.slice(0, 2));

    const reply = await reveal();

    expect(sealedKeys(ddbMock)).toEqual(shardKeys(QUIZ.quizId, 2));
    expect(reply.body).toStrictEqual({ ...EXPECTED, counts: [3, 7, 0, 1], total: 11 });
  });
});

describe('when DynamoDB throttles the seal of a tally shard', () => {
  const throttled = () => new ProvisionedThroughputExceededException({ message: 'x', $metadata: {} });
  const SHARD_1 = { TableName: TABLES.tally, Key: { pk: `${QUIZ.quizId}#1` } };

  it('answers 429 RATE_LIMITED, and the retried reveal seals again and gets every shard', async () => {
    ddbMock
      .on(UpdateCommand, SHARD_1)
      .rejectsOnce(throttled())
      .resolves({ Attributes: { ...SHARDS[1], sealedAt: 'sealed' } });

    expectErrorReply(await reveal(), 429, 'RATE_LIMITED');
    const reply = await reveal();

    expect(reply.body).toStrictEqual(EXPECTED);
    expect(ddbMock.commandCalls(UpdateCommand, SHARD_1)).toHaveLength(2);
    expect(sentCues(ivsMock)).toEqual([expect.objectContaining({ type: 'result', total: 17 })]);
  });

  it('answers 429 RATE_LIMITED and claims and sends nothing when the shard stays throttled', async () => {
    ddbMock.on(UpdateCommand, SHARD_1).rejects(throttled());

    const reply = await reveal();

    expectErrorReply(reply, 429, 'RATE_LIMITED');
    expect(ivsMock.commandCalls(PutMetadataCommand)).toHaveLength(0);
    expect(ddbMock.commandCalls(UpdateCommand, CLAIM)).toHaveLength(0);
  });
});

describe('when the fan-out function cannot be invoked', () => {
  it('still answers 200 with the figures and keeps the claim, since the cue already went out', async () => {
    lambdaMock.on(InvokeCommand).rejects(new Error('simulated Lambda outage'));

    const reply = await reveal();

    expect(reply.statusCode).toBe(200);
    expect(reply.body).toStrictEqual(EXPECTED);
    expect(ivsMock.commandCalls(PutMetadataCommand)).toHaveLength(1);
    expect(lambdaMock.commandCalls(InvokeCommand)).toHaveLength(FAN_OUT_SEGMENTS);
    expect(ddbMock.commandCalls(UpdateCommand, RELEASE)).toHaveLength(0);
  });
});

describe('when the quiz was already revealed', () => {
  const STORED = { counts: [9, 8, 7, 6], total: 30, revealedAt: new Date(Date.now() - 5000).toISOString() };

  beforeEach(() => {
    ddbMock.on(GetCommand, QUIZ_KEY).resolves({ Item: { ...QUIZ, result: STORED } });
  });

  it('answers with the stored figures, not a fresh tally', async () => {
    const reply = await reveal();

    expect(reply.statusCode).toBe(200);
    expect(reply.body).toStrictEqual({
      quizId: QUIZ.quizId,
      correctIndex: 1,
      counts: [9, 8, 7, 6],
      total: 30,
      kind: 'quiz',
    });
    expect(ddbMock.commandCalls(BatchGetCommand)).toHaveLength(0);
  });

  it('sends no cue, fans nothing out and writes nothing', async () => {
    await reveal();

    expect(ivsMock.commandCalls(PutMetadataCommand)).toHaveLength(0);
    expect(lambdaMock.commandCalls(InvokeCommand)).toHaveLength(0);
    expect(ddbMock.commandCalls(UpdateCommand)).toHaveLength(0);
  });
});

describe('when the host reveals twice in a row', () => {
  it('returns the same figures both times and sends one cue and one fan-out', async () => {
    let stored: unknown;
    ddbMock.on(UpdateCommand, CLAIM).callsFake((input: UpdateCommandInput) => {
      stored = input.ExpressionAttributeValues?.[':result'];
      return {};
    });
    ddbMock.on(GetCommand, QUIZ_KEY).callsFake(() => ({ Item: stored ? { ...QUIZ, result: stored } : QUIZ }));

    const first = await reveal();
    tallyReturns(ddbMock, [tallyShard(QUIZ.quizId, 0, [100, 100, 100, 100])]);
    const second = await reveal();

    expect(first.body).toStrictEqual(EXPECTED);
    expect(second.body).toStrictEqual(EXPECTED);
    expect(ivsMock.commandCalls(PutMetadataCommand)).toHaveLength(1);
    expect(lambdaMock.commandCalls(InvokeCommand)).toHaveLength(FAN_OUT_SEGMENTS);
  });
});

describe('when a concurrent reveal claims the result first', () => {
  const WINNER = { counts: [5, 11, 0, 2], total: 18, revealedAt: new Date().toISOString() };

  beforeEach(() => {
    ddbMock
      .on(GetCommand, QUIZ_KEY)
      .resolvesOnce({ Item: QUIZ })
      .resolves({ Item: { ...QUIZ, result: WINNER } });
    ddbMock.on(UpdateCommand, CLAIM).rejects(conditionFailed());
  });

  it("answers with the winner's stored figures from a re-read", async () => {
    const reply = await reveal();

    expect(reply.statusCode).toBe(200);
    expect(reply.body).toStrictEqual({
      quizId: QUIZ.quizId,
      correctIndex: 1,
      counts: [5, 11, 0, 2],
      total: 18,
      kind: 'quiz',
    });
    expect(ddbMock.commandCalls(GetCommand, QUIZ_KEY)).toHaveLength(2);
  });

  it('sends nothing, fans nothing out and releases nothing', async () => {
    await reveal();

    expect(ivsMock.commandCalls(PutMetadataCommand)).toHaveLength(0);
    expect(lambdaMock.commandCalls(InvokeCommand)).toHaveLength(0);
    expect(ddbMock.commandCalls(UpdateCommand, RATE_WINDOW)).toHaveLength(0);
    expect(ddbMock.commandCalls(UpdateCommand, RELEASE)).toHaveLength(0);
  });
});

describe('when the channel is not broadcasting at reveal', () => {
  beforeEach(() => {
    ivsMock.on(PutMetadataCommand).rejects(new ChannelNotBroadcasting({ message: 'x', $metadata: {} }));
  });

  it('answers 409 CHANNEL_NOT_BROADCASTING and fans nothing out', async () => {
    const reply = await reveal();

    expectErrorReply(reply, 409, 'CHANNEL_NOT_BROADCASTING');
    expect(ivsMock.commandCalls(PutMetadataCommand)).toHaveLength(1);
    expect(lambdaMock.commandCalls(InvokeCommand)).toHaveLength(0);
  });

  it('releases its own claim so the host can reveal again', async () => {
    await reveal();

    const claim = onlyCall(CLAIM);
    const release = onlyCall(RELEASE);
    expect(release.ExpressionAttributeNames).toEqual({ '#result': 'result' });
    // Only our own claim (same lease), and never once its cue is recorded as sent.
    expect(release.ConditionExpression).toBe('revealLeaseUntil = :lease AND attribute_not_exists(cueSentAt)');
    expect(release.ExpressionAttributeValues).toEqual({
      ':lease': claim.ExpressionAttributeValues?.[':lease'],
    });
  });

  it('still answers 409 if another reveal replaced the claim before the release', async () => {
    ddbMock.on(UpdateCommand, RELEASE).rejects(conditionFailed());

    const reply = await reveal();

    expectErrorReply(reply, 409, 'CHANNEL_NOT_BROADCASTING');
  });
});

describe('when IVS throttles the result cue', () => {
  it('answers 429 with Retry-After and releases the claim', async () => {
    ivsMock.on(PutMetadataCommand).rejects(new ThrottlingException({ message: 'x', $metadata: {} }));

    const reply = await reveal();

    expectErrorReply(reply, 429, 'RATE_LIMITED');
    expect(reply.headers['retry-after']).toBe('1');
    expect(ddbMock.commandCalls(UpdateCommand, RELEASE)).toHaveLength(1);
    expect(lambdaMock.commandCalls(InvokeCommand)).toHaveLength(0);
  });
});

describe('when the rate window is full at reveal', () => {
  it('answers 429 with Retry-After, never calls IVS, and releases the claim', async () => {
    ddbMock.on(GetCommand, RATE_WINDOW).resolves({ Item: fullRateWindow(Date.now()) });

    const reply = await reveal();

    expectErrorReply(reply, 429, 'RATE_LIMITED');
    expect(Number(reply.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(ivsMock.commandCalls(PutMetadataCommand)).toHaveLength(0);
    expect(ddbMock.commandCalls(UpdateCommand, RELEASE)).toHaveLength(1);
    expect(lambdaMock.commandCalls(InvokeCommand)).toHaveLength(0);
  });
});

describe('when the quiz does not exist', () => {
  it('answers 404 NOT_FOUND naming the id, and sends nothing', async () => {
    ddbMock.on(GetCommand, quizItem('nope')).resolves({});

    const reply = await reveal('nope');

    const message = expectErrorReply(reply, 404, 'NOT_FOUND');
    expect(message).toContain('"nope"');
    expect(ddbMock.commandCalls(GetCommand, quizItem('nope'))).toHaveLength(1);
    expect(ivsMock.commandCalls(PutMetadataCommand)).toHaveLength(0);
    expect(ddbMock.commandCalls(UpdateCommand)).toHaveLength(0);
  });
});

describe('when the quiz id is malformed', () => {
  it.each([
    ['contains a slash', 'a/b'],
    ['is 65 characters', 'a'.repeat(65)],
    ['is empty', ''],
    ['contains a space', 'a b'],
  ])('answers 400 BAD_REQUEST when it %s, without reading DynamoDB', async (_label, quizId) => {
    const reply = await reveal(quizId);

    const message = expectErrorReply(reply, 400, 'BAD_REQUEST');
    expect(message).toMatch(/^quizId: /);
    expect(ddbMock.commandCalls(GetCommand)).toHaveLength(0);
    expect(ivsMock.commandCalls(PutMetadataCommand)).toHaveLength(0);
  });

  it('answers 400 when the path parameter is missing altogether', async () => {
    const reply = await invoke(handler, httpEvent('POST /quizzes/{quizId}/reveal'));

    expect(expectErrorReply(reply, 400, 'BAD_REQUEST')).toBe('quizId: is required');
  });

  it('accepts a 64-character id', async () => {
    const quizId = 'a'.repeat(64);
    ddbMock.on(GetCommand, quizItem(quizId)).resolves({});

    const reply = await reveal(quizId);

    expectErrorReply(reply, 404, 'NOT_FOUND');
  });
});

describe('when a claim is lost but the winner released it before storing for good', () => {
  beforeEach(() => {
    // Every re-read shows no result: the winner failed to send its cue and removed its claim.
    ddbMock.on(GetCommand, QUIZ_KEY).resolves({ Item: QUIZ });
    ddbMock.on(UpdateCommand, CLAIM).rejectsOnce(conditionFailed()).resolves({});
  });

  it('retries, claims the result itself and answers 200 with the figures', async () => {
    const reply = await reveal();

    expect(reply.statusCode).toBe(200);
    expect(reply.body).toStrictEqual(EXPECTED);
    expect(ddbMock.commandCalls(UpdateCommand, CLAIM)).toHaveLength(2);
    expect(ddbMock.commandCalls(GetCommand, QUIZ_KEY)).toHaveLength(2);
  });

  it('sends exactly one result cue and one fan-out, and releases nothing', async () => {
    await reveal();

    expect(sentCues(ivsMock)).toStrictEqual([{ v: 1, type: 'result', ...EXPECTED }]);
    expect(fanOutJobs()).toHaveLength(FAN_OUT_SEGMENTS);
    expect(ddbMock.commandCalls(UpdateCommand, RELEASE)).toHaveLength(0);
  });
});

describe('when the claim keeps being lost and no result ever shows', () => {
  beforeEach(() => {
    ddbMock.on(GetCommand, QUIZ_KEY).resolves({ Item: QUIZ });
    ddbMock.on(UpdateCommand, CLAIM).rejects(conditionFailed());
  });

  it('gives up after 3 rounds with 429 RATE_LIMITED and Retry-After', async () => {
    const reply = await reveal();

    expectErrorReply(reply, 429, 'RATE_LIMITED');
    expect(reply.headers['retry-after']).toBe('1');
    expect(ddbMock.commandCalls(UpdateCommand, CLAIM)).toHaveLength(3);
    expect(ddbMock.commandCalls(GetCommand, QUIZ_KEY)).toHaveLength(3);
  });

  it('sends no cue, fans nothing out and releases nothing', async () => {
    await reveal();

    expect(ivsMock.commandCalls(PutMetadataCommand)).toHaveLength(0);
    expect(lambdaMock.commandCalls(InvokeCommand)).toHaveLength(0);
    expect(ddbMock.commandCalls(UpdateCommand, RATE_WINDOW)).toHaveLength(0);
    expect(ddbMock.commandCalls(UpdateCommand, RELEASE)).toHaveLength(0);
  });
});

describe('when the claim is lost twice and the third read shows the winner stored its result', () => {
  const WINNER = { counts: [6, 11, 0, 2], total: 19, revealedAt: new Date().toISOString() };

  it("answers 200 with the winner's figures and sends nothing", async () => {
    ddbMock
      .on(GetCommand, QUIZ_KEY)
      .resolvesOnce({ Item: QUIZ })
      .resolvesOnce({ Item: QUIZ })
      .resolves({ Item: { ...QUIZ, result: WINNER } });
    ddbMock.on(UpdateCommand, CLAIM).rejects(conditionFailed());

    const reply = await reveal();

    expect(reply.statusCode).toBe(200);
    expect(reply.body).toStrictEqual({
      quizId: QUIZ.quizId,
      correctIndex: 1,
      counts: [6, 11, 0, 2],
      total: 19,
      kind: 'quiz',
    });
    expect(ddbMock.commandCalls(UpdateCommand, CLAIM)).toHaveLength(2);
    expect(ivsMock.commandCalls(PutMetadataCommand)).toHaveLength(0);
    expect(lambdaMock.commandCalls(InvokeCommand)).toHaveLength(0);
  });
});

// ---- R3: a reveal records its progress, and a retried reveal finishes what a crash left ----

const RECORD_CUE = {
  TableName: TABLES.quizzes,
  Key: { quizId: QUIZ.quizId },
  UpdateExpression: 'SET cueSentAt = :sentAt, fanOut = :fanOut',
};
const TAKE_OVER = {
  TableName: TABLES.quizzes,
  Key: { quizId: QUIZ.quizId },
  UpdateExpression: 'SET revealLeaseUntil = :lease',
};
const RECLAIM = {
  TableName: TABLES.quizzes,
  Key: { quizId: QUIZ.quizId },
  UpdateExpression: 'SET fanOut.#segment.beatAt = :now',
};
const STORED_RESULT = {
  counts: [9, 8, 7, 6],
  total: 30,
  revealedAt: new Date(Date.now() - 60_000).toISOString(),
};
const STORED_REPLY = { quizId: QUIZ.quizId, correctIndex: 1, counts: [9, 8, 7, 6], total: 30, kind: 'quiz' };
const iso = (offsetMs: number) => new Date(Date.now() + offsetMs).toISOString();
const throttled = () =>
  new ProvisionedThroughputExceededException({ message: 'x', $metadata: { httpStatusCode: 400 } });

describe('when a reveal claims, sends and records its cue', () => {
  it("leases the claim until the invocation's deadline plus a margin", async () => {
    const before = Date.now();
    await reveal();

    const lease = Date.parse(onlyCall(CLAIM).ExpressionAttributeValues?.[':lease']);
    // lambdaContext() leaves 10 s; the margin is REVEAL_LEASE_MARGIN_MS.
    expect(lease).toBeGreaterThanOrEqual(before + 10_000 + REVEAL_LEASE_MARGIN_MS);
    expect(lease).toBeLessThanOrEqual(Date.now() + 10_000 + REVEAL_LEASE_MARGIN_MS);
  });

  it('records the cue as sent, with one dispatched mark per fan-out segment, only under its own lease', async () => {
    await reveal();

    const claim = onlyCall(CLAIM);
    const record = onlyCall(RECORD_CUE);
    expect(record.ConditionExpression).toBe('revealLeaseUntil = :lease AND attribute_not_exists(cueSentAt)');
    const { ':lease': lease, ':sentAt': sentAt, ':fanOut': marks } = record.ExpressionAttributeValues ?? {};
    expect(lease).toBe(claim.ExpressionAttributeValues?.[':lease']);
    expect(marks).toEqual(
      Object.fromEntries(Array.from({ length: FAN_OUT_SEGMENTS }, (_, s) => [String(s), { beatAt: sentAt }])),
    );
    // The record comes after IVS took the cue, and before the fan-out is handed over.
    const [sent] = ivsMock.commandCalls(PutMetadataCommand);
    const [recorded] = ddbMock.commandCalls(UpdateCommand, RECORD_CUE);
    const [dispatched] = lambdaMock.commandCalls(InvokeCommand);
    expect(sent.calledBefore(recorded)).toBe(true);
    expect(recorded.calledBefore(dispatched)).toBe(true);
  });

  it('still answers 200 and fans out when recording the cue stays throttled, since the cue is on air', async () => {
    ddbMock.on(UpdateCommand, RECORD_CUE).rejects(throttled());

    const reply = await reveal();

    expect(reply.statusCode).toBe(200);
    expect(ddbMock.commandCalls(UpdateCommand, RECORD_CUE)).toHaveLength(3);
    expect(ivsMock.commandCalls(PutMetadataCommand)).toHaveLength(1);
    expect(fanOutJobs()).toHaveLength(FAN_OUT_SEGMENTS);
  });
});

describe('when DynamoDB throttles the claim', () => {
  it('answers 429 RATE_LIMITED with Retry-After and sends nothing', async () => {
    ddbMock.on(UpdateCommand, CLAIM).rejects(throttled());

    const reply = await reveal();

    expect(expectErrorReply(reply, 429, 'RATE_LIMITED')).toMatch(/throttling/);
    expect(reply.headers['retry-after']).toBe('1');
    expect(ivsMock.commandCalls(PutMetadataCommand)).toHaveLength(0);
    expect(lambdaMock.commandCalls(InvokeCommand)).toHaveLength(0);
  });
});

describe('when a claim is stored without its cue and its lease still runs', () => {
  it('answers 429 with the seconds left and sends, claims and dispatches nothing', async () => {
    ddbMock
      .on(GetCommand, QUIZ_KEY)
      .resolves({ Item: { ...QUIZ, result: STORED_RESULT, revealLeaseUntil: iso(4_500) } });

    const reply = await reveal();

    expect(expectErrorReply(reply, 429, 'RATE_LIMITED')).toMatch(/being revealed by another request/);
    expect(reply.headers['retry-after']).toBe('5');
    expect(ivsMock.commandCalls(PutMetadataCommand)).toHaveLength(0);
    expect(lambdaMock.commandCalls(InvokeCommand)).toHaveLength(0);
    expect(ddbMock.commandCalls(UpdateCommand)).toHaveLength(0);
  });
});

describe('when a claim is stored without its cue and its lease ran out (the claimer crashed)', () => {
  const STALE_LEASE = iso(-1_000);

  beforeEach(() => {
    ddbMock
      .on(GetCommand, QUIZ_KEY)
      .resolves({ Item: { ...QUIZ, result: STORED_RESULT, revealLeaseUntil: STALE_LEASE } });
  });

  it('takes the claim over, sends the stored figures once, records the cue and fans out', async () => {
    const reply = await reveal();

    expect(reply.statusCode).toBe(200);
    expect(reply.body).toStrictEqual(STORED_REPLY);
    const takeOver = onlyCall(TAKE_OVER);
    expect(takeOver.ConditionExpression).toBe(
      'attribute_exists(#result) AND attribute_not_exists(cueSentAt) AND revealLeaseUntil = :stale',
    );
    expect(takeOver.ExpressionAttributeValues?.[':stale']).toBe(STALE_LEASE);
    expect(sentCues(ivsMock)).toStrictEqual([{ v: 1, type: 'result', ...STORED_REPLY }]);
    expect(onlyCall(RECORD_CUE).ExpressionAttributeValues?.[':lease']).toBe(
      takeOver.ExpressionAttributeValues?.[':lease'],
    );
    expect(fanOutJobs()).toHaveLength(FAN_OUT_SEGMENTS);
    expect(ddbMock.commandCalls(BatchGetCommand)).toHaveLength(0);
    expect(ddbMock.commandCalls(UpdateCommand, CLAIM)).toHaveLength(0);
  });

  it('sends nothing when another retry took it over first and recorded the cue', async () => {
    ddbMock.on(UpdateCommand, TAKE_OVER).rejects(conditionFailed());
    ddbMock
      .on(GetCommand, QUIZ_KEY)
      .resolvesOnce({ Item: { ...QUIZ, result: STORED_RESULT, revealLeaseUntil: STALE_LEASE } })
      .resolves({
        Item: { ...QUIZ, result: STORED_RESULT, revealLeaseUntil: iso(5_000), cueSentAt: iso(-10) },
      });

    const reply = await reveal();

    expect(reply.body).toStrictEqual(STORED_REPLY);
    expect(ivsMock.commandCalls(PutMetadataCommand)).toHaveLength(0);
    expect(lambdaMock.commandCalls(InvokeCommand)).toHaveLength(0);
  });

  it('releases the claim when the stream is offline, so the next reveal starts afresh', async () => {
    ivsMock.on(PutMetadataCommand).rejects(new ChannelNotBroadcasting({ message: 'x', $metadata: {} }));

    const reply = await reveal();

    expectErrorReply(reply, 409, 'CHANNEL_NOT_BROADCASTING');
    expect(onlyCall(RELEASE).ExpressionAttributeValues?.[':lease']).toBe(
      onlyCall(TAKE_OVER).ExpressionAttributeValues?.[':lease'],
    );
    expect(ddbMock.commandCalls(UpdateCommand, RECORD_CUE)).toHaveLength(0);
  });
});

describe('when the cue was recorded and a fan-out segment went silent before finishing', () => {
  const marks = {
    '0': { beatAt: iso(-60_000), doneAt: iso(-50_000) },
    '1': { beatAt: iso(-(FAN_OUT_STALE_MS + 1_000)) },
    '2': { beatAt: iso(-500) },
    '3': { beatAt: iso(-60_000), doneAt: iso(-50_000) },
  };

  beforeEach(() => {
    ddbMock.on(GetCommand, QUIZ_KEY).resolves({
      Item: {
        ...QUIZ,
        result: STORED_RESULT,
        revealLeaseUntil: iso(-30_000),
        cueSentAt: iso(-60_000),
        fanOut: marks,
      },
    });
  });

  it('dispatches only that segment again, and sends no cue', async () => {
    const reply = await reveal();

    expect(reply.statusCode).toBe(200);
    expect(reply.body).toStrictEqual(STORED_REPLY);
    const reclaim = onlyCall(RECLAIM);
    expect(reclaim.ExpressionAttributeNames).toEqual({ '#segment': '1' });
    expect(reclaim.ConditionExpression).toBe(
      'fanOut.#segment.beatAt = :stale AND attribute_not_exists(fanOut.#segment.doneAt)',
    );
    expect(reclaim.ExpressionAttributeValues?.[':stale']).toBe(marks['1'].beatAt);
    expect(fanOutJobs()).toEqual([
      { kind: 'result', quizId: QUIZ.quizId, segment: 1, totalSegments: FAN_OUT_SEGMENTS },
    ]);
    expect(ivsMock.commandCalls(PutMetadataCommand)).toHaveLength(0);
  });

  it('dispatches nothing when another retry reclaimed the segment first', async () => {
    ddbMock.on(UpdateCommand, RECLAIM).rejects(conditionFailed());

    const reply = await reveal();

    expect(reply.statusCode).toBe(200);
    expect(lambdaMock.commandCalls(InvokeCommand)).toHaveLength(0);
  });
});
