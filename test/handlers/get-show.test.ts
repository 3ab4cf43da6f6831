import {
  ChannelNotBroadcasting,
  GetStreamCommand,
  IvsClient,
  ThrottlingException,
} from '@aws-sdk/client-ivs';
import { BatchGetCommand, GetCommand } from '@aws-sdk/lib-dynamodb';
import { RateLimitedError } from '../../lambda/domain/errors';
import { handler } from '../../lambda/handlers/get-show';
import { STREAM_STATUS_CACHE_MS, StreamStatusReader } from '../../lambda/services/stream-status';
import { mockAws } from '../aws-mocks';
import { expectErrorReply, httpEvent, invoke, type ParsedReply } from './events';
import { CHANNEL_ARN, SHOW_ITEM, storedQuiz, TABLES, tallyShard } from './fixtures';

const { ivs: ivsMock, ddb: ddbMock } = mockAws();

const getShow = async () => (await invoke(handler, httpEvent('GET /show'))) as ParsedReply & { body: any };
const STARTED = new Date('2026-11-30T17:58:02.000Z');

// The handler's IVS reading lives as long as its container: each test starts well past it.
let clock = Date.now();
beforeEach(() => {
  clock += 10 * STREAM_STATUS_CACHE_MS;
  jest.useFakeTimers({ now: clock, advanceTimers: true });
  ddbMock.on(GetCommand, SHOW_ITEM).resolves({ Item: { pk: 'show', stream: 'live' } });
  ivsMock.on(GetStreamCommand).resolves({
    stream: {
      state: 'LIVE',
      viewerCount: 42,
      startTime: STARTED,
      health: 'HEALTHY',
      channelArn: CHANNEL_ARN,
    },
  });
});
afterEach(() => jest.useRealTimers());

describe('the stream', () => {
  it('comes from IVS GetStream on the stack’s channel, with the viewer count', async () => {
    const reply = await getShow();

    expect(reply.statusCode).toBe(200);
    expect(reply.body).toStrictEqual({
      stream: { state: 'live', viewerCount: 42, startTime: STARTED.toISOString(), health: 'HEALTHY' },
      quizzes: [],
    });
    expect(ivsMock.commandCalls(GetStreamCommand)[0].args[0].input).toEqual({ channelArn: CHANNEL_ARN });
  });

  it('is offline when IVS says the channel is not broadcasting', async () => {
    ivsMock.on(GetStreamCommand).rejects(new ChannelNotBroadcasting({ message: 'offline', $metadata: {} }));

    const reply = await getShow();

    expect(reply.statusCode).toBe(200);
    expect(reply.body.stream).toStrictEqual({ state: 'offline' });
  });

  it('is read from IVS at most once per 5 s, however often hosts ask', async () => {
    await getShow();
    await getShow();
    jest.setSystemTime(Date.now() + STREAM_STATUS_CACHE_MS + 1);
    await getShow();

    expect(ivsMock.commandCalls(GetStreamCommand)).toHaveLength(2);
  });

  it('keeps the last reading while IVS throttles', async () => {
    await getShow();
    jest.setSystemTime(Date.now() + STREAM_STATUS_CACHE_MS + 1);
    ivsMock.on(GetStreamCommand).rejects(new ThrottlingException({ message: 'slow down', $metadata: {} }));
    const kept = await getShow();
    expect(kept.statusCode).toBe(200);
    expect(kept.body.stream).toMatchObject({ state: 'live', viewerCount: 42 });
  });

  it('is a 429 to retry when IVS throttles before any reading', async () => {
    ivsMock.on(GetStreamCommand).rejects(new ThrottlingException({ message: 'slow down', $metadata: {} }));
    const reader = new StreamStatusReader(new IvsClient({ region: 'eu-west-1' }), CHANNEL_ARN);

    await expect(reader.read()).rejects.toBeInstanceOf(RateLimitedError);
  });

  it('answers 500, not a guess, when IVS fails otherwise', async () => {
    ivsMock.on(GetStreamCommand).rejects(new Error('socket hang up'));

    expectErrorReply(await getShow(), 500, 'INTERNAL_ERROR');
  });
});

describe('the show’s quizzes', () => {
  // Made on each test's clock.
  let open: ReturnType<typeof storedQuiz>;
  beforeEach(() => {
    open = storedQuiz({ quizId: 'quiz-open', durationSeconds: 60 }, -5);
    const revealed = {
      ...storedQuiz({ quizId: 'quiz-done', question: 'Earlier?' }, -300),
      result: { correctIndex: 1, counts: [1, 4, 0], total: 5 },
    };
    ddbMock.on(GetCommand, SHOW_ITEM).resolves({
      Item: {
        pk: 'show',
        stream: 'live',
        currentQuizId: 'quiz-open',
        recentQuizIds: ['quiz-open', 'gone', 'quiz-done'],
      },
    });
    ddbMock.on(BatchGetCommand).callsFake((input) => {
      if (input.RequestItems[TABLES.quizzes]) return { Responses: { [TABLES.quizzes]: [revealed, open] } };
      return { Responses: { [TABLES.tally]: [tallyShard('quiz-open', 0, [2, 3, 0])] } };
    });
  });

  it('come newest first, the result once revealed and the running counts before; expired ones are left out', async () => {
    const reply = await getShow();

    expect(reply.statusCode).toBe(200);
    expect(reply.body.currentQuizId).toBe('quiz-open');
    expect(reply.body.quizzes.map((q: { quizId: string }) => q.quizId)).toEqual(['quiz-open', 'quiz-done']);
    expect(reply.body.quizzes[0]).toMatchObject({ state: 'open', counts: [2, 3, 0], total: 5 });
    expect(reply.body.quizzes[1]).toMatchObject({
      state: 'revealed',
      counts: [1, 4, 0],
      total: 5,
      question: 'Earlier?',
    });
    expect(reply.body.quizzes[0].answersCloseAt).toBe(open.closesAt);
  });

  it('are read consistently, in one batch', async () => {
    await getShow();

    const reads = ddbMock
      .commandCalls(BatchGetCommand)
      .filter((call) => call.args[0].input.RequestItems?.[TABLES.quizzes]);
    expect(reads).toHaveLength(1);
    expect(reads[0].args[0].input.RequestItems?.[TABLES.quizzes]).toEqual({
      Keys: [{ quizId: 'quiz-open' }, { quizId: 'gone' }, { quizId: 'quiz-done' }],
      ConsistentRead: true,
    });
  });
});
