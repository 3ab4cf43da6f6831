import type { LocalRuntime } from '../../local/runtime';
import { bootTestRuntime, callApiPatiently, sleep, Viewer } from '../local/harness';

/**
 * The reveal fence: with 500 viewers (RACE_VIEWERS) answering around the reveal, an answer acknowledged
 * `accepted` is counted in the revealed result and graded, and one that is not counted is refused
 * (QUIZ_CLOSED or TRY_AGAIN). Never both. Checked per choice for a reveal exactly at `closesAt`, a
 * reveal mid-quiz, and a reveal while DynamoDB throttles the tally.
 */
/** 500 in `npm test`; `RACE_VIEWERS=1000 npx jest test/reliability/reveal-race.test.ts` for more. */
const VIEWERS = Number(process.env.RACE_VIEWERS ?? 300);
const CHOICES = 4;
const DURATION_S = 6;
/** Answers are spread over this long before `closesAt`. */
const SPREAD_MS = 2500;

let runtime: LocalRuntime;
let viewers: Viewer[] = [];
let tallyTable = '';
let fanOutFunction = '';
let answerFunction = '';

beforeAll(async () => {
  runtime = await bootTestRuntime({ webDir: null });
  tallyTable = runtime.dynamoDb.tableNames().find((name) => name.includes('DataTally')) ?? '';
  fanOutFunction =
    runtime.host.all().find((f) => f.logicalId.startsWith('RealtimeApiFanOut'))?.logicalId ?? '';
  answerFunction =
    runtime.host.all().find((f) => f.logicalId.startsWith('RealtimeApiAnswer'))?.logicalId ?? '';
  for (let i = 0; i < VIEWERS; i += 100) {
    viewers.push(
      ...(await Promise.all(Array.from({ length: 100 }, () => Viewer.connect(runtime.config.webSocketUrl)))),
    );
  }
  // A warm-up round: a cold answer function would queue the timed answers past the reveal, and
  // nothing would race.
  const warmUp = await callApiPatiently(runtime.config, 'POST', '/quizzes', {
    question: 'Warm?',
    choices: ['a', 'b'],
    correctIndex: 0,
    durationSeconds: 60,
  });
  await Promise.all(
    viewers.map((viewer) =>
      viewer.request(
        { action: 'answer', quizId: warmUp.body.quizId, choiceIndex: 0 },
        ['answer', 'error'],
        40_000,
      ),
    ),
  );
}, 120_000);

afterEach(() => runtime.dynamoDb.faults.clear());

afterAll(async () => {
  await Promise.all(viewers.map((v) => v.close()));
  viewers = [];
  await runtime?.stop();
});

interface Round {
  readonly quizId: string;
  readonly replies: ReadonlyArray<{ type: string; status?: string; code?: string; choiceIndex?: number }>;
  readonly reveal: { counts: number[]; total: number };
  /**
   * Answer invocations of this round that ran past their 10 s timeout. AWS would have killed
   * them before they undid a refused answer's record; the local worker lets them finish late,
   * so their viewers may be graded. The grades then prove nothing, and the round is run again.
   */
  readonly overloaded: number;
}

/** Answer invocations that timed out so far. */
const answerTimeouts = () =>
  runtime.host.outcomes(answerFunction).filter((o) => o.error?.name === 'TimeoutError').length;

/**
 * Opens a quiz, has every viewer answer once at a moment spread over the `SPREAD_MS` before
 * `closesAt` (viewer i picks i % 4), and reveals `revealAtMs` after the quiz opened.
 */
async function race(revealAtMs: number): Promise<Round> {
  const timeoutsBefore = answerTimeouts();
  const created = await callApiPatiently(runtime.config, 'POST', '/quizzes', {
    question: 'Race?',
    choices: ['a', 'b', 'c', 'd'],
    correctIndex: 1,
    durationSeconds: DURATION_S,
  });
  expect(created.status).toBe(201);
  const { quizId, opensAt, closesAt } = created.body as { quizId: string; opensAt: string; closesAt: string };
  const firstAt = Date.parse(closesAt) - SPREAD_MS;

  const replies = Promise.all(
    viewers.map(async (viewer, i) => {
      await sleep(Math.max(0, firstAt + (i * SPREAD_MS) / VIEWERS - Date.now()));
      return viewer.request(
        { action: 'answer', quizId, choiceIndex: i % CHOICES },
        ['answer', 'error'],
        40_000,
      );
    }),
  );
  await sleep(Math.max(0, Date.parse(opensAt) + revealAtMs - Date.now()));
  const revealed = await callApiPatiently(runtime.config, 'POST', `/quizzes/${quizId}/reveal?force=true`);
  expect(revealed.status).toBe(200);
  const answered = await replies;
  return { quizId, replies: answered, reveal: revealed.body, overloaded: answerTimeouts() - timeoutsBefore };
}

