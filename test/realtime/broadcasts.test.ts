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

const { ddbMock, mgmtMock } = mockFanOut();

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
