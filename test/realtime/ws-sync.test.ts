import { PostToConnectionCommand } from '@aws-sdk/client-apigatewaymanagementapi';
import { ProvisionedThroughputExceededException } from '@aws-sdk/client-dynamodb';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { handler as getState } from '../../lambda/handlers/get-state';
import { handler } from '../../lambda/handlers/ws-sync';
import { mockAws } from '../aws-mocks';
import { httpEvent, invoke, lambdaContext } from '../handlers/events';
import { quizItem, SHOW_ITEM, storedQuiz } from '../handlers/fixtures';
import { dynamoWrites, errorFrame, onlyFrameTo, wsEvent } from './ws-events';

const { ddb: ddbMock, mgmt: mgmtMock } = mockAws();

const SENDER = 'c3luYy1zZW5kZXI=';
const QUIZ_ID = 'quiz_ABC-123';

async function sync(): Promise<Record<string, unknown>> {
  const result = await handler(
    wsEvent('sync', { connectionId: SENDER, body: { action: 'sync' } }),
    lambdaContext('sync-request-id'),
  );
  expect(result).toStrictEqual({ statusCode: 200 });
  return onlyFrameTo(mgmtMock, SENDER);
}

function givenShow(item: Record<string, unknown> | undefined): void {
  ddbMock.on(GetCommand, SHOW_ITEM).resolves(item ? { Item: { pk: 'show', ...item } } : {});
}

function givenQuiz(item: Record<string, unknown> | undefined): void {
  ddbMock.on(GetCommand, quizItem(QUIZ_ID)).resolves(item ? { Item: item } : {});
}

beforeEach(() => {
  mgmtMock.on(PostToConnectionCommand).resolves({});
});

describe('when nothing is stored yet', () => {
  it('replies state with stream unknown and no quiz', async () => {
    givenShow(undefined);

    expect(await sync()).toStrictEqual({ type: 'state', stream: 'unknown', quiz: null });
  });
});

describe('when a quiz is open', () => {
  it('replies the question without the answer or any figures', async () => {
    const quiz = storedQuiz({ quizId: QUIZ_ID }, -5);
    givenShow({ stream: 'live', currentQuizId: QUIZ_ID });
    givenQuiz(quiz);

    expect(await sync()).toStrictEqual({
      type: 'state',
      stream: 'live',
      quiz: {
        quizId: QUIZ_ID,
        question: quiz.question,
        choices: quiz.choices,
        state: 'open',
        closesAt: quiz.closesAt,
        kind: 'quiz',
        durationSeconds: quiz.durationSeconds,
        graceSeconds: 0,
      },
    });
  });

  it('writes nothing', async () => {
    givenShow({ stream: 'live', currentQuizId: QUIZ_ID });
    givenQuiz(storedQuiz({ quizId: QUIZ_ID }, -5));

    await sync();

    expect(dynamoWrites(ddbMock)).toHaveLength(0);
  });
});

describe('when the quiz has closed but is not revealed', () => {
  it('replies state closed, still without correctIndex, counts or total', async () => {
    givenShow({ stream: 'offline', currentQuizId: QUIZ_ID });
    givenQuiz(storedQuiz({ quizId: QUIZ_ID, durationSeconds: 10 }, -60));

    const frame = await sync();

    expect(frame.stream).toBe('offline');
    const quiz = frame.quiz as Record<string, unknown>;
    expect(quiz.state).toBe('closed');
    expect(Object.keys(quiz).sort()).toEqual([
      'choices',
      'closesAt',
      'durationSeconds',
      'graceSeconds',
      'kind',
      'question',
      'quizId',
      'state',
    ]);
  });
});

describe('when the quiz has been revealed', () => {
  it('replies the answer and the stored figures', async () => {
    const quiz = storedQuiz({ quizId: QUIZ_ID }, -60);
    givenShow({ stream: 'live', currentQuizId: QUIZ_ID });
    givenQuiz({ ...quiz, result: { counts: [4, 11, 2], total: 17, revealedAt: new Date().toISOString() } });

    expect(await sync()).toStrictEqual({
      type: 'state',
      stream: 'live',
      quiz: {
        quizId: QUIZ_ID,
        question: quiz.question,
        choices: quiz.choices,
        state: 'revealed',
        closesAt: quiz.closesAt,
        kind: 'quiz',
        durationSeconds: quiz.durationSeconds,
        graceSeconds: 0,
        correctIndex: 1,
        counts: [4, 11, 2],
        total: 17,
      },
    });
  });
});

describe('when the same state is asked for over HTTP and over the WebSocket', () => {
  it.each([
    ['an open quiz', storedQuiz({ quizId: QUIZ_ID }, -5)],
    ['a closed quiz', storedQuiz({ quizId: QUIZ_ID, durationSeconds: 10 }, -60)],
    [
      'a revealed quiz',
      { ...storedQuiz({ quizId: QUIZ_ID }, -60), result: { counts: [1, 2, 3], total: 6, revealedAt: 'x' } },
    ],
    ['no quiz', undefined],
  ])('gives exactly the GET /state body plus type "state" for %s', async (_label, quiz) => {
    givenShow({ stream: 'live', currentQuizId: QUIZ_ID });
    givenQuiz(quiz);

    const http = await invoke(getState, httpEvent('GET /state'));
    const frame = await sync();

    expect(http.statusCode).toBe(200);
    expect(frame).toStrictEqual({ type: 'state', ...(http.body as object) });
  });
});

describe('when DynamoDB throttles past the SDK retries', () => {
  it('replies RATE_LIMITED, not INTERNAL_ERROR: the viewer may simply sync again', async () => {
    ddbMock
      .on(GetCommand, SHOW_ITEM)
      .rejects(new ProvisionedThroughputExceededException({ message: 'x', $metadata: {} }));

    expect(await sync()).toStrictEqual(errorFrame('RATE_LIMITED'));
  });
});

describe('when DynamoDB fails unexpectedly', () => {
  it('replies INTERNAL_ERROR and still answers 200', async () => {
    ddbMock.on(GetCommand, SHOW_ITEM).rejects(new Error('simulated outage'));

    const frame = await sync();

    expect(frame).toStrictEqual(errorFrame('INTERNAL_ERROR'));
    expect(String(frame.message)).toContain('sync-request-id');
  });
});
