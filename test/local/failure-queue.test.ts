import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { LocalRuntime } from '../../local/runtime';
import { captureCli } from '../cli/capture-cli';
import { bootTestRuntime, callApi, recentLog, Viewer, waitForIdle, waitUntil } from './harness';

/**
 * The failure destination end to end, in the local runtime: an injected fan-out crash is retried
 * as the template's EventInvokeConfig says, lands in the local failure queue as Lambda's
 * invocation record, is listed by `ops failures` and re-sent by `ops redrive`; and a redrive of
 * work that already finished delivers nothing twice (the reveal's segment marks).
 */
let runtime: LocalRuntime;
const configFile = path.join(os.tmpdir(), `cuecast-failures-${process.pid}.json`);
const viewers: Viewer[] = [];

beforeAll(async () => {
  // Lambda waits 1 and 2 minutes before its retries; here 50 ms, so the test takes seconds. One
  // container per function: nothing here needs two side by side, and a boot then starts one
  // fan-out container for its four segments instead of four.
  runtime = await bootTestRuntime({ asyncRetryDelaysMs: [50, 50], containersPerFunction: 1 });
  // The viewer connects on an idle runtime (see waitForIdle): the boot's stream push done.
  await waitForIdle(runtime, 'the boot’s stream fan-out to finish');
  fs.writeFileSync(configFile, JSON.stringify(runtime.config));
}, 120_000);

afterAll(async () => {
  await Promise.all(viewers.map((viewer) => viewer.close()));
  await runtime?.stop();
  fs.rmSync(configFile, { force: true });
});

const ops = (...args: string[]) => captureCli([...args, '--config', configFile]);

const fanOutQueueArn = () => {
  const queue = runtime.sqs.queueFor(String(runtime.config.failureQueues.fanOut));
  if (!queue) throw new Error('no fan-out failure queue in the local runtime');
  return queue.arn;
};

/** Waits for `test`, failing after `timeoutMs` with what it waited for and the runtime's last lines. */
async function until(test: () => boolean, what: string, timeoutMs = 20_000): Promise<void> {
  await waitUntil(what, test, {
    timeoutMs,
    describe: () => `failure records: ${runtime.sqs.bodies(fanOutQueueArn()).length}\n${recentLog(runtime)}`,
  });
}

