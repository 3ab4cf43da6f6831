import { PutMetadataCommand } from '@aws-sdk/client-ivs';
import { BatchGetCommand, GetCommand } from '@aws-sdk/lib-dynamodb';
import { handler } from '../../lambda/handlers/get-state';
import { mockAws } from '../aws-mocks';
import { expectErrorReply, httpEvent, invoke } from './events';
import { quizItem, SHOW_ITEM, storedQuiz } from './fixtures';

const { ivs: ivsMock, ddb: ddbMock } = mockAws();

const QUIZ_ID = 'quiz_ABC-123';

const getState = () => invoke(handler, httpEvent('GET /state'));

function givenShow(item: Record<string, unknown> | undefined): void {
  ddbMock.on(GetCommand, SHOW_ITEM).resolves(item ? { Item: { pk: 'show', ...item } } : {});
}

function givenQuiz(item: Record<string, unknown> | undefined): void {
  ddbMock.on(GetCommand, quizItem(QUIZ_ID)).resolves(item ? { Item: item } : {});
}

beforeEach(() => {});

describe('when the control table has no show item yet', () => {
  it('answers 200 with stream unknown and no quiz', async () => {
    givenShow(undefined);

    const reply = await getState();

    expect(reply.statusCode).toBe(200);
    expect(String(reply.headers['content-type'])).toMatch(/^application\/json\b/);
    expect(reply.body).toStrictEqual({ stream: 'unknown', quiz: null });
    expect(ddbMock.commandCalls(GetCommand)).toHaveLength(1);
  });
});

describe('when the show item records the stream state', () => {
  it.each(['live', 'offline'])('answers stream %s', async (stream) => {
    givenShow({ stream });

    const reply = await getState();

    expect(reply.body).toStrictEqual({ stream, quiz: null });
  });

  it('answers unknown for a value it does not recognise', async () => {
    givenShow({ stream: 'LIVE' });

    const reply = await getState();

    expect(reply.body).toStrictEqual({ stream: 'unknown', quiz: null });
  });

  it('reads the show item consistently', async () => {
    givenShow({ stream: 'live' });

    await getState();

    expect(ddbMock.commandCalls(GetCommand, SHOW_ITEM)[0].args[0].input.ConsistentRead).toBe(true);
  });
});

describe('when the current quiz is open', () => {
  it('shows the question without the answer or any figures', async () => {
    const quiz = storedQuiz({ quizId: QUIZ_ID, durationSeconds: 30 }, -5);
    givenShow({ stream: 'live', currentQuizId: QUIZ_ID });
    givenQuiz(quiz);

    const reply = await getState();

    expect(reply.statusCode).toBe(200);
    expect(reply.body).toStrictEqual({
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
    expect(ddbMock.commandCalls(BatchGetCommand)).toHaveLength(0);
  });
});

describe('when the current quiz has closed but is not revealed', () => {
  it('shows state closed, still without the answer', async () => {
    givenShow({ stream: 'offline', currentQuizId: QUIZ_ID });
    givenQuiz(storedQuiz({ quizId: QUIZ_ID, durationSeconds: 10 }, -60));

    const reply = await getState();

    const { quiz } = reply.body as { quiz: Record<string, unknown> };
    expect(quiz.state).toBe('closed');
    expect(quiz).not.toHaveProperty('correctIndex');
    expect(quiz).not.toHaveProperty('counts');
    expect(quiz).not.toHaveProperty('total');
  });
});

describe('when the current quiz has been revealed', () => {
  it('shows the answer and the stored figures', async () => {
    const quiz = storedQuiz({ quizId: QUIZ_ID }, -60);
    const result = { counts: [4, 11, 2], total: 17, revealedAt: new Date().toISOString() };
    givenShow({ stream: 'live', currentQuizId: QUIZ_ID });
    givenQuiz({ ...quiz, result });

    const reply = await getState();

    expect(reply.body).toStrictEqual({
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

describe('when the current quiz id points to no stored quiz', () => {
  it('answers quiz null', async () => {
    givenShow({ stream: 'live', currentQuizId: QUIZ_ID });
    givenQuiz(undefined);

    const reply = await getState();

    expect(reply.body).toStrictEqual({ stream: 'live', quiz: null });
  });
});

describe('when anyone asks', () => {
  it('never sends timed metadata', async () => {
    givenShow({ stream: 'live', currentQuizId: QUIZ_ID });
    givenQuiz(storedQuiz({ quizId: QUIZ_ID }));

    await getState();

    expect(ivsMock.commandCalls(PutMetadataCommand)).toHaveLength(0);
  });
});

describe('when DynamoDB fails unexpectedly', () => {
  it('answers 500 INTERNAL_ERROR in the error envelope', async () => {
    ddbMock.on(GetCommand, SHOW_ITEM).rejects(new Error('simulated outage'));

    const reply = await getState();

    expectErrorReply(reply, 500, 'INTERNAL_ERROR');
  });
});
