import { PutMetadataCommand } from '@aws-sdk/client-ivs';
import { BatchGetCommand, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { handler } from '../../lambda/handlers/get-quiz';
import { mockAws } from '../aws-mocks';
import { expectErrorReply, httpEvent, invoke } from './events';
import { quizItem, shardKeys, storedQuiz, TABLES, tallyReturns, tallyShard } from './fixtures';

const { ivs: ivsMock, ddb: ddbMock } = mockAws();

const QUIZ_ID = 'quiz_ABC-123';

const getQuiz = (quizId: string = QUIZ_ID) =>
  invoke(handler, httpEvent('GET /quizzes/{quizId}', { pathParameters: { quizId } }));

function givenQuiz(item: Record<string, unknown> | undefined): void {
  ddbMock.on(GetCommand, quizItem(QUIZ_ID)).resolves(item ? { Item: item } : {});
}

beforeEach(() => {
  tallyReturns(ddbMock, [tallyShard(QUIZ_ID, 0, [2, 1, 0]), tallyShard(QUIZ_ID, 3, [1, 0, 4])]);
});

describe('when DynamoDB leaves some tally shards unprocessed', () => {
  const SHARDS = [0, 1, 2, 3].map((shard) => tallyShard(QUIZ_ID, shard, [1, shard, 0]));

  beforeEach(() => givenQuiz(storedQuiz({ quizId: QUIZ_ID, tallyShards: 4 })));

  it('asks again for exactly those keys and sums every shard', async () => {
    ddbMock
      .on(BatchGetCommand)
      .resolvesOnce({
        Responses: { [TABLES.tally]: SHARDS.slice(0, 2) },
        UnprocessedKeys: { [TABLES.tally]: { Keys: shardKeys(QUIZ_ID, 4).slice(2), ConsistentRead: true } },
      })
      .resolves({ Responses: { [TABLES.tally]: SHARDS.slice(2) } });

    const reply = await getQuiz();

    expect(reply.body).toMatchObject({ counts: [4, 6, 0], total: 10 });
    const calls = ddbMock.commandCalls(BatchGetCommand);
    expect(calls).toHaveLength(2);
    expect(calls[1].args[0].input.RequestItems?.[TABLES.tally].Keys).toEqual(shardKeys(QUIZ_ID, 4).slice(2));
  });

  it('fails with 500 after 5 reads when shards stay unprocessed', async () => {
    ddbMock.on(BatchGetCommand).resolves({
      Responses: { [TABLES.tally]: [] },
      UnprocessedKeys: { [TABLES.tally]: { Keys: shardKeys(QUIZ_ID, 4) } },
    });

    const reply = await getQuiz();

    expectErrorReply(reply, 500, 'INTERNAL_ERROR');
    expect(ddbMock.commandCalls(BatchGetCommand)).toHaveLength(5);
  });
});

describe('when the quiz is still open', () => {
  it('answers 200 with state open, the correct answer and live counts from the tally', async () => {
    const quiz = storedQuiz({ quizId: QUIZ_ID, durationSeconds: 30 }, -5);
    givenQuiz(quiz);

    const reply = await getQuiz();

    expect(reply.statusCode).toBe(200);
    expect(String(reply.headers['content-type'])).toMatch(/^application\/json\b/);
    expect(reply.body).toStrictEqual({
      quizId: QUIZ_ID,
      question: quiz.question,
      choices: quiz.choices,
      kind: 'quiz',
      correctIndex: 1,
      state: 'open',
      counts: [3, 1, 4],
      total: 8,
      opensAt: quiz.opensAt,
      closesAt: quiz.closesAt,
      graceSeconds: 0,
      answersCloseAt: quiz.closesAt,
    });
  });

  it('reads the quiz consistently and every tally shard it was created with', async () => {
    givenQuiz(storedQuiz({ quizId: QUIZ_ID, tallyShards: 3 }));

    await getQuiz();

    expect(ddbMock.commandCalls(GetCommand)[0].args[0].input).toStrictEqual({
      TableName: TABLES.quizzes,
      Key: { quizId: QUIZ_ID },
      ConsistentRead: true,
    });
    const batches = ddbMock.commandCalls(BatchGetCommand);
    expect(batches).toHaveLength(1);
    expect(batches[0].args[0].input.RequestItems?.[TABLES.tally]).toEqual({
      Keys: shardKeys(QUIZ_ID, 3),
      ConsistentRead: true,
    });
  });

  it('never sends a cue nor writes anything', async () => {
    givenQuiz(storedQuiz({ quizId: QUIZ_ID }));

    await getQuiz();

    expect(ivsMock.commandCalls(PutMetadataCommand)).toHaveLength(0);
    expect(ddbMock.commandCalls(UpdateCommand)).toHaveLength(0);
  });

  it('does not leak the storage-only expiresAt', async () => {
    givenQuiz(storedQuiz({ quizId: QUIZ_ID }));

    const reply = await getQuiz();

    expect(reply.body).not.toHaveProperty('expiresAt');
    expect(reply.body).not.toHaveProperty('tallyShards');
  });
});

describe('when the quiz has closed but is not revealed', () => {
  it('answers state closed with live counts', async () => {
    givenQuiz(storedQuiz({ quizId: QUIZ_ID, durationSeconds: 10 }, -60));

    const reply = await getQuiz();

    expect(reply.statusCode).toBe(200);
    expect(reply.body).toMatchObject({ state: 'closed', correctIndex: 1, counts: [3, 1, 4], total: 8 });
  });
});

describe('when the quiz has been revealed', () => {
  it('answers state revealed with the stored figures and reads no tally', async () => {
    const result = { counts: [7, 6, 5], total: 18, revealedAt: new Date().toISOString() };
    givenQuiz({ ...storedQuiz({ quizId: QUIZ_ID }, -60), result });

    const reply = await getQuiz();

    expect(reply.statusCode).toBe(200);
    expect(reply.body).toMatchObject({ state: 'revealed', correctIndex: 1, counts: [7, 6, 5], total: 18 });
    expect(reply.body).not.toHaveProperty('result');
    expect(ddbMock.commandCalls(BatchGetCommand)).toHaveLength(0);
  });

  it('is revealed even before closesAt', async () => {
    const result = { counts: [0, 0, 1], total: 1, revealedAt: new Date().toISOString() };
    givenQuiz({ ...storedQuiz({ quizId: QUIZ_ID, durationSeconds: 300 }, -1), result });

    const reply = await getQuiz();

    expect(reply.body).toMatchObject({ state: 'revealed', counts: [0, 0, 1], total: 1 });
  });
});

describe('when the quiz does not exist', () => {
  it('answers 404 NOT_FOUND and reads no tally', async () => {
    givenQuiz(undefined);

    const reply = await getQuiz();

    expect(expectErrorReply(reply, 404, 'NOT_FOUND')).toContain(QUIZ_ID);
    expect(ddbMock.commandCalls(BatchGetCommand)).toHaveLength(0);
  });
});

describe('when the quiz id is malformed', () => {
  it.each(['a/b', 'a'.repeat(65), 'quiz.1'])(
    'answers 400 BAD_REQUEST for %j without reading DynamoDB',
    async (quizId) => {
      const reply = await getQuiz(quizId);

      expect(expectErrorReply(reply, 400, 'BAD_REQUEST')).toMatch(/^quizId: /);
      expect(ddbMock.commandCalls(GetCommand)).toHaveLength(0);
    },
  );
});

describe('when DynamoDB fails unexpectedly', () => {
  it('answers 500 INTERNAL_ERROR in the error envelope', async () => {
    ddbMock.on(GetCommand, quizItem(QUIZ_ID)).rejects(new Error('simulated outage'));

    const reply = await getQuiz();

    expectErrorReply(reply, 500, 'INTERNAL_ERROR');
  });
});
