import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, PutCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { FAN_OUT_STALE_MS } from '../../lambda/domain/reveal';
import { shardOf } from '../../lambda/domain/tally';
import { POST_ROUNDS } from '../../lambda/services/connection-poster';
import { COUNT_ATTEMPTS } from '../../lambda/services/viewer-service';
import { shardKey } from '../../lambda/store/quiz-item';
import type { DynamoDbFault } from '../../local/dynamodb-faults';
import type { LocalRuntime } from '../../local/runtime';
import { bootTestRuntime, callApi, type HttpReply, setStream, sleep, Viewer } from '../local/harness';
import { RecentLines, waitUntil } from '../support/wait';

/**
 * R3 faults: each fault is injected into the local runtime's stand-ins (IVS, dynalite, the
 * @connections API, the Lambda host), and the product must either retry to success or report a
 * documented 4xx/429 with a message. No answer is lost, and no retried reveal sends its result
 * cue twice.
 */
let runtime: LocalRuntime;
/** The runtime's last log lines, for a timeout's message. */
const recent = new RecentLines();
let ddb: DynamoDBDocumentClient;
const tables = { quizzes: '', answers: '', tally: '', connections: '' };
const fn = { reveal: '', fanOut: '' };
let viewers: Viewer[] = [];

/** The SDK's default attempts for the @connections client (standard retry mode). */
const MANAGEMENT_SDK_ATTEMPTS = 3;

beforeAll(async () => {
  runtime = await bootTestRuntime({ webDir: null, log: recent.push });
  const { dynamoDbEndpoint: endpoint, region, credentials } = runtime.config;
  ddb = DynamoDBDocumentClient.from(new DynamoDBClient({ endpoint, region, credentials }));
  const table = (part: string) => runtime.dynamoDb.tableNames().find((name) => name.includes(part)) ?? '';
  Object.assign(tables, {
    quizzes: table('DataQuizzes'),
    answers: table('DataAnswers'),
    tally: table('DataTally'),
    connections: table('DataConnections'),
  });
  const lambda = (prefix: string) =>
    runtime.host.all().find((f) => f.logicalId.startsWith(prefix))?.logicalId ?? '';
  Object.assign(fn, { reveal: lambda('HostApiRevealQuiz'), fanOut: lambda('RealtimeApiFanOut') });
}, 120_000);

afterEach(async () => {
  runtime.ivs.faults.clear();
  runtime.ivs.releaseHanging();
  runtime.dynamoDb.faults.clear();
  runtime.webSocket.managementFaults.clear();
  await Promise.all(viewers.map((v) => v.close()));
  viewers = [];
  // Each test starts with no connection records and no fan-out still running, so fan-out
  // reports count only its own reveal and viewers.
  await until(async () => (await connectionIds()).size === 0, 'every $disconnect');
  await until(() => runtime.host.running(fn.fanOut) === 0, 'every fan-out to finish', 30_000);
});

afterAll(async () => {
  ddb?.destroy();
  await runtime?.stop();
});

// ---- helpers -------------------------------------------------------------------------------

let lastCueAttempt = 0;
/**
 * Calls a route that may take a slot of the 5-per-second rate guard (1.15 s window). Spacing
 * such calls 350 ms apart keeps the guard from ever refusing one, so every 429 seen here comes
 * from the injected fault.
 */
async function cueCall(method: string, route: string, body?: unknown): Promise<HttpReply> {
  const wait = lastCueAttempt + 350 - Date.now();
  // The pacing the rate guard's documented window asks of a host (docs/protocol.md).
  if (wait > 0) await sleep(wait);
  lastCueAttempt = Date.now();
  return callApi(runtime.config, method, route, body);
}

const api = (method: string, route: string, body?: unknown) => callApi(runtime.config, method, route, body);

const cues = () => runtime.ivs.metadata().map((cue) => JSON.parse(cue.metadata));
const resultCues = (quizId: string) => cues().filter((c) => c.type === 'result' && c.quizId === quizId);