/** Waits until every fan-out of the quiz's result has finished, so every `graded` was posted. */
async function gradedBy(quizId: string, expectedGraded: number): Promise<number[]> {
  const graded = () =>
    viewers.flatMap((v) => v.frames.filter((f) => f.type === 'graded' && f.quizId === quizId));
  const results = () =>
    viewers.filter((v) => v.frames.some((f) => f.type === 'result' && f.quizId === quizId)).length;
  // Until every frame is in, or the fan-out has gone quiet (none running, nothing new for 2 s):
  // a slow machine then waits longer, and a lost frame still fails below.
  const deadline = Date.now() + 60_000;
  let seen = -1;
  let changedAt = Date.now();
  while (Date.now() < deadline) {
    const count = graded().length + results();
    if (count !== seen) [seen, changedAt] = [count, Date.now()];
    if (results() === VIEWERS && graded().length >= expectedGraded) break;
    if (runtime.host.running(fanOutFunction) === 0 && Date.now() - changedAt > 2000) break;
    await sleep(100);
  }
  // Every frame may be in while the segments still write their done marks: let them finish. A
  // `graded` for a refused answer would come from the same fan-out: give it a moment to show.
  while (runtime.host.running(fanOutFunction) > 0 && Date.now() < deadline + 30_000) await sleep(100);
  await sleep(500);
  const outcomes = runtime.host.outcomes(fanOutFunction);
  expect({
    results: results(),
    fanOutsRunning: runtime.host.running(fanOutFunction),
    fanOutsFailed: outcomes.filter((o) => !o.ok).map((o) => o.error?.message),
  }).toEqual({ results: VIEWERS, fanOutsRunning: 0, fanOutsFailed: [] });
  const perChoice = Array.from({ length: CHOICES }, () => 0);
  for (const frame of graded()) perChoice[frame.choiceIndex]++;
  return perChoice;
}

/** accepted = result = graded, per choice; everything else was refused with a documented code. */
async function expectFenceHeld(round: Round) {
  const accepted = Array.from({ length: CHOICES }, () => 0);
  const refusals: Record<string, number> = {};
  for (const reply of round.replies) {
    if (reply.type === 'answer' && reply.status === 'accepted') accepted[reply.choiceIndex ?? -1]++;
    else refusals[reply.code ?? 'none'] = (refusals[reply.code ?? 'none'] ?? 0) + 1;
  }
  const total = accepted.reduce((a, b) => a + b, 0);
  expect(Object.keys(refusals).filter((code) => code !== 'QUIZ_CLOSED' && code !== 'TRY_AGAIN')).toEqual([]);
  expect(round.reveal.counts).toEqual(accepted);
  expect(round.reveal.total).toBe(total);
  if (round.overloaded > 0) {
    console.log(`${round.overloaded} answer invocations outlived their timeout: grades not checked`);
    return { accepted: total, refusals, overloaded: round.overloaded };
  }
  expect(await gradedBy(round.quizId, total)).toEqual(accepted);
  return { accepted: total, refusals, overloaded: 0 };
}

/**
 * Rounds at `revealAtMs` until one was a real race (answers both accepted and refused) that the
 * machine ran as AWS would (no answer past its timeout), at most three: the fence must hold in
 * every round, but on a loaded machine the answers of one round
 * may all land after the reveal, which proves nothing about the race.
 */
async function realRace(revealAtMs: number): Promise<Awaited<ReturnType<typeof expectFenceHeld>>> {
  let outcome = await expectFenceHeld(await race(revealAtMs));
  const valid = () => outcome.accepted > 0 && outcome.refusals.QUIZ_CLOSED > 0 && outcome.overloaded === 0;
  for (let again = 1; again < 3 && !valid(); again++) {
    console.log(`not a race, or overloaded (${JSON.stringify(outcome)}): another round`);
    outcome = await expectFenceHeld(await race(revealAtMs));
  }
  // Three overloaded rounds in a row: the machine cannot run this test as AWS would.
  expect(outcome.overloaded).toBe(0);
  return outcome;
}

describe(`when ${VIEWERS} viewers answer around the reveal`, () => {
  it('counts and grades exactly the accepted answers when the reveal comes exactly at closesAt', async () => {
    const outcome = await realRace(DURATION_S * 1000);
    // The race is real: answers were still arriving when the result was fixed.
    expect(outcome.accepted).toBeGreaterThan(0);
    console.log(`reveal at closesAt: ${JSON.stringify(outcome)}`);
  }, 150_000);

  it('counts and grades exactly the accepted answers when the reveal comes mid-quiz', async () => {
    const outcome = await realRace(DURATION_S * 1000 - SPREAD_MS / 2);
    expect(outcome.accepted).toBeGreaterThan(0);
    expect(outcome.refusals.QUIZ_CLOSED).toBeGreaterThan(0);
    console.log(`reveal mid-quiz: ${JSON.stringify(outcome)}`);
  }, 150_000);

  it('counts and grades exactly the accepted answers while DynamoDB throttles the tally', async () => {
    let seen = 0;
    const throttle = runtime.dynamoDb.faults.inject({
      // Every third count on the tally table is refused for throttling, so retries meet the reveal.
      match: (request) =>
        request.operation === 'UpdateItem' && request.tables.includes(tallyTable) && seen++ % 3 === 0,
      action: 'ProvisionedThroughputExceededException',
    });
    let outcome = await expectFenceHeld(await race(DURATION_S * 1000));
    for (let again = 1; again < 3 && outcome.overloaded > 0; again++)
      outcome = await expectFenceHeld(await race(DURATION_S * 1000));
    expect(outcome.overloaded).toBe(0);
    expect(throttle.hits).toBeGreaterThan(0);
    console.log(`reveal under throttling (${throttle.hits} throttled): ${JSON.stringify(outcome)}`);
  }, 60_000);
});
