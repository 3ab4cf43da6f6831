/**
 * `Broadcasts.result` (`lambda/services/broadcasts.ts`), driven through the fan-out handler:
 * what a result segment sends when its answers cannot be loaded or its quiz has no result, and
 * the fan-out marks (heartbeat, completion, duplicate delivery) it keeps on the revealed quiz.
 */
import { PostToConnectionCommand } from '@aws-sdk/client-apigatewaymanagementapi';
import { GetCommand, QueryCommand, ScanCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { quizItem } from '../handlers/fixtures';
import { TEST_ENV } from '../setup-env';
import { mockFanOut, QUIZ, RESULT, RESULT_FRAME, REVEALED, resultJob, run } from './fan-out-fixtures';
import { framesTo } from './ws-events';

const { ddbMock, mgmtMock, givenConnections } = mockFanOut();

describe('when the answers cannot be loaded', () => {
  it('still sends every live connection its result, sends no grade, and completes', async () => {
    ddbMock.on(QueryCommand).rejects(new Error('simulated DynamoDB outage'));

    const report = await run(resultJob());

    for (const id of ['alice', 'bob', 'carol', 'legacy'])
      expect(framesTo(mgmtMock, id)).toStrictEqual([RESULT_FRAME]);
    expect(report).toMatchObject({ connections: 7, gone: 2, failed: 1 });
  });
});

describe('when the quiz has no result', () => {
  it('rejects without posting anything', async () => {
    ddbMock.on(GetCommand, quizItem(QUIZ.quizId)).resolves({ Item: { ...REVEALED, result: undefined } });

    await expect(run(resultJob())).rejects.toThrow(/has no result/);
    expect(mgmtMock.commandCalls(PostToConnectionCommand)).toHaveLength(0);
    expect(ddbMock.commandCalls(ScanCommand)).toHaveLength(0);
  });

  it('rejects when the quiz does not exist', async () => {
    ddbMock.on(GetCommand, quizItem(QUIZ.quizId)).resolves({});

    await expect(run(resultJob())).rejects.toThrow(QUIZ.quizId);
    expect(mgmtMock.commandCalls(PostToConnectionCommand)).toHaveLength(0);
  });
});

describe('when the reveal recorded fan-out marks on the quiz', () => {
  const MARKED = (mark: Record<string, string>) => ({
    ...REVEALED,
    cueSentAt: RESULT.revealedAt,
    fanOut: { '0': mark },
  });
  const marksWritten = () =>
    ddbMock
      .commandCalls(UpdateCommand)
      .map((call) => call.args[0].input)
      .filter((input) => input.TableName === TEST_ENV.CUECAST_QUIZZES_TABLE);

  it('beats while it runs, then records the segment finished with its report', async () => {
    ddbMock.on(GetCommand, quizItem(QUIZ.quizId)).resolves({ Item: MARKED({ beatAt: RESULT.revealedAt }) });
    ddbMock.on(UpdateCommand).resolves({});

    const report = await run(resultJob(0, 4));

    const writes = marksWritten();
    expect(writes.map((w) => w.UpdateExpression)).toEqual([
      'SET fanOut.#segment.beatAt = :now',
      'SET fanOut.#segment.doneAt = :now, fanOut.#segment.report = :report',
    ]);
    for (const write of writes) {
      expect(write.Key).toStrictEqual({ quizId: QUIZ.quizId });
      expect(write.ExpressionAttributeNames).toStrictEqual({ '#segment': '0' });
    }
    expect(writes[0].ConditionExpression).toContain('attribute_not_exists(fanOut.#segment.doneAt)');
    expect(writes[1].ExpressionAttributeValues?.[':report']).toStrictEqual(report);
  });

  it('sends nothing for a segment already recorded as finished (a duplicate delivery)', async () => {
    ddbMock
      .on(GetCommand, quizItem(QUIZ.quizId))
      .resolves({ Item: MARKED({ beatAt: RESULT.revealedAt, doneAt: RESULT.revealedAt }) });

    const report = await run(resultJob(0, 4));

    expect(report).toStrictEqual({ connections: 0, delivered: 0, gone: 0, failed: 0 });
    expect(mgmtMock.commandCalls(PostToConnectionCommand)).toHaveLength(0);
    expect(ddbMock.commandCalls(ScanCommand)).toHaveLength(0);
  });

  it('still completes the broadcast when the marks cannot be written', async () => {
    ddbMock.on(GetCommand, quizItem(QUIZ.quizId)).resolves({ Item: MARKED({ beatAt: RESULT.revealedAt }) });
    ddbMock.on(UpdateCommand).rejects(new Error('AccessDeniedException'));

    const report = await run(resultJob(0, 4));

    expect(report).toStrictEqual({ connections: 7, delivered: 7, gone: 2, failed: 1 });
  });
});

describe('when viewers connected asking for pushes v2 (one post per viewer per reveal)', () => {
  const v2 = (connectionId: string) => ({ connectionId, viewerId: connectionId, pushVersion: 2 });
  const FIGURES = { kind: 'quiz', correctIndex: 1, counts: [1, 3, 1], total: 5 };

  it('sends each who answered one graded message with the figures, and the others the result', async () => {
    givenConnections([
      [v2('alice'), v2('bob')],
      [v2('carol'), { connectionId: 'legacy' }],
    ]);

    const report = await run(resultJob());

    expect(framesTo(mgmtMock, 'alice')).toStrictEqual([
      { type: 'graded', quizId: QUIZ.quizId, choiceIndex: 1, correct: true, ...FIGURES },
    ]);
    expect(framesTo(mgmtMock, 'bob')).toStrictEqual([
      { type: 'graded', quizId: QUIZ.quizId, choiceIndex: 0, correct: false, ...FIGURES },
    ]);
    // carol did not answer: the result alone.
    expect(framesTo(mgmtMock, 'carol')).toStrictEqual([RESULT_FRAME]);
    // A v1 connection beside them is served as before: result, then graded.
    expect(framesTo(mgmtMock, 'legacy')).toStrictEqual([
      RESULT_FRAME,
      { type: 'graded', quizId: QUIZ.quizId, choiceIndex: 1, correct: true },
    ]);
    // 4 connections, 5 posts: one each on v2, two on v1.
    expect(mgmtMock.commandCalls(PostToConnectionCommand)).toHaveLength(5);
    expect(report).toMatchObject({ connections: 4, gone: 0, failed: 0 });
  });

  it('still sends each v2 viewer the result when the answers cannot be loaded', async () => {
    givenConnections([[v2('alice'), v2('carol')]]);
    ddbMock.on(QueryCommand).rejects(new Error('simulated DynamoDB outage'));

    await run(resultJob());

    expect(framesTo(mgmtMock, 'alice')).toStrictEqual([RESULT_FRAME]);
    expect(framesTo(mgmtMock, 'carol')).toStrictEqual([RESULT_FRAME]);
  });

  it('sends a poll’s result once to every v2 viewer, grading no one', async () => {
    ddbMock.on(GetCommand, quizItem(QUIZ.quizId)).resolves({
      Item: { ...REVEALED, kind: 'poll', correctIndex: undefined },
    });
    givenConnections([[v2('alice'), v2('carol')]]);

    await run(resultJob());

    const { correctIndex: _none, ...pollFrame } = { ...RESULT_FRAME, kind: 'poll' };
    expect(framesTo(mgmtMock, 'alice')).toStrictEqual([pollFrame]);
    expect(framesTo(mgmtMock, 'carol')).toStrictEqual([pollFrame]);
    expect(ddbMock.commandCalls(QueryCommand)).toHaveLength(0);
  });
});