async function openQuiz(choices = ['a', 'b', 'c']): Promise<string> {
  const created = await cueCall('POST', '/quizzes', {
    question: 'Faults?',
    choices,
    correctIndex: 1,
    durationSeconds: 300,
  });
  expect(created.status).toBe(201);
  return created.body.quizId;
}

/** An open 3-choice quiz that `size` connected viewers have answered (viewer i picks i % 3). */
async function answeredQuiz(size: number): Promise<{ quizId: string; crowd: Viewer[] }> {
  const quizId = await openQuiz();
  const crowd = await connect(size);
  for (const [i, viewer] of crowd.entries())
    expect(await answer(viewer, quizId, i % 3)).toMatchObject({ status: 'accepted' });
  return { quizId, crowd };
}

const viewerConnection = new Map<Viewer, string>();
/** A viewer's connection id, as the server knows it (learnt from the record its $connect wrote). */
const idOf = (viewer: Viewer): string => viewerConnection.get(viewer) ?? '';

async function connectionIds(): Promise<Set<string>> {
  const { Items = [] } = await ddb.send(
    new ScanCommand({ TableName: tables.connections, ConsistentRead: true }),
  );
  return new Set(Items.map((item) => String(item.connectionId)));
}

/** Opens viewers one at a time, so each new connection record tells whose it is. */
async function connect(count: number): Promise<Viewer[]> {
  const opened: Viewer[] = [];
  for (let i = 0; i < count; i++) {
    const before = await connectionIds();
    const viewer = await Viewer.connect(runtime.config.webSocketUrl);
    viewers.push(viewer);
    opened.push(viewer);
    const added = [...(await connectionIds())].filter((id) => !before.has(id));
    expect(added).toHaveLength(1);
    viewerConnection.set(viewer, added[0]);
  }
  return opened;
}

const answer = (viewer: Viewer, quizId: string, choiceIndex: number) =>
  viewer.request({ action: 'answer', quizId, choiceIndex }, ['answer', 'error'], 30_000);

/** Arms a DynamoDB fault on one operation of one table. */
const throttle = (
  operation: string,
  table: string,
  times?: number,
  error: DynamoDbFault = 'ProvisionedThroughputExceededException',
) =>
  runtime.dynamoDb.faults.inject({
    match: (request) => request.operation === operation && request.tables.includes(table),
    times,
    action: error,
  });

const fanOutOutcomes = () => runtime.host.outcomes(fn.fanOut);

/** Waits for a condition with a deadline; a timeout names it and the runtime's recent log. */
const until = (condition: () => boolean | Promise<boolean>, what: string, timeoutMs = 15_000) =>
  waitUntil(what, condition, { timeoutMs, describe: () => recent.toString() });

const frames = (viewer: Viewer, type: string, quizId: string) =>
  viewer.frames.filter((f) => f.type === type && f.quizId === quizId);

// ---- IVS -----------------------------------------------------------------------------------

