import {
  ApiGatewayManagementApiClient,
  ForbiddenException,
  LimitExceededException,
  PostToConnectionCommand,
  type PostToConnectionCommandInput,
} from '@aws-sdk/client-apigatewaymanagementapi';
import {
  BatchWriteCommand,
  type BatchWriteCommandInput,
  DeleteCommand,
  GetCommand,
  PutCommand,
  QueryCommand,
  type QueryCommandInput,
  ScanCommand,
  type ScanCommandInput,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { shardOf } from '../../lambda/domain/tally';
import { handler } from '../../lambda/handlers/fan-out';
import { ConnectionPoster, POST_ROUNDS } from '../../lambda/services/connection-poster';
import { fanOut } from '../../lambda/services/fan-out';
import { ConnectionStore } from '../../lambda/store/connection-store';
import { mockAws } from '../aws-mocks';
import { lambdaContext } from '../handlers/events';
import { quizItem, storedQuiz } from '../handlers/fixtures';
import { TEST_ENV } from '../setup-env';
import {
  ANSWERS_TABLE,
  CONNECTIONS_TABLE,
  decodeData,
  framesTo,
  goneException,
  sentFrames,
} from './ws-events';

const { ddb: ddbMock, mgmt: mgmtMock } = mockAws();

const CONCURRENCY = Number(TEST_ENV.CUECAST_FAN_OUT_CONCURRENCY);
const TALLY_SHARDS = 4;
/** The sealed figures of ANSWERS below: the records are exactly the counted answers. */
const RESULT = { counts: [1, 3, 1], total: 5, revealedAt: new Date().toISOString() };
const QUIZ = storedQuiz({ quizId: 'quiz_ABC-123', choices: ['Mars', 'Jupiter', 'Venus'] }, -60);
const REVEALED = { ...QUIZ, result: RESULT };
const RESULT_FRAME = {
  type: 'result',
  v: 1,
  quizId: QUIZ.quizId,
  correctIndex: 1,
  counts: [1, 3, 1],
  total: 5,
};

type Item = Record<string, unknown>;
const connection = (connectionId: string, viewerId = connectionId): Item => ({ connectionId, viewerId });

/**
 * Two scan pages. alice answered right, bob wrong, carol not at all; gone-1 and gone-2
 * closed their sockets (gone-2 had answered); broken fails for another reason; legacy has
 * no viewerId attribute and answered right.
 */
const PAGE_1 = [connection('alice'), connection('bob'), connection('gone-1')];
const PAGE_2 = [connection('carol'), connection('gone-2'), connection('broken'), { connectionId: 'legacy' }];
const ANSWERS: Record<string, number> = { alice: 1, bob: 0, 'gone-2': 1, legacy: 1, 'not-connected': 2 };
const GONE = ['gone-1', 'gone-2'];
const BROKEN = 'broken';

/** Answers the scan page by page, keyed on ExclusiveStartKey, as DynamoDB would. */
function givenConnections(pages: Item[][]): void {
  ddbMock.on(ScanCommand).callsFake((input: ScanCommandInput) => {
    const index = input.ExclusiveStartKey ? Number(input.ExclusiveStartKey.page) : 0;
    const last = index === pages.length - 1;
    return { Items: pages[index], ...(last ? {} : { LastEvaluatedKey: { page: index + 1 } }) };
  });
}

/** Answers each shard's query one item per page, so every non-empty shard paginates. */
function givenAnswers(answers: Record<string, number>): void {
  ddbMock.on(QueryCommand).callsFake((input: QueryCommandInput) => {
    const pk = String(input.ExpressionAttributeValues?.[':pk']);
    const items = Object.entries(answers)
      .filter(([viewerId]) => `${QUIZ.quizId}#${shardOf(viewerId, TALLY_SHARDS)}` === pk)
      .map(([viewerId, choiceIndex]) => ({ viewerId, choiceIndex }));
    const index = input.ExclusiveStartKey ? Number(input.ExclusiveStartKey.index) : 0;
    const more = index + 1 < items.length;
    return {
      Items: items.slice(index, index + 1),
      ...(more ? { LastEvaluatedKey: { pk, index: index + 1 } } : {}),
    };
  });
}

const resultJob = (segment = 0, totalSegments = 1) => ({
  kind: 'result',
  quizId: QUIZ.quizId,
  segment,
  totalSegments,
});

const run = (job: unknown) => handler(job, lambdaContext());

/** Every connection id the batch writes asked to delete, in order. */
const deletedIds = (batches: BatchWriteCommandInput[]): string[] =>
  batches.flatMap((batch) =>
    (batch.RequestItems?.[CONNECTIONS_TABLE] ?? []).map((request) =>
      String(request.DeleteRequest?.Key?.connectionId),
    ),
  );

beforeEach(() => {
  mgmtMock.on(PostToConnectionCommand).resolves({});
  for (const id of GONE) mgmtMock.on(PostToConnectionCommand, { ConnectionId: id }).rejects(goneException());
  mgmtMock
    .on(PostToConnectionCommand, { ConnectionId: BROKEN })
    .rejects(new LimitExceededException({ message: 'simulated throttle', $metadata: {} }));
  ddbMock.on(GetCommand, quizItem(QUIZ.quizId)).resolves({ Item: REVEALED });
  ddbMock.on(BatchWriteCommand).resolves({});
  givenConnections([PAGE_1, PAGE_2]);
  givenAnswers(ANSWERS);
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

  it('counts a non-Gone failure as failed, keeps the record and still reaches the others', async () => {
    const report = await run(resultJob());

    expect(report.failed).toBe(1);
    // A throttled post is tried again once (POST_ROUNDS), then given up: bounded, never fatal.
    expect(mgmtMock.commandCalls(PostToConnectionCommand, { ConnectionId: BROKEN })).toHaveLength(
      POST_ROUNDS,
    );
    expect(ddbMock.commandCalls(DeleteCommand, { Key: { connectionId: BROKEN } })).toHaveLength(0);
    expect(framesTo(mgmtMock, 'legacy')).toHaveLength(2);
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

describe('when the answers cannot be loaded', () => {
  it('still sends every live connection its result, sends no grade, and completes', async () => {
    ddbMock.on(QueryCommand).rejects(new Error('simulated DynamoDB outage'));

    const report = await run(resultJob());

    for (const id of ['alice', 'bob', 'carol', 'legacy'])
      expect(framesTo(mgmtMock, id)).toStrictEqual([RESULT_FRAME]);
    expect(report).toMatchObject({ connections: 7, gone: 2, failed: 1 });
  });
});

describe('when the connections scan spans several pages', () => {
  it('asks for small pages, so posting starts before the whole segment is read', async () => {
    await run(resultJob());

    for (const call of ddbMock.commandCalls(ScanCommand)) expect(call.args[0].input.Limit).toBe(500);
  });

  it('reaches the connections on every page, passing ExclusiveStartKey on', async () => {
    await run(resultJob());

    const scans = ddbMock.commandCalls(ScanCommand).map((call) => call.args[0].input);
    expect(scans).toHaveLength(2);
    expect(scans[0].TableName).toBe(CONNECTIONS_TABLE);
    expect(scans[0].ExclusiveStartKey).toBeUndefined();
    expect(scans[1].TableName).toBe(CONNECTIONS_TABLE);
    expect(scans[1].ExclusiveStartKey).toStrictEqual({ page: 1 });
    const reached = new Set(sentFrames(mgmtMock).map((sent) => sent.connectionId));
    expect([...reached].sort()).toEqual(
      [...PAGE_1, ...PAGE_2].map((item) => String(item.connectionId)).sort(),
    );
  });

  it('asks for the next page as soon as a page arrives, before posting to it', async () => {
    const scansAtPost: number[] = [];
    mgmtMock.on(PostToConnectionCommand).callsFake(() => {
      scansAtPost.push(ddbMock.commandCalls(ScanCommand).length);
      return {};
    });

    await run(resultJob());

    // Page 2 was already on its way when alice, the first connection of page 1, was posted to.
    expect(scansAtPost[0]).toBe(2);
    expect(ddbMock.commandCalls(ScanCommand)).toHaveLength(2);
  });

  it('fails the broadcast when a page read ahead fails, after posting to the pages before it', async () => {
    ddbMock
      .on(ScanCommand)
      .callsFake((input: ScanCommandInput) =>
        input.ExclusiveStartKey
          ? Promise.reject(new Error('scan page 2 failed'))
          : { Items: PAGE_1, LastEvaluatedKey: { page: 1 } },
      );

    await expect(run(resultJob())).rejects.toThrow('scan page 2 failed');
    expect(framesTo(mgmtMock, 'alice')[0]).toStrictEqual(RESULT_FRAME);
    expect(framesTo(mgmtMock, 'bob')[0]).toStrictEqual(RESULT_FRAME);
  });

  it('handles an empty page followed by a full one', async () => {
    givenConnections([[], [connection('alice')], [connection('carol')]]);

    const report = await run(resultJob());

    expect(ddbMock.commandCalls(ScanCommand)).toHaveLength(3);
    expect(report.connections).toBe(2);
    expect(framesTo(mgmtMock, 'carol')).toStrictEqual([RESULT_FRAME]);
  });
});

describe('when the job covers one of several scan segments', () => {
  it('scans only that segment', async () => {
    await run(resultJob(2, 4));

    const scans = ddbMock.commandCalls(ScanCommand).map((call) => call.args[0].input);
    expect(scans.length).toBeGreaterThan(0);
    for (const scan of scans) {
      expect(scan.Segment).toBe(2);
      expect(scan.TotalSegments).toBe(4);
    }
  });

  it('scans the whole table without segment parameters when there is one segment', async () => {
    await run(resultJob(0, 1));

    for (const call of ddbMock.commandCalls(ScanCommand)) {
      expect(call.args[0].input.Segment).toBeUndefined();
      expect(call.args[0].input.TotalSegments).toBeUndefined();
    }
  });
});

describe("when the quiz's answers are read for grading", () => {
  it('queries every one of the 4 answer shards by its key', async () => {
    await run(resultJob());

    const pks = ddbMock
      .commandCalls(QueryCommand)
      .map((call) => call.args[0].input)
      .filter((input) => input.ExclusiveStartKey === undefined)
      .map((input) => {
        expect(input.TableName).toBe(ANSWERS_TABLE);
        expect(input.KeyConditionExpression).toBe('pk = :pk');
        return input.ExpressionAttributeValues?.[':pk'];
      });
    expect(pks.sort()).toEqual([0, 1, 2, 3].map((n) => `${QUIZ.quizId}#${n}`));
  });

  it('follows LastEvaluatedKey within a shard until the last page', async () => {
    await run(resultJob());

    const queries = ddbMock.commandCalls(QueryCommand).map((call) => call.args[0].input);
    // One page per answer plus one first page for each empty shard.
    const emptyShards = [0, 1, 2, 3].filter(
      (n) => !Object.keys(ANSWERS).some((viewerId) => shardOf(viewerId, TALLY_SHARDS) === n),
    ).length;
    expect(queries).toHaveLength(Object.keys(ANSWERS).length + emptyShards);
    const continued = queries.filter((input) => input.ExclusiveStartKey !== undefined);
    for (const input of continued)
      expect((input.ExclusiveStartKey as Item).pk).toBe(input.ExpressionAttributeValues?.[':pk']);
    expect(continued.length).toBeGreaterThan(0);
  });

  it('grades a viewer whose answer was on a later page of its shard', async () => {
    // Put many answers on alice's shard so hers is not on the first page.
    const shard = shardOf('alice', TALLY_SHARDS);
    const crowd: Record<string, number> = {};
    for (let i = 0; crowd.alice === undefined; i++) {
      const id = `v${i}`;
      if (shardOf(id, TALLY_SHARDS) === shard) crowd[id] = 0;
      if (Object.keys(crowd).length >= 3) crowd.alice = 1;
    }
    givenAnswers(crowd);

    await run(resultJob());

    expect(framesTo(mgmtMock, 'alice')[1]).toStrictEqual({
      type: 'graded',
      quizId: QUIZ.quizId,
      choiceIndex: 1,
      correct: true,
    });
  });

  it('reads as many shards as the quiz was created with', async () => {
    ddbMock.on(GetCommand, quizItem(QUIZ.quizId)).resolves({ Item: { ...REVEALED, tallyShards: 2 } });

    await run(resultJob());

    const pks = new Set(
      ddbMock.commandCalls(QueryCommand).map((call) => call.args[0].input.ExpressionAttributeValues?.[':pk']),
    );
    expect([...pks].sort()).toEqual([`${QUIZ.quizId}#0`, `${QUIZ.quizId}#1`]);
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

describe('when deleting a gone connection fails', () => {
  it('still finishes the broadcast and reports it as gone', async () => {
    ddbMock.on(BatchWriteCommand).rejects(new Error('simulated DynamoDB outage'));

    const report = await run(resultJob());

    expect(report).toStrictEqual({ connections: 7, delivered: 7, gone: 2, failed: 1 });
    expect(framesTo(mgmtMock, 'legacy')).toHaveLength(2);
  });
});

describe('when many connections are gone', () => {
  const goneIds = Array.from({ length: 60 }, (_, i) => `gone-many-${i}`);

  beforeEach(() => {
    givenConnections([
      goneIds.slice(0, 30).map((id) => connection(id)),
      goneIds.slice(30).map((id) => connection(id)),
    ]);
    for (const id of goneIds)
      mgmtMock.on(PostToConnectionCommand, { ConnectionId: id }).rejects(goneException());
  });

  it('deletes every one of them, at most 25 to a batch write', async () => {
    const report = await run(resultJob());

    const batches = ddbMock.commandCalls(BatchWriteCommand).map((call) => call.args[0].input);
    expect(batches.map((batch) => batch.RequestItems?.[CONNECTIONS_TABLE]?.length)).toEqual([25, 25, 10]);
    expect(deletedIds(batches).sort()).toEqual([...goneIds].sort());
    expect(report).toStrictEqual({ connections: 60, delivered: 0, gone: 60, failed: 0 });
  });

  it('retries the items DynamoDB leaves unprocessed until every one is deleted', async () => {
    let first = true;
    ddbMock.on(BatchWriteCommand).callsFake((input: BatchWriteCommandInput) => {
      const requests = input.RequestItems?.[CONNECTIONS_TABLE] ?? [];
      // The first call has only its first 5 requests processed, as under throttling.
      if (!first || requests.length <= 5) return {};
      first = false;
      return { UnprocessedItems: { [CONNECTIONS_TABLE]: requests.slice(5) } };
    });

    await run(resultJob());

    const batches = ddbMock.commandCalls(BatchWriteCommand).map((call) => call.args[0].input);
    // The retry of the 20 left waits a moment, so the other batches may go first.
    const sizes = batches.map((batch) => batch.RequestItems?.[CONNECTIONS_TABLE]?.length ?? 0);
    expect(sizes.sort((a, b) => a - b)).toEqual([10, 20, 25, 25]);
    expect(new Set(deletedIds(batches))).toEqual(new Set(goneIds));
  });

  it('gives up on items still unprocessed after 3 retries, and still completes', async () => {
    ddbMock
      .on(BatchWriteCommand)
      .callsFake((input: BatchWriteCommandInput) => ({ UnprocessedItems: input.RequestItems }));

    const report = await run(resultJob());

    // 3 batches, each tried once and retried 3 times.
    expect(ddbMock.commandCalls(BatchWriteCommand)).toHaveLength(12);
    expect(report).toStrictEqual({ connections: 60, delivered: 0, gone: 60, failed: 0 });
  });
});

describe('when a message source fails mid-broadcast', () => {
  it('starts no more posts, and fails only once the posts in flight have finished and the gone are deleted', async () => {
    const grades = new Error('grades failed');
    let answered = 0;
    mgmtMock.on(PostToConnectionCommand).callsFake(async () => {
      await new Promise((resolve) => setTimeout(resolve, 5));
      answered++;
      return {};
    });
    mgmtMock.on(PostToConnectionCommand, { ConnectionId: 'gone-1' }).callsFake(async () => {
      await new Promise((resolve) => setTimeout(resolve, 5));
      answered++;
      throw goneException();
    });
    const others = Array.from({ length: 40 }, (_, i) => connection(`conn-${i}`));
    givenConnections([[connection('bob'), connection('gone-1'), ...others.slice(0, 10)], others.slice(10)]);
    const broadcast = fanOut(
      new ConnectionStore(CONNECTIONS_TABLE),
      new ConnectionPoster(new ApiGatewayManagementApiClient({ region: 'us-east-1' })),
      ({ connectionId }) =>
        connectionId === 'bob' ? [{ type: 'x' }, Promise.reject(grades)] : [{ type: 'x' }],
      { concurrency: CONCURRENCY },
    );

    await expect(broadcast).rejects.toBe(grades);
    const posted = sentFrames(mgmtMock).map((sent) => sent.connectionId);
    // The first burst was in flight when bob's second message failed: it finished, and little
    // or nothing was started after it.
    expect(posted).toEqual(expect.arrayContaining(['bob', 'gone-1']));
    expect(posted.length).toBeGreaterThanOrEqual(CONCURRENCY);
    expect(posted.length).toBeLessThan(2 * CONCURRENCY);
    expect(answered).toBe(posted.length);
    const deleted = ddbMock
      .commandCalls(BatchWriteCommand)
      .flatMap((call) => call.args[0].input.RequestItems?.[CONNECTIONS_TABLE] ?? [])
      .map((request) => request.DeleteRequest?.Key?.connectionId);
    expect(deleted).toEqual(['gone-1']);
  });
});

describe('when there are many connections', () => {
  const many = Array.from({ length: 50 }, (_, i) => connection(`conn-${String(i).padStart(2, '0')}`));

  it(`keeps at most ${CONCURRENCY} posts in flight, and more than one`, async () => {
    givenConnections([many.slice(0, 20), many.slice(20)]);
    let inFlight = 0;
    let maxInFlight = 0;
    mgmtMock.reset();
    mgmtMock.on(PostToConnectionCommand).callsFake(async (_input: PostToConnectionCommandInput) => {
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      await new Promise((resolve) => setTimeout(resolve, 5));
      inFlight--;
      return {};
    });

    const report = await run({ kind: 'stream', state: 'live', segment: 0, totalSegments: 1 });

    expect(maxInFlight).toBeLessThanOrEqual(CONCURRENCY);
    expect(maxInFlight).toBeGreaterThan(1);
    expect(report).toStrictEqual({ connections: 50, delivered: 50, gone: 0, failed: 0 });
    const reached = sentFrames(mgmtMock).map((sent) => sent.connectionId);
    expect(reached.sort()).toEqual(many.map((item) => item.connectionId));
  });

  it(`refills in bursts: no new post until half of the ${CONCURRENCY} in flight are answered, then ${CONCURRENCY / 2} at once`, async () => {
    givenConnections([many]);
    const pending: Array<() => void> = [];
    mgmtMock.reset();
    mgmtMock
      .on(PostToConnectionCommand)
      .callsFake(() => new Promise((resolve) => pending.push(() => resolve({}))));
    const started = () => mgmtMock.commandCalls(PostToConnectionCommand).length;
    const settle = async () => {
      for (let i = 0; i < 20; i++) await new Promise((resolve) => setImmediate(resolve));
    };
    const answer = async (count: number) => {
      for (const reply of pending.splice(0, count)) reply();
      await settle();
    };

    const broadcast = run({ kind: 'stream', state: 'live', segment: 0, totalSegments: 1 });
    await settle();
    expect(started()).toBe(CONCURRENCY);

    // One short of half answered: the room is not refilled yet.
    await answer(CONCURRENCY / 2 - 1);
    expect(started()).toBe(CONCURRENCY);

    // Half answered: the room is filled back up to the full count in one go.
    await answer(1);
    expect(started()).toBe(CONCURRENCY + CONCURRENCY / 2);
    expect(pending).toHaveLength(CONCURRENCY);

    while (pending.length > 0) await answer(pending.length);
    await expect(broadcast).resolves.toStrictEqual({ connections: 50, delivered: 50, gone: 0, failed: 0 });
  });

  it('posts each message exactly once per connection', async () => {
    givenConnections([many]);

    await run(resultJob());

    const perConnection = new Map<string, number>();
    for (const call of mgmtMock.commandCalls(PostToConnectionCommand)) {
      const id = String(call.args[0].input.ConnectionId);
      perConnection.set(id, (perConnection.get(id) ?? 0) + 1);
      expect(decodeData(call.args[0].input.Data)).toStrictEqual(RESULT_FRAME);
    }
    expect(perConnection.size).toBe(50);
    expect([...perConnection.values()].every((count) => count === 1)).toBe(true);
  });
});

describe('when a 500 from the @connections API passes', () => {
  it('posts again and delivers', async () => {
    mgmtMock
      .on(PostToConnectionCommand, { ConnectionId: 'carol' })
      .rejectsOnce(
        Object.assign(new Error('blip'), {
          name: 'InternalServerErrorException',
          $metadata: { httpStatusCode: 500 },
        }),
      )
      .resolves({});

    const report = await run(resultJob());

    expect(mgmtMock.commandCalls(PostToConnectionCommand, { ConnectionId: 'carol' })).toHaveLength(2);
    // Both attempts carried the result; the second one went through, so carol counts as delivered.
    expect(framesTo(mgmtMock, 'carol')).toStrictEqual([RESULT_FRAME, RESULT_FRAME]);
    expect(report).toStrictEqual({ connections: 7, delivered: 7, gone: 2, failed: 1 });
  });

  it('does not post again after a client error such as 403', async () => {
    mgmtMock
      .on(PostToConnectionCommand, { ConnectionId: 'carol' })
      .rejects(new ForbiddenException({ message: 'no', $metadata: { httpStatusCode: 403 } }));

    const report = await run(resultJob());

    expect(mgmtMock.commandCalls(PostToConnectionCommand, { ConnectionId: 'carol' })).toHaveLength(1);
    expect(report.failed).toBe(2);
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
