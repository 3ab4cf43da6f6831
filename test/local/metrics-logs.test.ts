import { METRIC } from '../../lambda/metric-names';
import type { LocalRuntime } from '../../local/runtime';
import { usageBetween } from '../../local/usage';
import { bootTestRuntime, callApi, recentLog, Viewer, waitForIdle, waitUntil } from './harness';

/**
 * Locally, the functions' EMF lines show up in their logs as they would in CloudWatch Logs:
 * the custom metrics of a whole quiz (a connection, a cue, an answer, a reveal's fan-out).
 */
let runtime: LocalRuntime;
const lines: string[] = [];

beforeAll(async () => {
  // One container per function: nothing here needs two side by side, and the fan-outs then start
  // one container for their four segments instead of four.
  runtime = await bootTestRuntime({ log: (line) => lines.push(line), containersPerFunction: 1 });
  // The viewers connect on an idle runtime (see waitForIdle): the boot's stream push done.
  await waitForIdle(runtime, 'the boot’s stream fan-out to finish');
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
  // No option replaces the answer grace here: the template's, for a LOW-latency channel.
  expect(created.body.graceSeconds).toBe(8);
  await viewer.request({ action: 'answer', quizId, choiceIndex: 0 }, ['answer']);
  await viewer.request({ action: 'answer', quizId, choiceIndex: 1 }, ['error']);
  await callApi(runtime.config, 'POST', `/quizzes/${quizId}/reveal?force=true`);
  await viewer.waitFor((f) => f.quizId === quizId && f.type === 'graded');
  viewer.socket.close();

  const names = [
    METRIC.connectionsOpened,
    METRIC.cuesSent,
    METRIC.answersAccepted,
    METRIC.answersRefused,
    METRIC.answerDuration,
    METRIC.deliveries,
    METRIC.revealToDelivery,
  ];
  // A function's log lines reach the runtime on their own channel, after its reply: the fan-out's
  // come once it has finished.
  await waitForIdle(runtime, 'the reveal’s fan-out to finish');
  await waitUntil('every metric in the logs', () => names.every((name) => emitted(name).length > 0), {
    timeoutMs: 10_000,
    describe: () =>
      `missing: ${names.filter((name) => emitted(name).length === 0).join(', ')}\n${recentLog(runtime)}`,
  });
  for (const name of names) {
    expect(emitted(name).length).toBeGreaterThan(0);
  }
  expect(emitted(METRIC.answersRefused)[0]).toMatchObject({ code: 'ALREADY_ANSWERED', service: 'Cuecast' });
  // Two cues: the question and the result.
  expect(emitted(METRIC.cuesSent).reduce((sum, emf) => sum + Number(emf[METRIC.cuesSent]), 0)).toBe(2);
  const delivered = emitted(METRIC.deliveries).reduce((sum, emf) => sum + Number(emf[METRIC.deliveries]), 0);
  expect(delivered).toBeGreaterThanOrEqual(1);
}, 60_000);

describe('the usage meter', () => {
  const answerFn = () => runtime.host.all().find((fn) => /Answer/.test(fn.logicalId))?.logicalId as string;

  /**
   * Waits until every connection so far has had its `$disconnect` run (the earlier test's viewer
   * leaves without waiting) and nothing runs, so a window holds only its own work.
   */
  async function quiet(): Promise<void> {
    const disconnect = runtime.host.all().find((fn) => /Disconnect/.test(fn.logicalId))?.logicalId as string;
    const settled = () => {
      const usage = runtime.usage.snapshot();
      return (usage.functions[disconnect]?.invocations ?? 0) >= usage.connections;
    };
    await waitUntil('every connection’s $disconnect', settled, {
      describe: () =>
        `${JSON.stringify(runtime.usage.snapshot().functions[disconnect])} for ${runtime.usage.snapshot().connections} connections`,
    });
    await waitForIdle(runtime);
  }

  /**
   * Waits until the answer function has finished `count` more invocations than in `before`, and
   * their log lines have arrived (they come on their own channel, after the reply).
   */
  async function answered(before: ReturnType<typeof runtime.usage.snapshot>, count = 1): Promise<void> {
    const used = () => usageBetween(before, runtime.usage.snapshot()).functions[answerFn()];
    await waitUntil(
      `${count} answer invocation(s) to finish and log`,
      () => used()?.invocations === count && runtime.host.running(answerFn()) === 0 && used()?.logBytes > 0,
      { timeoutMs: 10_000, describe: () => `${JSON.stringify(used())}\n${recentLog(runtime)}` },
    );
  }

  it('counts an answer in the units AWS bills: one message each way, two writes, half a read unit', async () => {
    await quiet();
    const viewer = await Viewer.connect(`${runtime.config.webSocketUrl}?v=2`);
    const created = await callApi(runtime.config, 'POST', '/quizzes', {
      question: 'Metered?',
      choices: ['Yes', 'No'],
      correctIndex: 0,
    });
    runtime.dynamoDb.meterCapacity = true;
    try {
      const before = runtime.usage.snapshot();
      await viewer.request({ action: 'answer', quizId: created.body.quizId, choiceIndex: 0 }, ['answer']);
      await answered(before);
      const used = usageBetween(before, runtime.usage.snapshot());

      expect(used).toMatchObject({ messagesIn: 1, messageUnitsIn: 1, messagesOut: 1, messageUnitsOut: 1 });
      expect(used.httpRequests).toBe(0);
      expect(used.webSocketRouteEvents).toBe(1);
      // P3's counts, as request units: two writes of items under 1 KB, one eventually consistent read.
      expect(used.writeUnits).toBe(2);
      expect(used.readUnits).toBe(0.5);
      const fn = used.functions[answerFn()];
      expect(fn.invocations).toBe(1);
      expect(fn.busyMs).toBeGreaterThanOrEqual(1);
      expect(fn.logBytes).toBeGreaterThan(0);
      // The metrics seen so far (a window holds only those new in it; the first test made these).
      const metrics = [...runtime.usage.snapshot().metrics];
      expect(metrics).toContain(`cuecast/${METRIC.answersAccepted}{service=Cuecast}`);
      expect(
        metrics.some((m) => m.includes(`/${METRIC.answersRefused}{`) && m.includes('code=ALREADY_ANSWERED')),
      ).toBe(true);

      // A second answer is refused by a conditional write, which DynamoDB still bills.
      const again = runtime.usage.snapshot();
      await viewer.request({ action: 'answer', quizId: created.body.quizId, choiceIndex: 1 }, ['error']);
      await answered(again);
      const refused = usageBetween(again, runtime.usage.snapshot());
      expect(refused.writeUnits).toBe(1);
    } finally {
      runtime.dynamoDb.meterCapacity = false;
    }

    // Off again: requests still run, and no units are counted.
    const off = runtime.usage.snapshot();
    const reveal = await callApi(runtime.config, 'POST', `/quizzes/${created.body.quizId}/reveal?force=true`);
    expect(reveal.status).toBe(200);
    await viewer.waitFor((f) => f.type === 'graded');
    const after = usageBetween(off, runtime.usage.snapshot());
    expect(after.httpRequests).toBe(1);
    expect(after.writeUnits + after.readUnits).toBe(0);
    await viewer.close();
  }, 60_000);
});
