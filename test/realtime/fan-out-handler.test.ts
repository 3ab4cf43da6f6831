/**
 * The fan-out Lambda handler (`lambda/handlers/fan-out.ts`), end to end with stubbed DynamoDB
 * and @connections: a result or stream job in, frames to every connection and a report out,
 * and a malformed job refused before anything is touched.
 */
import { PostToConnectionCommand } from '@aws-sdk/client-apigatewaymanagementapi';
import {
  BatchWriteCommand,
  DeleteCommand,
  GetCommand,
  PutCommand,
  QueryCommand,
  ScanCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { quizItem, storedQuiz, tallyReturns, tallyShard } from '../handlers/fixtures';
import {
  BROKEN,
  deletedIds,
  GONE,
  mockFanOut,
  QUIZ,
  RESULT,
  RESULT_FRAME,
  REVEALED,
  resultJob,
  run,
} from './fan-out-fixtures';
import { CONNECTIONS_TABLE, framesTo, sentFrames } from './ws-events';

const { ddbMock, mgmtMock } = mockFanOut();

describe('when a live poll pushes its running counts', () => {
  const { correctIndex: _none, ...question } = QUIZ;
  const OPEN_POLL = {
    ...question,
    ...storedQuiz({ quizId: QUIZ.quizId, choices: QUIZ.choices }, -5),
    kind: 'poll',
    liveResults: true,
  };
  const tallyJob = (sendAt = Date.now()) => ({
    kind: 'tally',
    quizId: QUIZ.quizId,
    sendAt,
    segment: 0,
    totalSegments: 1,
  });

  beforeEach(() => {
    ddbMock.on(GetCommand, quizItem(QUIZ.quizId)).resolves({ Item: OPEN_POLL });
    tallyReturns(ddbMock, [tallyShard(QUIZ.quizId, 0, [2, 1, 0]), tallyShard(QUIZ.quizId, 3, [1, 0, 4])]);
  });

  it('sends every live connection the summed counts once, and no grade', async () => {
    await run(tallyJob());

    const frame = { type: 'tally', quizId: QUIZ.quizId, counts: [3, 1, 4], total: 8 };
    for (const id of ['alice', 'bob', 'carol', 'legacy'])
      expect(framesTo(mgmtMock, id)).toStrictEqual([frame]);
  });

  it('reads the counts only when its window ends, so the answers of the window are in them', async () => {
    const sendAt = Date.now() + 300;
    await run(tallyJob(sendAt));

    expect(Date.now()).toBeGreaterThanOrEqual(sendAt);
  });

  it('sends nothing once the poll is closed or revealed: the result is final', async () => {
    for (const item of [
      { ...OPEN_POLL, closedAt: new Date().toISOString() },
      { ...OPEN_POLL, result: RESULT },
    ]) {
      ddbMock.on(GetCommand, quizItem(QUIZ.quizId)).resolves({ Item: item });
      await run(tallyJob());
    }
    expect(mgmtMock.commandCalls(PostToConnectionCommand)).toHaveLength(0);
  });
});

describe('when the revealed quiz is a poll', () => {
  const { correctIndex: _correct, ...question } = REVEALED;
  const POLL = { ...question, kind: 'poll' };
  const { correctIndex: _index, ...pollFrame } = { ...RESULT_FRAME, kind: 'poll' };

  beforeEach(() => {
    ddbMock.on(GetCommand, quizItem(QUIZ.quizId)).resolves({ Item: POLL });
  });

  it('sends every live connection the result without a correct answer, and grades no one', async () => {
    await run(resultJob());

    for (const id of ['alice', 'bob', 'carol', 'legacy'])
      expect(framesTo(mgmtMock, id)).toStrictEqual([pollFrame]);
  });

  it('reads no answers, since there is nothing to grade', async () => {
    await run(resultJob());

    expect(ddbMock.commandCalls(QueryCommand)).toHaveLength(0);
  });
});

describe('when a result is fanned out to live and gone connections', () => {
  it('sends the result frame to every live connection', async () => {
    await run(resultJob());

    for (const id of ['alice', 'bob', 'carol', 'legacy'])
      expect(framesTo(mgmtMock, id)[0]).toStrictEqual(RESULT_FRAME);
  });

  it('grades each viewer who answered, after the result', async () => {
    await run(resultJob());

    expect(framesTo(mgmtMock, 'alice')).toStrictEqual([
      RESULT_FRAME,
      { type: 'graded', quizId: QUIZ.quizId, choiceIndex: 1, correct: true },
    ]);
    expect(framesTo(mgmtMock, 'bob')).toStrictEqual([
      RESULT_FRAME,
      { type: 'graded', quizId: QUIZ.quizId, choiceIndex: 0, correct: false },
    ]);
    expect(framesTo(mgmtMock, 'legacy')).toStrictEqual([
      RESULT_FRAME,
      { type: 'graded', quizId: QUIZ.quizId, choiceIndex: 1, correct: true },
    ]);
  });

  it('sends only the result to a viewer who did not answer', async () => {
    await run(resultJob());

    expect(framesTo(mgmtMock, 'carol')).toStrictEqual([RESULT_FRAME]);
  });

  it('never posts to a viewer who has no connection in the table', async () => {
    await run(resultJob());

    expect(framesTo(mgmtMock, 'not-connected')).toHaveLength(0);
  });

  it('deletes each gone connection from the connections table in one batch write, and nothing else', async () => {
    await run(resultJob());

    expect(ddbMock.commandCalls(DeleteCommand)).toHaveLength(0);
    const batches = ddbMock.commandCalls(BatchWriteCommand).map((call) => call.args[0].input);
    expect(batches).toHaveLength(1);
    expect(Object.keys(batches[0].RequestItems ?? {})).toEqual([CONNECTIONS_TABLE]);
    expect(deletedIds(batches).sort()).toEqual([...GONE].sort());
  });

  it('stops posting to a connection once it is gone', async () => {
    await run(resultJob());

    // gone-2 answered, but its grade is not attempted after the result came back 410.
    expect(mgmtMock.commandCalls(PostToConnectionCommand, { ConnectionId: 'gone-2' })).toHaveLength(1);
    expect(mgmtMock.commandCalls(PostToConnectionCommand, { ConnectionId: 'gone-1' })).toHaveLength(1);
  });

  it('reports connections, gone and failed per connection and delivered per message', async () => {
    const report = await run(resultJob());

    // 7 connections; delivered = alice 2 + bob 2 + carol 1 + legacy 2; 2 gone; broken failed once.
    expect(report).toStrictEqual({ connections: 7, delivered: 7, gone: 2, failed: 1 });
  });

  it('only reads and deletes: the quiz once, the answers, the scan', async () => {
    await run(resultJob());

    expect(ddbMock.commandCalls(GetCommand)).toHaveLength(1);
    expect(ddbMock.commandCalls(PutCommand)).toHaveLength(0);
    expect(ddbMock.commandCalls(UpdateCommand)).toHaveLength(0);
  });
});

describe('when a stream state change is fanned out', () => {
  it('sends {type:"stream", state} to every connection and nothing else', async () => {
    const report = await run({ kind: 'stream', state: 'offline', segment: 0, totalSegments: 1 });

    const live = ['alice', 'bob', 'carol', 'broken', 'legacy'];
    for (const id of live.filter((id) => id !== BROKEN))
      expect(framesTo(mgmtMock, id)).toStrictEqual([{ type: 'stream', state: 'offline' }]);
    expect(sentFrames(mgmtMock).every((sent) => sent.frame.type === 'stream')).toBe(true);
    expect(report).toStrictEqual({ connections: 7, delivered: 4, gone: 2, failed: 1 });
    expect(report.connections).toBe(report.delivered + report.gone + report.failed);
  });

  it('reads no quiz and no answers', async () => {
    await run({ kind: 'stream', state: 'live', segment: 1, totalSegments: 4 });

    expect(ddbMock.commandCalls(GetCommand)).toHaveLength(0);
    expect(ddbMock.commandCalls(QueryCommand)).toHaveLength(0);
    expect(ddbMock.commandCalls(ScanCommand)[0].args[0].input).toMatchObject({
      Segment: 1,
      TotalSegments: 4,
    });
    expect(framesTo(mgmtMock, 'alice')).toStrictEqual([{ type: 'stream', state: 'live' }]);
  });
});

describe('when the job is malformed', () => {
  it.each([
    ['an unknown kind', { kind: 'dance', segment: 0, totalSegments: 1 }],
    ['a bad stream state', { kind: 'stream', state: 'paused', segment: 0, totalSegments: 1 }],
    ['no segment', { kind: 'result', quizId: QUIZ.quizId, totalSegments: 1 }],
    ['zero segments', { kind: 'result', quizId: QUIZ.quizId, segment: 0, totalSegments: 0 }],
  ])('rejects %s and touches nothing', async (_label, job) => {
    await expect(run(job)).rejects.toThrow(/job|kind|state|segment/i);
    expect(ddbMock.calls()).toHaveLength(0);
    expect(mgmtMock.calls()).toHaveLength(0);
  });
});
