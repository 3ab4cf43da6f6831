import type { LocalRuntime } from '../../local/runtime';
import { bootTestRuntime, callApi, Viewer } from '../local/harness';

/**
 * R2 load: 2,000 viewers answer one quiz inside a 10-second window. The tally must equal the
 * accepted answers: 0 lost, 0 double-counted, per choice.
 */
let runtime: LocalRuntime;
const viewers: Viewer[] = [];

beforeAll(async () => {
  runtime = await bootTestRuntime({ webDir: null });
}, 120_000);

afterAll(async () => {
  await Promise.all(viewers.map((v) => v.close()));
  await runtime?.stop();
});

describe('when 2,000 viewers answer within 10 seconds', () => {
  it('counts every accepted answer exactly once', async () => {
    const created = await callApi(runtime.config, 'POST', '/quizzes', {
      question: 'Load?',
      choices: ['a', 'b', 'c', 'd'],
      correctIndex: 2,
      durationSeconds: 300,
    });
    expect(created.status).toBe(201);
    const quizId = created.body.quizId as string;

    for (let i = 0; i < 2000; i += 100) {
      viewers.push(
        ...(await Promise.all(
          Array.from({ length: 100 }, () => Viewer.connect(runtime.config.webSocketUrl)),
        )),
      );
    }
    // Spread the 2,000 answers evenly over a 10-second window.
    const started = Date.now();
    const replies = await Promise.all(
      viewers.map(async (viewer, i) => {
        await new Promise((resolve) => setTimeout(resolve, (i * 10_000) / viewers.length));
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
      accepted: 2000,
      refused: [],
    });

    const revealed = await callApi(runtime.config, 'POST', `/quizzes/${quizId}/reveal?force=true`);
    expect(revealed.status).toBe(200);
    const expected = [0, 1, 2, 3].map((choice) => accepted.filter((r) => r.choiceIndex === choice).length);
    expect(revealed.body.counts).toEqual(expected);
    expect(revealed.body.total).toBe(accepted.length);
    // The answers really were offered inside the window (plus the time to process the last ones).
    expect(sendWindowMs).toBeGreaterThanOrEqual(10_000);
    console.log(
      `R2: 2,000 answers offered over 10 s, all answered in ${sendWindowMs} ms; tally ${JSON.stringify(revealed.body.counts)}`,
    );
  }, 180_000);
});