describe('when IVS throttles PutMetadata', () => {
  it('answers 429 with Retry-After and stores nothing; the retry opens the quiz with one cue', async () => {
    const before = cues().length;
    const fault = runtime.ivs.faults.inject({ action: 'throttle', times: 1 });

    const refused = await cueCall('POST', '/quizzes', {
      question: 'Throttled?',
      choices: ['a', 'b'],
      correctIndex: 0,
    });

    expect(fault.hits).toBe(1);
    expect(refused.status).toBe(429);
    expect(refused.body.error).toEqual({
      code: 'RATE_LIMITED',
      message: expect.stringMatching(/IVS is throttling/),
    });
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(cues()).toHaveLength(before);
    const state = await api('GET', '/state');
    expect(state.status).toBe(200);
    expect(state.body.quiz?.question).not.toBe('Throttled?');

    // A client waits out Retry-After, as docs/protocol.md asks.
    await sleep(Number(refused.headers.get('retry-after')) * 1000);
    const retried = await cueCall('POST', '/quizzes', {
      question: 'Throttled?',
      choices: ['a', 'b'],
      correctIndex: 0,
    });
    expect(retried.status).toBe(201);
    expect(cues().slice(before)).toEqual([
      expect.objectContaining({ type: 'question', quizId: retried.body.quizId }),
    ]);
  });

  it('answers a throttled reveal 429, keeps nothing claimed, and the retry sends the result cue once', async () => {
    const quizId = await openQuiz();
    const [viewer] = await connect(1);
    expect(await answer(viewer, quizId, 2)).toMatchObject({ status: 'accepted' });
    runtime.ivs.faults.inject({ action: 'throttle', times: 1 });

    const refused = await cueCall('POST', `/quizzes/${quizId}/reveal?force=true`);

    expect(refused.status).toBe(429);
    expect(refused.body.error.code).toBe('RATE_LIMITED');
    expect(resultCues(quizId)).toHaveLength(0);
    // The claim was released: not revealed. The reveal's seal stays, so answering is over.
    expect((await api('GET', `/quizzes/${quizId}`)).body.state).toBe('closed');
    const [late] = await connect(1);
    expect(await answer(late, quizId, 0)).toMatchObject({ type: 'error', code: 'QUIZ_CLOSED' });

    // A client waits out Retry-After, as docs/protocol.md asks.
    await sleep(Number(refused.headers.get('retry-after')) * 1000);
    const retried = await cueCall('POST', `/quizzes/${quizId}/reveal?force=true`);
    expect(retried.status).toBe(200);
    expect(retried.body).toEqual({ quizId, correctIndex: 1, counts: [0, 0, 1], total: 1, kind: 'quiz' });
    expect(resultCues(quizId)).toEqual([{ v: 1, type: 'result', ...retried.body }]);
    await viewer.waitFor((f) => f.type === 'result' && f.quizId === quizId);
  });
});

describe('when the stream goes offline', () => {
  it('refuses to open or reveal with 409, stores nothing as sent, and reveals once it is live again', async () => {
    const quizId = await openQuiz();
    const before = cues().length;

    expect((await setStream(runtime.config, 'offline')).status).toBe(200);
    const created = await cueCall('POST', '/quizzes', {
      question: 'Offline?',
      choices: ['a', 'b'],
      correctIndex: 0,
    });
    const revealed = await cueCall('POST', `/quizzes/${quizId}/reveal?force=true`);

    expect(created.status).toBe(409);
    expect(created.body.error.code).toBe('CHANNEL_NOT_BROADCASTING');
    expect(revealed.status).toBe(409);
    expect(revealed.body.error).toEqual({ code: 'CHANNEL_NOT_BROADCASTING', message: expect.any(String) });
    expect(cues()).toHaveLength(before);
    // Nothing revealed, but the reveal closed the quiz to answers before it met the offline channel.
    expect((await api('GET', `/quizzes/${quizId}`)).body.state).toBe('closed');

    // The stream drops between the rate guard and IVS: the same 409, the claim released.
    expect((await setStream(runtime.config, 'live')).status).toBe(200);
    const dropped = runtime.ivs.faults.inject({ action: 'offline', times: 1 });
    const droppedReveal = await cueCall('POST', `/quizzes/${quizId}/reveal?force=true`);
    expect(dropped.hits).toBe(1);
    expect(droppedReveal.status).toBe(409);
    expect((await api('GET', `/quizzes/${quizId}`)).body.state).toBe('closed');

    const live = await cueCall('POST', `/quizzes/${quizId}/reveal?force=true`);
    expect(live.status).toBe(200);
    expect(resultCues(quizId)).toHaveLength(1);
  });
});

// ---- DynamoDB ------------------------------------------------------------------------------

