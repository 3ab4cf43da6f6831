import type { LocalRuntime } from '../../local/runtime';
import { bootTestRuntime, callApiPatiently, sleep, Viewer } from '../local/harness';
import { RecentLines, waitUntil } from '../support/wait';

/**
 * The reveal fence: with viewers answering around the reveal, an answer acknowledged `accepted` is
 * counted in the revealed result and graded, and one that is not counted is refused (QUIZ_CLOSED
 * or TRY_AGAIN). Never both. Checked per choice for a reveal exactly at `closesAt`, a reveal
 * mid-quiz, and a reveal while DynamoDB throttles the tally.
 *
 * Every round checks the grades too: an answer invocation that passes its timeout has its
 * container killed by the local Lambda host, as on AWS, so a refused answer can never be graded
 * late (docs/reliability.md, "Reveal race").
 */
/**
 * 100 in `npm test`, which proves the property; `RACE_VIEWERS=1000 npx jest
 * test/reliability/reveal-race.test.ts` runs it at full size (docs/reliability.md).
 */
const VIEWERS = Number(process.env.RACE_VIEWERS ?? 100);
const CHOICES = 4;
const DURATION_S = 5;
/** Answers are spread over this long before `closesAt`. */
const SPREAD_MS = 2500;
/** …and the last ones this long after it, so some are always in flight when the reveal comes at `closesAt`. */
const OVERRUN_MS = 250;

let runtime: LocalRuntime;
let viewers: Viewer[] = [];
/** The reveal function's log lines and failed invocations: 100 answers would crowd them out of the recent log. */
const revealLog = new RecentLines(40);
let tallyTable = '';
let fanOutFunction = '';
let answerFunction = '';

beforeAll(async () => {
  runtime = await bootTestRuntime({
    webDir: null,
    log: (line) => {
      if (/RevealQuiz|reveal|Task timed out/.test(line)) revealLog.push(line);
    },
  });
  tallyTable = runtime.dynamoDb.tableNames().find((name) => name.includes('DataTally')) ?? '';
  fanOutFunction =
    runtime.host.all().find((f) => f.logicalId.startsWith('RealtimeApiFanOut'))?.logicalId ?? '';
  answerFunction =
    runtime.host.all().find((f) => f.logicalId.startsWith('RealtimeApiAnswer'))?.logicalId ?? '';
  for (let i = 0; i < VIEWERS; i += 100) {
    const batch = Math.min(100, VIEWERS - i);
    viewers.push(
      ...(await Promise.all(
        Array.from({ length: batch }, () => Viewer.connect(runtime.config.webSocketUrl)),
      )),
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
  /** Answer invocations of this round that passed their timeout (and had their container killed). */
  readonly timedOut: number;
}

/** Answer invocations that timed out so far. */
const answerTimeouts = () =>
  runtime.host.outcomes(answerFunction).filter((o) => o.error?.name === 'TimeoutError').length;

/**
 * Opens a quiz, has every viewer answer once at a moment spread from `SPREAD_MS` before
 * `closesAt` to `OVERRUN_MS` after it (viewer i picks i % 4), and reveals `revealAtMs` after the
 * quiz opened.
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
      // The subject under test: each answer is sent at its own moment around the reveal.
      await sleep(Math.max(0, firstAt + (i * (SPREAD_MS + OVERRUN_MS)) / VIEWERS - Date.now()));
      return viewer.request(
        { action: 'answer', quizId, choiceIndex: i % CHOICES },
        ['answer', 'error'],
        40_000,
      );
    }),
  );
  // The subject under test: the reveal goes out at its moment, whatever the answers are doing.
  await sleep(Math.max(0, Date.parse(opensAt) + revealAtMs - Date.now()));
  const revealed = await callApiPatiently(runtime.config, 'POST', `/quizzes/${quizId}/reveal?force=true`);
  if (revealed.status !== 200)
    throw new Error(
      `the reveal answered ${revealed.status} ${JSON.stringify(revealed.body)}; the reveal's log:\n${revealLog}`,
    );
  expect(revealed.status).toBe(200);
  const answered = await replies;
  return { quizId, replies: answered, reveal: revealed.body, timedOut: answerTimeouts() - timeoutsBefore };
}

/** Resolves once every frame the server sent this viewer before now has arrived (a WebSocket ping's pong follows them). */
const flushed = (viewer: Viewer) =>
  new Promise<void>((resolve) => {
    viewer.socket.once('pong', () => resolve());
    viewer.socket.ping();
  });

/** Waits until every fan-out of the quiz's result has finished, so every `graded` was posted. */
async function gradedBy(quizId: string, expectedGraded: number): Promise<number[]> {
  const graded = () =>
    viewers.flatMap((v) => v.frames.filter((f) => f.type === 'graded' && f.quizId === quizId));
  const results = () =>
    viewers.filter((v) => v.frames.some((f) => f.type === 'result' && f.quizId === quizId)).length;
  const seen = () => ({
    results: results(),
    graded: graded().length,
    expectedGraded,
    fanOutsRunning: runtime.host.running(fanOutFunction),
  });
  // Every result posted, the counted viewers graded, and no segment still posting: after that,
  // a pong on each socket proves every frame posted before it has arrived, so a `graded` for a
  // refused answer would be counted below.
  await waitUntil(
    `every viewer's result and ${expectedGraded} grades, with the fan-out finished`,
    () =>
      results() === VIEWERS &&
      graded().length >= expectedGraded &&
      runtime.host.running(fanOutFunction) === 0,
    { timeoutMs: 60_000, describe: seen },
  );
  await Promise.all(viewers.map(flushed));
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
  expect(round.replies).toHaveLength(VIEWERS);
  expect(await gradedBy(round.quizId, total)).toEqual(accepted);
  // Viewer by viewer, not only per choice: graded once if and only if its answer was accepted.
  const wronglyGraded = viewers
    .map((viewer, i) => {
      const grades = viewer.frames.filter((f) => f.type === 'graded' && f.quizId === round.quizId).length;
      const reply = round.replies[i];
      return { i, grades, accepted: reply.type === 'answer' && reply.status === 'accepted' };
    })
    .filter(({ grades, accepted }) => grades !== (accepted ? 1 : 0));
  expect(wronglyGraded).toEqual([]);
  return { accepted: total, refusals, timedOut: round.timedOut };
}

/**
 * Rounds at `revealAtMs` until one was a real race (answers both accepted and refused), at most
 * three. The fence and the grades are checked in every round; only the premise may need another
 * round: on a loaded machine the answers of one round may all land after the reveal, which proves
 * nothing about the race.
 */
async function realRace(revealAtMs: number): Promise<Awaited<ReturnType<typeof expectFenceHeld>>> {
  let outcome = await expectFenceHeld(await race(revealAtMs));
  const isRace = () => outcome.accepted > 0 && (outcome.refusals.QUIZ_CLOSED ?? 0) > 0;
  for (let again = 1; again < 3 && !isRace(); again++) {
    console.log(`not a race (${JSON.stringify(outcome)}): another round`);
    outcome = await expectFenceHeld(await race(revealAtMs));
  }
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
    const outcome = await expectFenceHeld(await race(DURATION_S * 1000));
    expect(throttle.hits).toBeGreaterThan(0);
    console.log(`reveal under throttling (${throttle.hits} throttled): ${JSON.stringify(outcome)}`);
  }, 60_000);
});
