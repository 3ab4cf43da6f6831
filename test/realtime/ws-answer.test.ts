import { ForbiddenException, PostToConnectionCommand } from '@aws-sdk/client-apigatewaymanagementapi';
import { ProvisionedThroughputExceededException } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { shardOf } from '../../lambda/domain/tally';
import { ENV } from '../../lambda/env-names';
import { handler } from '../../lambda/handlers/ws-answer';
import { COUNT_ATTEMPTS } from '../../lambda/services/viewer-service';
import { mockAws } from '../aws-mocks';
import { lambdaContext } from '../handlers/events';
import { quizItem, storedQuiz } from '../handlers/fixtures';
import { TEST_ENV } from '../setup-env';
import {
  ANSWERS_TABLE,
  conditionFailed,
  dynamoCommandNames,
  dynamoInputs,
  dynamoWrites,
  errorFrame,
  goneException,
  onlyFrameTo,
  TALLY_TABLE,
  wsEvent,
} from './ws-events';

const { ddb: ddbMock, mgmt: mgmtMock } = mockAws();

const SENDER = 'Yx3kQcOFvHcCJ9A=';
const TALLY_SHARDS = 4;
const QUIZ = storedQuiz({ quizId: 'quiz_ABC-123', choices: ['Mars', 'Jupiter', 'Venus'] }, -5);
const CLOSES_AT = Date.parse(QUIZ.closesAt);
/** Well inside the answer window. */
const IN_TIME = CLOSES_AT - 10_000;
const SHARD_PK = `${QUIZ.quizId}#${shardOf(SENDER, TALLY_SHARDS)}`;

const answerFrame = (fields: Record<string, unknown> = {}) => ({
  action: 'answer',
  quizId: QUIZ.quizId,
  choiceIndex: 2,
  ...fields,
});

async function answer(body: string | object = answerFrame(), requestTimeEpoch = IN_TIME) {
  const result = await handler(
    wsEvent('answer', { connectionId: SENDER, body, requestTimeEpoch }),
    lambdaContext('answer-request-id'),
  );
  // Whatever happens, API Gateway gets 200 so the connection stays open.
  expect(result).toStrictEqual({ statusCode: 200 });
  return onlyFrameTo(mgmtMock, SENDER);
}

beforeEach(() => {
  mgmtMock.on(PostToConnectionCommand).resolves({});
  ddbMock.on(GetCommand, quizItem(QUIZ.quizId)).resolves({ Item: QUIZ });
  ddbMock.on(PutCommand).resolves({});
  ddbMock.on(UpdateCommand).resolves({});
});