describe('when the fan-out keeps crashing on a reveal', () => {
  it('retries, lands in the failure queue, is listed, and a redrive delivers once', async () => {
    expect(runtime.config.failureQueues.fanOut).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/\d+\/.+/);
    const created = await callApi(runtime.config, 'POST', '/quizzes', {
      question: 'Which queue?',
      choices: ['This one', 'That one'],
      correctIndex: 0,
      durationSeconds: 60,
    });
    const { quizId } = created.body;
    const viewer = await Viewer.connect(`${runtime.config.webSocketUrl}?v=2`);
    viewers.push(viewer);
    await viewer.request({ action: 'answer', quizId, choiceIndex: 0 }, ['answer']);
    const reveal = (f: { quizId?: string; type?: string }) =>
      f.quizId === quizId && (f.type === 'graded' || f.type === 'result');

    const crash = runtime.asyncInvoker.faults.inject({
      match: ({ logicalId, event }) =>
        logicalId.includes('FanOut') && (event as { kind?: string }).kind === 'result',
      action: 'fail',
    });
    const revealed = await callApi(runtime.config, 'POST', `/quizzes/${quizId}/reveal?force=true`);
    expect(revealed.status).toBe(200);

    // Every segment of the reveal: tried three times (one attempt, two retries), then queued.
    await until(() => runtime.sqs.bodies(fanOutQueueArn()).length > 0, 'the first failure record');
    const totalSegments = () =>
      JSON.parse(runtime.sqs.bodies(fanOutQueueArn())[0]).requestPayload.totalSegments as number;
    await until(
      () => runtime.sqs.bodies(fanOutQueueArn()).length >= totalSegments(),
      "every segment's failure record",
    );
    const records = runtime.sqs.bodies(fanOutQueueArn()).map((body) => JSON.parse(body));
    const segments = records[0].requestPayload.totalSegments as number;
    expect(records).toHaveLength(segments);
    expect(crash.hits).toBe(3 * segments);
    for (const record of records) {
      expect(record).toMatchObject({
        version: '1.0',
        requestContext: { condition: 'RetriesExhausted', approximateInvokeCount: 3 },
        requestPayload: { kind: 'result', quizId, totalSegments: segments },
        responseContext: { functionError: 'Unhandled' },
        responsePayload: { errorType: 'Runtime.ExitError' },
      });
      expect(record.requestContext.functionArn).toMatch(/^arn:aws:lambda:.+FanOut.+:\$LATEST$/);
    }
    expect(records.map((r) => r.requestPayload.segment).sort()).toEqual([...Array(segments).keys()]);
    // Nothing reached the viewer: every attempt has failed (a record is written after the last),
    // and whatever the stack sent the viewer so far has arrived.
    await viewer.caughtUp();
    expect(viewer.frames.filter(reveal)).toEqual([]);
    crash.clear();

    const listed = await ops('ops', 'failures', '--json');
    expect(listed.code).toBe(0);
    const { failures } = JSON.parse(listed.stdout);
    expect(failures).toHaveLength(segments);
    expect(failures[0]).toMatchObject({ queue: 'fanOut', condition: 'RetriesExhausted', attempts: 3 });
    const human = await ops('ops', 'failures');
    expect(human.stdout).toContain(`${segments} failures waiting:`);
    expect(human.stdout).toContain(
      `fanOut: result job for quiz ${quizId}, segment 0: RetriesExhausted after 3 attempts`,
    );
    // Listing left them in place.
    expect(runtime.sqs.bodies(fanOutQueueArn())).toHaveLength(segments);

    const fanOut = runtime.host.all().find((fn) => fn.logicalId.includes('FanOut'))?.logicalId as string;
    const fanOutRuns = () => runtime.usage.snapshot().functions[fanOut]?.invocations ?? 0;
    const runsBefore = fanOutRuns();
    const redriven = await ops('ops', 'redrive');
    expect(redriven).toMatchObject({ code: 0, stdout: `Redriven ${segments} failures.\n` });
    expect(runtime.sqs.bodies(fanOutQueueArn())).toEqual([]);
    const delivered = await viewer.waitFor(reveal);
    expect(delivered).toMatchObject({
      type: 'graded',
      quizId,
      choiceIndex: 0,
      correct: true,
      counts: [1, 0],
    });

    // The same work redriven again once the first redrive is done (a message left behind, a
    // second operator after the first): nothing twice. A finished segment's mark is the guard.
    await until(
      () => fanOutRuns() >= runsBefore + segments && runtime.host.running(fanOut) === 0,
      'the redriven segments',
    );
    const sqs = new SQSClient({
      region: runtime.config.region,
      credentials: runtime.config.credentials,
      endpoint: runtime.config.sqsEndpoint,
    });
    for (const record of records)
      await sqs.send(
        new SendMessageCommand({
          QueueUrl: runtime.config.failureQueues.fanOut,
          MessageBody: JSON.stringify(record),
        }),
      );
    const runsBeforeAgain = fanOutRuns();
    expect((await ops('ops', 'redrive')).stdout).toBe(`Redriven ${segments} failures.\n`);
    // Each redriven segment has run (and found its mark), and whatever it sent has arrived.
    await until(() => fanOutRuns() >= runsBeforeAgain + segments, 'the segments redriven again');
    await waitForIdle(runtime, 'the segments redriven again to finish');
    await viewer.caughtUp();
    expect(viewer.frames.filter(reveal)).toHaveLength(1);
    expect(runtime.sqs.bodies(fanOutQueueArn())).toEqual([]);
  }, 60_000);

  it('says so when the queues are empty', async () => {
    const listed = await ops('ops', 'failures');
    expect(listed).toMatchObject({ code: 0, stdout: 'No failures: both failure queues are empty.\n' });
  });
});
