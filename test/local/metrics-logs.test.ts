import { METRIC } from '../../lambda/metric-names';
import type { LocalRuntime } from '../../local/runtime';
import { bootTestRuntime, callApi, sleep, Viewer } from './harness';

/**
 * Locally, the functions' EMF lines show up in their logs as they would in CloudWatch Logs:
 * the custom metrics of a whole quiz (a connection, a cue, an answer, a reveal's fan-out).
 */
let runtime: LocalRuntime;
const lines: string[] = [];

beforeAll(async () => {
  runtime = await bootTestRuntime({ log: (line) => lines.push(line) });
}, 120_000);
afterAll(() => runtime?.stop());

/** The EMF lines that carry a metric, from the function logs (`  <LogicalId> | {json}`). */
function emitted(name: string): Array<Record<string, unknown>> {
  return lines
    .filter((line) => line.includes('"_aws"'))
    .map((line) => JSON.parse(line.slice(line.indexOf('{'))))
    .filter((emf) => name in emf);
}

it('writes every custom metric of a quiz into the function logs as EMF', async () => {
  const viewer = await Viewer.connect(`${runtime.config.webSocketUrl}?v=2`);
  const created = await callApi(runtime.config, 'POST', '/quizzes', {
    question: 'Metrics?',
    choices: ['Yes', 'No'],
    correctIndex: 0,
  });
  const { quizId } = created.body;
  await viewer.request({ action: 'answer', quizId, choiceIndex: 0 }, ['answer']);
  await viewer.request({ action: 'answer', quizId, choiceIndex: 1 }, ['error']);
  await callApi(runtime.config, 'POST', `/quizzes/${quizId}/reveal?force=true`);
  await viewer.waitFor((f) => f.quizId === quizId && f.type === 'graded');
  await sleep(500);
  viewer.socket.close();

  for (const name of [
    METRIC.connectionsOpened,
    METRIC.cuesSent,
    METRIC.answersAccepted,
    METRIC.answersRefused,
    METRIC.answerDuration,
    METRIC.deliveries,
    METRIC.revealToDelivery,
  ]) {
    expect(emitted(name).length).toBeGreaterThan(0);
  }
  expect(emitted(METRIC.answersRefused)[0]).toMatchObject({ code: 'ALREADY_ANSWERED', service: 'Cuecast' });
  // Two cues: the question and the result.
  expect(emitted(METRIC.cuesSent).reduce((sum, emf) => sum + Number(emf[METRIC.cuesSent]), 0)).toBe(2);
  const delivered = emitted(METRIC.deliveries).reduce((sum, emf) => sum + Number(emf[METRIC.deliveries]), 0);
  expect(delivered).toBeGreaterThanOrEqual(1);
}, 60_000);