describe('when an answer arrives while the quiz is open', () => {
  it('replies accepted to the sender with the quiz and choice', async () => {
    const frame = await answer();

    expect(frame).toStrictEqual({ type: 'answer', status: 'accepted', quizId: QUIZ.quizId, choiceIndex: 2 });
  });

  it('costs one eventually consistent read and exactly two writes', async () => {
    await answer();

    expect(dynamoCommandNames(ddbMock)).toEqual(['GetCommand', 'PutCommand', 'UpdateCommand']);
    expect(dynamoWrites(ddbMock)).toHaveLength(2);
  });

  it('reads the quiz without a strongly consistent read', async () => {
    await answer();

    const gets = ddbMock.commandCalls(GetCommand, quizItem(QUIZ.quizId));
    expect(gets).toHaveLength(1);
    expect(gets[0].args[0].input.ConsistentRead).toBe(false);
    for (const input of dynamoInputs(ddbMock)) expect(input.ConsistentRead).not.toBe(true);
  });

  it("stores the answer once per viewer with a conditional put on the viewer's shard", async () => {
    await answer();

    const puts = ddbMock.commandCalls(PutCommand);
    expect(puts).toHaveLength(1);
    const put = puts[0].args[0].input;
    expect(put.TableName).toBe(ANSWERS_TABLE);
    expect(put.ConditionExpression).toBe('attribute_not_exists(viewerId)');
    expect(put.Item).toStrictEqual({
      pk: SHARD_PK,
      quizId: QUIZ.quizId,
      viewerId: SENDER,
      connectionId: SENDER,
      choiceIndex: 2,
      answeredAt: new Date(IN_TIME).toISOString(),
      expiresAt: Math.floor(IN_TIME / 1000) + 30 * 86_400,
    });
  });

  it('adds one to the chosen count on the same tally shard', async () => {
    await answer();

    const updates = ddbMock.commandCalls(UpdateCommand);
    expect(updates).toHaveLength(1);
    const update = updates[0].args[0].input;
    expect(update.TableName).toBe(TALLY_TABLE);
    expect(update.Key).toStrictEqual({ pk: SHARD_PK });
    expect(update.UpdateExpression).toMatch(/^ADD #count :one\b/);
    expect(update.ExpressionAttributeNames).toStrictEqual({ '#count': 'c2', '#sealed': 'sealedAt' });
    expect(update.ExpressionAttributeValues?.[':one']).toBe(1);
    // Its only condition is the reveal's seal: counting is otherwise unconditional.
    expect(update.ConditionExpression).toBe('attribute_not_exists(#sealed)');
  });

  it('spreads viewers over the shards the quiz was created with', async () => {
    const shards = new Set<string>();
    for (let i = 0; i < 40; i++) {
      mgmtMock.reset();
      ddbMock.resetHistory();
      const connectionId = `viewer-${i}`;
      await handler(
        wsEvent('answer', { connectionId, body: answerFrame(), requestTimeEpoch: IN_TIME }),
        lambdaContext(),
      );
      const pk = String(ddbMock.commandCalls(PutCommand)[0].args[0].input.Item?.pk);
      expect(pk).toBe(`${QUIZ.quizId}#${shardOf(connectionId, TALLY_SHARDS)}`);
      expect(ddbMock.commandCalls(UpdateCommand)[0].args[0].input.Key).toStrictEqual({ pk });
      shards.add(pk);
    }
    expect([...shards].sort()).toEqual([0, 1, 2, 3].map((n) => `${QUIZ.quizId}#${n}`));
  });

  it('accepts the last choice and an answer 1 ms before closesAt', async () => {
    const frame = await answer(answerFrame({ choiceIndex: 2 }), CLOSES_AT - 1);

    expect(frame).toMatchObject({ type: 'answer', status: 'accepted' });
  });
});

describe('when the viewer already answered this quiz', () => {
  beforeEach(() => {
    ddbMock.on(PutCommand).rejects(conditionFailed());
  });

  it('replies ALREADY_ANSWERED with the quiz id', async () => {
    const frame = await answer();

    expect(frame).toStrictEqual(errorFrame('ALREADY_ANSWERED', QUIZ.quizId));
  });

  it('does not count the repeat', async () => {
    await answer();

    expect(ddbMock.commandCalls(UpdateCommand)).toHaveLength(0);
    expect(dynamoWrites(ddbMock)).toEqual(['PutCommand']);
  });
});

describe('when the quiz does not exist', () => {
  it('replies NOT_FOUND naming the id, and writes nothing', async () => {
    ddbMock.on(GetCommand, quizItem('nope')).resolves({});

    const frame = await answer(answerFrame({ quizId: 'nope' }));

    expect(frame).toMatchObject({ type: 'error', code: 'NOT_FOUND' });
    expect(String(frame.message)).toContain('"nope"');
    expect(dynamoWrites(ddbMock)).toHaveLength(0);
  });
});

describe('when the answer arrives too late', () => {
  it.each([
    ['exactly at closesAt', 0],
    ['1 s after closesAt', 1_000],
  ])('replies QUIZ_CLOSED with the quiz id %s, and writes nothing', async (_label, lateBy) => {
    const frame = await answer(answerFrame(), CLOSES_AT + lateBy);

    expect(frame).toStrictEqual(errorFrame('QUIZ_CLOSED', QUIZ.quizId));
    expect(dynamoWrites(ddbMock)).toHaveLength(0);
  });

  it('judges by when API Gateway received the frame, not by when the handler runs', async () => {
    // Received in time even though the handler only runs now, after closesAt.
    const closed = storedQuiz({ quizId: 'quiz_late' }, -120);
    ddbMock.on(GetCommand, quizItem('quiz_late')).resolves({ Item: closed });

    const frame = await answer(answerFrame({ quizId: 'quiz_late' }), Date.parse(closed.closesAt) - 500);

    expect(frame).toMatchObject({ type: 'answer', status: 'accepted', quizId: 'quiz_late' });
  });
});

describe('when the quiz was already revealed', () => {
  it('replies QUIZ_CLOSED even before closesAt, and writes nothing', async () => {
    const result = { counts: [0, 1, 0], total: 1, revealedAt: new Date().toISOString() };
    ddbMock.on(GetCommand, quizItem(QUIZ.quizId)).resolves({ Item: { ...QUIZ, result } });

    const frame = await answer();

    expect(frame).toStrictEqual(errorFrame('QUIZ_CLOSED', QUIZ.quizId));
    expect(dynamoWrites(ddbMock)).toHaveLength(0);
  });
});

describe('when the choice is not one of the choices', () => {
  it('replies BAD_REQUEST naming choiceIndex, and writes nothing', async () => {
    const frame = await answer(answerFrame({ choiceIndex: 3 }));

    expect(frame).toMatchObject({ type: 'error', code: 'BAD_REQUEST' });
    expect(String(frame.message)).toMatch(/^choiceIndex: /);
    expect(dynamoWrites(ddbMock)).toHaveLength(0);
  });
});

describe('when the frame is malformed', () => {
  it.each<[string, string, RegExp]>([
    ['is not JSON', '{"action":"answer",', /^message: /],
    ['is empty', '', /^message: /],
    ['has no quizId', JSON.stringify({ action: 'answer', choiceIndex: 1 }), /^quizId: /],
    ['has a quizId that is not an id', JSON.stringify(answerFrame({ quizId: 'a/b' })), /^quizId: /],
    ['has choiceIndex 1.5', JSON.stringify(answerFrame({ choiceIndex: 1.5 })), /^choiceIndex: /],
    ['has choiceIndex -1', JSON.stringify(answerFrame({ choiceIndex: -1 })), /^choiceIndex: /],
    ['has choiceIndex "1"', JSON.stringify(answerFrame({ choiceIndex: '1' })), /^choiceIndex: /],
    ['has no choiceIndex', JSON.stringify({ action: 'answer', quizId: QUIZ.quizId }), /^choiceIndex: /],
    ['has an extra field', JSON.stringify(answerFrame({ viewerId: 'someone-else' })), /viewerId/],
    ['is an array', JSON.stringify([answerFrame()]), /^message: /],
  ])('replies BAD_REQUEST when it %s, without touching DynamoDB', async (_label, body, message) => {
    const frame = await answer(body);

    expect(frame).toStrictEqual(errorFrame('BAD_REQUEST'));
    expect(String(frame.message)).toMatch(message);
    expect(ddbMock.calls()).toHaveLength(0);
  });
});

describe('when the sender is gone before the reply', () => {
  it('still answers 200, keeps the accepted answer and deletes the stale connection record', async () => {
    mgmtMock.on(PostToConnectionCommand).rejects(goneException());

    const result = await handler(
      wsEvent('answer', { connectionId: SENDER, body: answerFrame(), requestTimeEpoch: IN_TIME }),
      lambdaContext(),
    );

    expect(result).toStrictEqual({ statusCode: 200 });
    expect(mgmtMock.commandCalls(PostToConnectionCommand)).toHaveLength(1);
    expect(dynamoWrites(ddbMock)).toEqual(['PutCommand', 'UpdateCommand', 'DeleteCommand']);
    expect(ddbMock.commandCalls(DeleteCommand)[0].args[0].input).toEqual({
      TableName: TEST_ENV[ENV.CONNECTIONS_TABLE],
      Key: { connectionId: SENDER },
    });
  });

  it('still answers 200 when the reply fails for another reason', async () => {
    mgmtMock.on(PostToConnectionCommand).rejects(new ForbiddenException({ message: 'no', $metadata: {} }));

    const result = await handler(
      wsEvent('answer', { connectionId: SENDER, body: 'not json', requestTimeEpoch: IN_TIME }),
      lambdaContext(),
    );

    expect(result).toStrictEqual({ statusCode: 200 });
    expect(mgmtMock.commandCalls(PostToConnectionCommand)).toHaveLength(1);
  });
});

describe('when DynamoDB fails unexpectedly', () => {
  const outage = () => new Error('simulated DynamoDB outage');

  it.each<[string, () => void]>([
    ['reading the quiz', () => ddbMock.on(GetCommand).rejects(outage())],
    ['storing the answer', () => ddbMock.on(PutCommand).rejects(outage())],
    ['counting the answer', () => ddbMock.on(UpdateCommand).rejects(outage())],
  ])('replies INTERNAL_ERROR with the request id when %s fails', async (_label, fail) => {
    fail();

    const frame = await answer();

    expect(frame).toStrictEqual(errorFrame('INTERNAL_ERROR'));
    expect(String(frame.message)).toContain('answer-request-id');
    expect(String(frame.message)).not.toContain('simulated DynamoDB outage');
  });
});

describe('when DynamoDB throttles the answer (R3: no answer is lost)', () => {
  const throttled = () =>
    new ProvisionedThroughputExceededException({
      message: 'simulated throttling',
      $metadata: { httpStatusCode: 400 },
    });
  const NEXT_SHARD_PK = `${QUIZ.quizId}#${(shardOf(SENDER, TALLY_SHARDS) + 1) % TALLY_SHARDS}`;

  it('counts on the next tally shard when the first count is throttled, and accepts', async () => {
    ddbMock.on(UpdateCommand).rejectsOnce(throttled()).resolves({});

    const frame = await answer();

    expect(frame).toStrictEqual({ type: 'answer', status: 'accepted', quizId: QUIZ.quizId, choiceIndex: 2 });
    const keys = ddbMock.commandCalls(UpdateCommand).map((call) => call.args[0].input.Key);
    expect(keys).toStrictEqual([{ pk: SHARD_PK }, { pk: NEXT_SHARD_PK }]);
    expect(ddbMock.commandCalls(DeleteCommand)).toHaveLength(0);
  });

  it('deletes its own answer record and replies TRY_AGAIN when the count stays throttled', async () => {
    ddbMock.on(UpdateCommand).rejects(throttled());

    const frame = await answer();

    expect(frame).toStrictEqual(errorFrame('TRY_AGAIN', QUIZ.quizId));
    expect(String(frame.message)).toMatch(/not recorded.*send it again/);
    // Every try one request (no SDK retry), each on the next shard, then the undo.
    expect(dynamoWrites(ddbMock)).toEqual([
      'PutCommand',
      ...Array(COUNT_ATTEMPTS).fill('UpdateCommand'),
      'DeleteCommand',
    ]);
    const home = shardOf(SENDER, TALLY_SHARDS);
    expect(ddbMock.commandCalls(UpdateCommand).map((call) => call.args[0].input.Key)).toStrictEqual(
      Array.from({ length: COUNT_ATTEMPTS }, (_, i) => ({
        pk: `${QUIZ.quizId}#${(home + i) % TALLY_SHARDS}`,
      })),
    );
    expect(ddbMock.commandCalls(DeleteCommand)[0].args[0].input).toStrictEqual({
      TableName: ANSWERS_TABLE,
      Key: { pk: SHARD_PK, viewerId: SENDER },
      ConditionExpression: 'answeredAt = :answeredAt AND connectionId = :connectionId',
      ExpressionAttributeValues: { ':answeredAt': new Date(IN_TIME).toISOString(), ':connectionId': SENDER },
    });
  });

  it('replies INTERNAL_ERROR, not TRY_AGAIN, when the record cannot be deleted either', async () => {
    ddbMock.on(UpdateCommand).rejects(throttled());
    ddbMock.on(DeleteCommand).rejects(throttled());

    const frame = await answer();

    // A retry would only get ALREADY_ANSWERED, so telling the viewer to retry would be a lie.
    expect(frame).toStrictEqual(errorFrame('INTERNAL_ERROR'));
  });

  it('keeps the record and does not retry when the count failed in an unknown way (it may have applied)', async () => {
    ddbMock.on(UpdateCommand).rejects(new Error('socket hang up'));

    const frame = await answer();

    expect(frame).toStrictEqual(errorFrame('INTERNAL_ERROR'));
    expect(dynamoWrites(ddbMock)).toEqual(['PutCommand', 'UpdateCommand']);
  });

  it.each<[string, () => void]>([
    ['reading the quiz', () => ddbMock.on(GetCommand).rejects(throttled())],
    ['storing the answer', () => ddbMock.on(PutCommand).rejects(throttled())],
  ])('replies TRY_AGAIN and counts nothing when %s is throttled', async (_label, fail) => {
    fail();

    const frame = await answer();

    expect(frame).toStrictEqual(errorFrame('TRY_AGAIN', QUIZ.quizId));
    expect(ddbMock.commandCalls(UpdateCommand)).toHaveLength(0);
    expect(ddbMock.commandCalls(DeleteCommand)).toHaveLength(0);
  });
});

describe('when the reveal sealed the tally before the answer was counted', () => {
  beforeEach(() => {
    ddbMock.on(UpdateCommand, { TableName: TALLY_TABLE }).rejects(conditionFailed());
    ddbMock.on(DeleteCommand).resolves({});
  });

  it('counts only on an unsealed shard: the ADD is conditioned on the seal', async () => {
    await answer();

    const [count] = ddbMock.commandCalls(UpdateCommand).map((call) => call.args[0].input);
    expect(count.Key).toStrictEqual({ pk: SHARD_PK });
    expect(count.ConditionExpression).toBe('attribute_not_exists(#sealed)');
    expect(count.ExpressionAttributeNames).toMatchObject({ '#sealed': 'sealedAt' });
  });

  it('deletes its own record and replies QUIZ_CLOSED, so it is neither counted nor graded', async () => {
    const frame = await answer();

    expect(frame).toStrictEqual(errorFrame('QUIZ_CLOSED', QUIZ.quizId));
    // One count try: a sealed shard is final, and another shard is sealed too.
    expect(dynamoWrites(ddbMock)).toEqual(['PutCommand', 'UpdateCommand', 'DeleteCommand']);
    expect(ddbMock.commandCalls(DeleteCommand)[0].args[0].input.Key).toStrictEqual({
      pk: SHARD_PK,
      viewerId: SENDER,
    });
  });

  it('rides out throttling on the delete before it replies QUIZ_CLOSED', async () => {
    ddbMock
      .on(DeleteCommand)
      .rejectsOnce(
        new ProvisionedThroughputExceededException({ message: 'x', $metadata: { httpStatusCode: 400 } }),
      )
      .resolves({});

    const frame = await answer();

    expect(frame).toStrictEqual(errorFrame('QUIZ_CLOSED', QUIZ.quizId));
    expect(ddbMock.commandCalls(DeleteCommand)).toHaveLength(2);
  });
});

describe('when a reveal closed the quiz before the answer read it', () => {
  it('replies QUIZ_CLOSED and writes nothing, even inside the answer window', async () => {
    ddbMock
      .on(GetCommand, quizItem(QUIZ.quizId))
      .resolves({ Item: { ...QUIZ, closedAt: new Date(IN_TIME - 1000).toISOString() } });

    const frame = await answer();

    expect(frame).toStrictEqual(errorFrame('QUIZ_CLOSED', QUIZ.quizId));
    expect(dynamoWrites(ddbMock)).toEqual([]);
  });
});