describe('when DynamoDB throttles the answer path', () => {
  it('loses no answer: short throttling is ridden out, longer throttling says TRY_AGAIN with nothing kept', async () => {
    const quizId = await openQuiz(['a', 'b', 'c', 'd']);
    const crowd = await connect(10);
    const accepted: number[] = [0, 0, 0, 0];
    const take = (reply: { type: string; status?: string; choiceIndex?: number }) => {
      if (reply.type === 'answer' && reply.status === 'accepted') accepted[reply.choiceIndex ?? -1]++;
      return reply;
    };

    // 1. Two throttled tally writes: the count's own tries (on the next shards) absorb them.
    const brief = throttle('UpdateItem', tables.tally, 2);
    expect(take(await answer(crowd[0], quizId, 0))).toMatchObject({ type: 'answer', status: 'accepted' });
    expect(brief.hits).toBe(2);

    // 2. The tally refuses every write: the answer is stored, cannot be counted, and is undone.
    const outage = throttle('UpdateItem', tables.tally);
    const refused = await Promise.all(crowd.slice(1, 5).map((viewer, i) => answer(viewer, quizId, i % 4)));
    for (const reply of refused) {
      expect(reply).toEqual({
        type: 'error',
        code: 'TRY_AGAIN',
        message: expect.stringMatching(/send it again/),
        quizId,
      });
    }
    // Each refused answer tried, and within its bound (COUNT_ATTEMPTS tries in COUNT_BUDGET_MS).
    expect(outage.hits).toBeGreaterThanOrEqual(4);
    expect(outage.hits).toBeLessThanOrEqual(4 * COUNT_ATTEMPTS);
    outage.clear();
    // Nothing of the refused answers is stored…
    for (const viewer of crowd.slice(1, 5)) {
      const connectionId = idOf(viewer);
      const { Item } = await ddb.send(
        new GetCommand({
          TableName: tables.answers,
          Key: { pk: shardKey(quizId, shardOf(connectionId, 32)), viewerId: connectionId },
        }),
      );
      expect(Item).toBeUndefined();
    }
    // …so the same viewers can send them again, and they count.
    for (const [i, viewer] of crowd.slice(1, 5).entries()) {
      expect(take(await answer(viewer, quizId, i % 4))).toMatchObject({
        status: 'accepted',
        choiceIndex: i % 4,
      });
    }

    // 3. The quiz cannot be read: TRY_AGAIN before anything is written.
    const unreadable = throttle('GetItem', tables.quizzes);
    expect(await answer(crowd[5], quizId, 3)).toMatchObject({ type: 'error', code: 'TRY_AGAIN', quizId });
    expect(unreadable.hits).toBeGreaterThanOrEqual(4);
    unreadable.clear();

    // The others answer normally; a repeat is still refused and not counted.
    for (const [i, viewer] of crowd.slice(5).entries())
      expect(take(await answer(viewer, quizId, (i + 1) % 4))).toMatchObject({
        type: 'answer',
        status: 'accepted',
      });
    expect(await answer(crowd[0], quizId, 3)).toMatchObject({ code: 'ALREADY_ANSWERED' });

    expect(accepted.reduce((a, b) => a + b)).toBe(10);
    const revealed = await cueCall('POST', `/quizzes/${quizId}/reveal?force=true`);
    expect(revealed.status).toBe(200);
    expect(revealed.body.counts).toEqual(accepted);
    expect(revealed.body.total).toBe(10);
  }, 60_000);
});

describe('when DynamoDB throttles the host path', () => {
  it('answers 429 RATE_LIMITED with Retry-After, claims and sends nothing, and the retry reveals once', async () => {
    const quizId = await openQuiz();
    const claims = throttle('UpdateItem', tables.quizzes);

    const refused = await cueCall('POST', `/quizzes/${quizId}/reveal?force=true`);

    expect(claims.hits).toBeGreaterThanOrEqual(4);
    expect(refused.status).toBe(429);
    expect(refused.body.error).toEqual({
      code: 'RATE_LIMITED',
      message: expect.stringMatching(/throttling/),
    });
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(resultCues(quizId)).toHaveLength(0);
    claims.clear();
    expect((await api('GET', `/quizzes/${quizId}`)).body.state).toBe('open');

    const retried = await cueCall('POST', `/quizzes/${quizId}/reveal?force=true`);
    expect(retried.status).toBe(200);
    expect(resultCues(quizId)).toHaveLength(1);
  }, 30_000);
});

// ---- @connections --------------------------------------------------------------------------

