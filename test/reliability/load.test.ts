import type { LocalRuntime } from '../../local/runtime';
import { bootTestRuntime, callApi, Viewer } from '../local/harness';

/**
 * R2 load: viewers answer one quiz inside a window, at R2's rate of 200 answers a second. The
 * tally must equal the accepted answers: 0 lost, 0 double-counted, per choice. `npm test` runs
 * 300 viewers over 1.5 s, which proves the property; `LOAD_VIEWERS=2000 LOAD_WINDOW_S=10 npx jest
 * test/reliability/load.test.ts` runs R2 at full size (docs/reliability.md).
 */
const VIEWERS = Number(process.env.LOAD_VIEWERS ?? 300);
const WINDOW_MS = Number(process.env.LOAD_WINDOW_S ?? 1.5) * 1000;
let runtime: LocalRuntime;
const viewers: Viewer[] = [];

beforeAll(async () => {
  runtime = await bootTestRuntime({ webDir: null });
}, 120_000);

afterAll(async () => {
  await Promise.all(viewers.map((v) => v.close()));
  await runtime?.stop();
});

describe(`when ${VIEWERS} viewers answer within ${WINDOW_MS / 1000} seconds`, () => {
  it('counts every accepted answer exactly once', async () => {
    const created = await callApi(runtime.config, 'POST', '/quizzes', {
      question: 'Load?',
      choices: ['a', 'b', 'c', 'd'],
      correctIndex: 2,
      durationSeconds: 300,
    });
    expect(created.status).toBe(201);
    const quizId = created.body.quizId as string;

    for (let i = 0; i < VIEWERS; i += 100) {
      viewers.push(
        ...(await Promise.all(
          Array.from({ length: Math.min(100, VIEWERS - i) }, () =>
            Viewer.connect(runtime.config.webSocketUrl),
          ),
        )),
      );
    }
    // Spread the answers evenly over the window. The subject under test: each answer is sent at its moment.
    const started = Date.now();
    const replies = await Promise.all(
      viewers.map(async (viewer, i) => {
        await new Promise((resolve) => setTimeout(resolve, (i * WINDOW_MS) / viewers.length));
        return viewer.request(
          { action: 'answer', quizId, choiceIndex: (i * 7) % 4 },
          ['answer', 'error'],
          90_000,
        );
      }),
    );
    const sendWindowMs = Date.now() - started;

    const accepted = replies.filter((r) => r.type === 'answer' && r.status === 'accepted');
    const refused = replies.filter((r) => r.type === 'error');
    expect({ accepted: accepted.length, refused: refused.map((r) => r.code) }).toEqual({
      accepted: VIEWERS,
      refused: [],
    });

    const revealed = await callApi(runtime.config, 'POST', `/quizzes/${quizId}/reveal?force=true`);
    expect(revealed.status).toBe(200);
    const expected = [0, 1, 2, 3].map((choice) => accepted.filter((r) => r.choiceIndex === choice).length);
    expect(revealed.body.counts).toEqual(expected);
    expect(revealed.body.total).toBe(accepted.length);
    // The answers really were offered inside the window (plus the time to process the last ones).
    expect(sendWindowMs).toBeGreaterThanOrEqual(WINDOW_MS * (1 - 1 / VIEWERS));
    console.log(
      `R2: ${VIEWERS} answers offered over ${WINDOW_MS / 1000} s, all answered in ${sendWindowMs} ms; tally ${JSON.stringify(revealed.body.counts)}`,
    );
  }, 180_000);
});