describe('when the @connections API answers 410 and 500', () => {
  it('deletes gone records, retries 500s a bounded number of times, and reports what failed', async () => {
    const { quizId, crowd } = await answeredQuiz(6);
    const ids = crowd.map(idOf);
    // Two records whose sockets vanished without a $disconnect, as happens on AWS: a real 410.
    const stale = ['stale-record-1', 'stale-record-2'];
    for (const connectionId of stale)
      await ddb.send(
        new PutCommand({ TableName: tables.connections, Item: { connectionId, viewerId: connectionId } }),
      );
    const postTo = (i: number) => (request: { method: string; connectionId: string }) =>
      request.method === 'POST' && request.connectionId === ids[i];
    const faults = runtime.webSocket.managementFaults;
    const gone = [0, 1].map((i) => faults.inject({ match: postTo(i), action: { status: 410 } }));
    const blip = faults.inject({ match: postTo(2), times: 1, action: { status: 500 } });
    const broken = faults.inject({ match: postTo(3), action: { status: 500 } });
    const before = fanOutOutcomes().length;

    const revealed = await cueCall('POST', `/quizzes/${quizId}/reveal?force=true`);
    expect(revealed.status).toBe(200);
    await until(() => fanOutOutcomes().length >= before + 4, 'the four fan-out segments');

    const outcomes = fanOutOutcomes().slice(before);
    expect(outcomes.map((o) => o.ok)).toEqual([true, true, true, true]);
    const sum = (key: string) =>
      outcomes.reduce((n, o) => n + Number((o.result as Record<string, number>)[key]), 0);
    // gone: viewers 0 and 1 plus the two stale records. failed: viewer 3's result and grade.
    // delivered: a result and a grade each to viewers 2 (after one 500), 4 and 5.
    expect({ gone: sum('gone'), failed: sum('failed'), delivered: sum('delivered') }).toEqual({
      gone: 4,
      failed: 2,
      delivered: 6,
    });
    expect(gone.map((f) => f.hits)).toEqual([1, 1]);
    expect(blip.hits).toBe(1);
    // Bounded: 2 messages × POST_ROUNDS rounds × the SDK's attempts, then given up.
    expect(broken.hits).toBe(2 * POST_ROUNDS * MANAGEMENT_SDK_ATTEMPTS);

    const left = await connectionIds();
    for (const id of [ids[0], ids[1], ...stale]) expect(left.has(id)).toBe(false);
    for (const id of ids.slice(2)) expect(left.has(id)).toBe(true);
    for (const i of [2, 4, 5]) {
      expect(frames(crowd[i], 'result', quizId)).toHaveLength(1);
      expect(frames(crowd[i], 'graded', quizId)).toHaveLength(1);
    }
    for (const i of [0, 1, 3]) expect(frames(crowd[i], 'result', quizId)).toHaveLength(0);
  }, 30_000);
});

// ---- crashes -------------------------------------------------------------------------------

describe('when the fan-out crashes mid-way and the host reveals again', () => {
  it('dispatches only the unfinished segment again, once it went silent, and never resends the cue', async () => {
    const { quizId, crowd } = await answeredQuiz(8);
    const stuck = crowd[0];
    // The post to one viewer never returns, so its segment is still running when the worker dies.
    const hang = runtime.webSocket.managementFaults.inject({
      match: (r) => r.method === 'POST' && r.connectionId === idOf(stuck),
      action: 'hang',
    });
    const before = fanOutOutcomes().length;

    const first = await cueCall('POST', `/quizzes/${quizId}/reveal?force=true`);
    expect(first.status).toBe(200);
    await until(
      () => fanOutOutcomes().length === before + 3 && hang.hits === 1,
      'three segments and the hang',
    );
    for (const viewer of crowd.slice(1))
      await viewer.waitFor((f) => f.type === 'graded' && f.quizId === quizId);
    expect(await runtime.host.crash(fn.fanOut)).toBe(1);
    hang.clear();

    // Straight away, the segment's last heartbeat is fresh: a retry must not assume it crashed.
    const early = await cueCall('POST', `/quizzes/${quizId}/reveal?force=true`);
    expect(early.status).toBe(200);
    expect(early.body).toEqual(first.body);
    // The subject under test: nothing is dispatched while the heartbeat is fresh.
    await sleep(300);
    expect(fanOutOutcomes()).toHaveLength(before + 4); // 3 finished + 1 killed, nothing new

    // The subject under test: a segment counts as crashed only once its heartbeat is stale.
    await sleep(FAN_OUT_STALE_MS + 500);
    const retried = await cueCall('POST', `/quizzes/${quizId}/reveal?force=true`);
    expect(retried.status).toBe(200);
    expect(retried.body).toEqual(first.body);
    await stuck.waitFor((f) => f.type === 'graded' && f.quizId === quizId);
    await until(() => fanOutOutcomes().length === before + 5, 'the re-dispatched segment');

    const redone = fanOutOutcomes().slice(before + 4);
    expect(redone).toEqual([expect.objectContaining({ ok: true })]);
    const segmentSize = (redone[0].result as { connections: number }).connections;
    expect(resultCues(quizId)).toHaveLength(1);
    expect(frames(stuck, 'result', quizId)).toHaveLength(1);
    expect(frames(stuck, 'graded', quizId)).toEqual([
      { type: 'graded', quizId, choiceIndex: 0, correct: false },
    ]);
    // Only the stuck viewer's segment was sent again: its other members got a second copy.
    const resultFrames = crowd.reduce((n, v) => n + frames(v, 'result', quizId).length, 0);
    expect(resultFrames).toBe(crowd.length + segmentSize - 1);

    // Every segment is now recorded as finished, so no later reveal sends any of them again.
    const { Item } = await ddb.send(
      new GetCommand({ TableName: tables.quizzes, Key: { quizId }, ConsistentRead: true }),
    );
    expect(Object.keys(Item?.fanOut ?? {}).sort()).toEqual(['0', '1', '2', '3']);
    for (const mark of Object.values(Item?.fanOut ?? {}))
      expect(mark).toMatchObject({ doneAt: expect.any(String) });
    expect(Item?.cueSentAt).toEqual(expect.any(String));
  }, 40_000);
});

describe('when a reveal crashes before its cue went out and the host reveals again', () => {
  it('answers 429 while the claim may still be alive, then takes it over and sends the cue exactly once', async () => {
    const { quizId, crowd } = await answeredQuiz(3);
    runtime.ivs.faults.inject({ action: 'hang', times: 1 });

    const crashed = cueCall('POST', `/quizzes/${quizId}/reveal?force=true`);
    await until(() => runtime.ivs.hangingCalls === 1, 'the result cue to hang');
    expect(await runtime.host.crash(fn.reveal)).toBe(1);
    runtime.ivs.releaseHanging();
    // API Gateway answers a crashed integration itself; that 500 is the injected crash, not ours.
    expect((await crashed).status).toBe(500);
    expect(resultCues(quizId)).toHaveLength(0);
    const claimed = await ddb.send(new GetCommand({ TableName: tables.quizzes, Key: { quizId } }));
    expect(claimed.Item?.result).toBeDefined();
    expect(claimed.Item?.cueSentAt).toBeUndefined();

    const early = await cueCall('POST', `/quizzes/${quizId}/reveal?force=true`);
    expect(early.status).toBe(429);
    expect(early.body.error).toEqual({
      code: 'RATE_LIMITED',
      message: expect.stringMatching(/being revealed/),
    });
    const wait = Number(early.headers.get('retry-after'));
    expect(wait).toBeGreaterThanOrEqual(1);
    expect(resultCues(quizId)).toHaveLength(0);

    // A client waits out Retry-After, as docs/protocol.md asks.
    await sleep(wait * 1000);
    const retried = await cueCall('POST', `/quizzes/${quizId}/reveal?force=true`);
    expect(retried.status).toBe(200);
    expect(retried.body).toEqual({ quizId, correctIndex: 1, counts: [1, 1, 1], total: 3, kind: 'quiz' });
    expect(retried.body.counts).toEqual(claimed.Item?.result.counts);
    expect(resultCues(quizId)).toEqual([{ v: 1, type: 'result', ...retried.body }]);
    for (const viewer of crowd) await viewer.waitFor((f) => f.type === 'result' && f.quizId === quizId);

    const again = await cueCall('POST', `/quizzes/${quizId}/reveal?force=true`);
    expect(again.body).toEqual(retried.body);
    expect(resultCues(quizId)).toHaveLength(1);
  }, 40_000);
});
