import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { DynamoDBClient, GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import type { DynamoDbFault } from '../../local/dynamodb-faults';
import type { LocalRuntime } from '../../local/runtime';
import { captureCli } from '../cli/capture-cli';
import {
  ALARM_PERIOD_SECONDS,
  alarmNamed,
  bootAlarmRuntime,
  describeAlarms,
  expectAlarmMailed,
  functionErrorAlarms,
  watchedFunction,
} from './alarm-support';
import { callApi, recentLog, Viewer, waitForIdle, waitUntil } from './harness';
import { metricsNotEmitted, metricsRead } from './metric-cross-check';

/**
 * The stack's CloudWatch alarms, run: each test injects the fault an alarm watches into the local
 * runtime, sees the alarm go to ALARM through the local endpoint (`GET /_local/alarms`, what
 * DescribeAlarms answers), and finds CloudWatch's notification in the topic's mail. Every alarm
 * of the template has a test here (the last tests check the set, and that every metric the
 * dashboard and the alarms read was emitted). One runtime, with ALARM_PERIOD_SECONDS periods.
 */
let runtime: LocalRuntime;
const covered = new Set<string>();
let viewers: Viewer[] = [];

beforeAll(async () => {
  runtime = await bootAlarmRuntime();
}, 120_000);

afterEach(async () => {
  runtime.host.faults.clear();
  runtime.dynamoDb.faults.clear();
  runtime.webSocket.managementFaults.clear();
  runtime.asyncInvoker.faults.clear();
  await Promise.all(viewers.map((v) => v.close()));
  viewers = [];
});

afterAll(async () => {
  await runtime?.stop();
});

const fnNamed = (prefix: string) => {
  const fn = runtime.host.all().find((f) => f.logicalId.startsWith(prefix));
  if (!fn) throw new Error(`no function ${prefix}`);
  return fn;
};

/** Fires `alarm` (by its logical id's prefix) with `inject`, then expects its state and mail. */
async function expectFires(prefix: string, inject: () => Promise<unknown>): Promise<void> {
  const alarm = alarmNamed(runtime, prefix);
  await inject();
  const { mail, message } = await expectAlarmMailed(runtime, alarm);
  expect(alarm.alarmActions).toContain(mail.TopicArn);
  expect(mail).toMatchObject({ Type: 'Notification', Subject: expect.stringMatching(/^ALARM: /) });
  expect(message).toMatchObject({
    AlarmName: alarm.name,
    AlarmArn: alarm.arn,
    NewStateValue: 'ALARM',
    NewStateReason: expect.stringMatching(/^Threshold Crossed/),
    AWSAccountId: '000000000000',
  });
  covered.add(alarm.logicalId);
}

describe('when a function fails', () => {
  it('has an Errors alarm for every function of the stack', () => {
    const watched = runtime.alarms.specs.map(watchedFunction).filter(Boolean).sort();
    expect(watched).toEqual(
      runtime.host
        .all()
        .map((f) => f.name)
        .sort(),
    );
  });

  // Each `<Function>Errors` alarm: its function crashes once (the container dies mid-invocation).
  it.each(functionErrorAlarms())(
    'fires %s after one crash of its function, and mails it',
    async (logicalId) => {
      const fn = runtime.host.find(watchedFunction(alarmNamed(runtime, logicalId)) ?? '');
      if (!fn) throw new Error(`${logicalId} watches no function of the runtime`);
      await expectFires(logicalId, async () => {
        runtime.host.faults.inject({ match: (r) => r.logicalId === fn.logicalId, times: 1, action: 'crash' });
        const outcome = await runtime.host.invoke(fn, {});
        expect(outcome.error?.name).toBe('Runtime.ExitError');
      });
    },
  );
});

describe('when the host API fails', () => {
  it('fires HttpApi5xxRate once 5 % of requests answer 5xx', async () => {
    await expectFires('OperationsHttpApi5xxRate', async () => {
      const getState = fnNamed('HostApiGetState');
      runtime.host.faults.inject({
        match: (r) => r.logicalId === getState.logicalId,
        times: 1,
        action: 'crash',
      });
      expect((await callApi(runtime.config, 'GET', '/state')).status).toBe(500);
    });
  });
});

describe('when WebSocket routes fail', () => {
  it('fires WebSocketErrors after 10 integration errors', async () => {
    await expectFires('OperationsWebSocketErrors', async () => {
      const viewer = await Viewer.connect(runtime.config.webSocketUrl);
      viewers.push(viewer);
      const ping = fnNamed('RealtimeApiPing');
      runtime.host.faults.inject({
        match: (r) => r.logicalId === ping.logicalId,
        times: 10,
        action: 'crash',
      });
      for (let i = 0; i < 10; i++) viewer.send({ action: 'ping' });
      const failed = () => viewer.frames.filter((f) => f.message === 'Internal server error').length;
      await waitUntil('10 failed pings', () => failed() === 10, { describe: () => viewer.frames });
    });
  });
});

describe('when DynamoDB throttles', () => {
  it('fires DynamoDbThrottling at 50 read and write throttle events over every table', async () => {
    const { dynamoDbEndpoint: endpoint, region, credentials } = runtime.config;
    // One attempt per call: each throttled request is one throttle event, not the SDK's retries.
    const ddb = new DynamoDBClient({ endpoint, region, credentials, maxAttempts: 1 });
    const fault: DynamoDbFault = 'ProvisionedThroughputExceededException';
    try {
      await expectFires('OperationsDynamoDbThrottling', async () => {
        for (const table of runtime.dynamoDb.tableNames()) {
          runtime.dynamoDb.faults.inject({
            match: (r) => r.tables.includes(table),
            times: 11,
            action: fault,
          });
          const key = { id: { S: 'throttled' } };
          const calls = [
            ...Array.from({ length: 6 }, () => ddb.send(new GetItemCommand({ TableName: table, Key: key }))),
            ...Array.from({ length: 5 }, () => ddb.send(new PutItemCommand({ TableName: table, Item: key }))),
          ];
          const settled = await Promise.allSettled(calls);
          expect(settled.map((s) => s.status === 'rejected' && (s.reason as Error).name)).toEqual(
            Array(11).fill(fault),
          );
        }
      });
    } finally {
      ddb.destroy();
    }
  });
});

describe('when fan-out posts fail', () => {
  it('fires FanOutFailedPosts once 1 % of posts fail after their retries', async () => {
    await expectFires('OperationsFanOutFailedPosts', async () => {
      const created = await callApi(runtime.config, 'POST', '/quizzes', {
        question: 'Alarms?',
        choices: ['yes', 'no'],
        correctIndex: 0,
        durationSeconds: 60,
      });
      expect(created.status).toBe(201);
      await waitForIdle(runtime);
      const viewer = await Viewer.connect(runtime.config.webSocketUrl);
      viewers.push(viewer);
      runtime.webSocket.managementFaults.inject({
        match: (r) => r.method === 'POST',
        action: { status: 500 },
      });
      const revealed = await callApi(
        runtime.config,
        'POST',
        `/quizzes/${created.body.quizId}/reveal?force=true`,
      );
      expect(revealed.status).toBe(200);
    });
    await waitForIdle(runtime, 'the fan-out to finish', 30_000);
  }, 60_000);
});

describe('when work fails after its retries', () => {
  for (const [alarm, fnPrefix] of [
    ['OperationsFanOutFailuresWaiting', 'RealtimeApiFanOut'],
    ['OperationsStreamStateFailuresWaiting', 'RealtimeApiStreamState'],
  ] as const) {
    it(`fires ${alarm.slice('Operations'.length)} once a message waits in its failure queue`, async () => {
      await expectFires(alarm, async () => {
        const fn = fnNamed(fnPrefix);
        const marked = (event: unknown) => (event as { alarmTest?: string })?.alarmTest === alarm;
        runtime.asyncInvoker.faults.inject({ match: (r) => marked(r.event), action: 'fail' });
        runtime.asyncInvoker.invoke(fn, { alarmTest: alarm });
      });
    });
  }
});

describe('the alarms of the template', () => {
  it('each has a test above that fired it', async () => {
    const all = runtime.alarms.specs.map((a) => a.logicalId).sort();
    expect(all).toHaveLength(20);
    expect([...covered].sort()).toEqual(all);
    // The endpoint lists them all, as DescribeAlarms does.
    expect((await describeAlarms(runtime)).map((a) => a.AlarmName).sort()).toEqual(
      runtime.alarms.specs.map((a) => a.name).sort(),
    );
  });

  it('go back to OK once their period has no breaching data', async () => {
    // The first alarm fired: its crash is the oldest datapoint.
    const first = alarmNamed(runtime, 'OperationsCreateQuizErrors');
    await waitUntil(
      'CreateQuizErrors back to OK',
      async () =>
        (await describeAlarms(runtime)).find((a) => a.AlarmName === first.name)?.StateValue === 'OK',
      { timeoutMs: (ALARM_PERIOD_SECONDS + 10) * 1000, describe: () => recentLog(runtime) },
    );
  });
});

describe('the metrics a dashboard or an alarm reads', () => {
  it('are each emitted, with exactly its dimensions, in a short show', async () => {
    // A short show: viewers connect and answer, the host reveals.
    const created = await callApi(runtime.config, 'POST', '/quizzes', {
      question: 'Metrics?',
      choices: ['a', 'b'],
      correctIndex: 1,
      durationSeconds: 60,
    });
    expect(created.status).toBe(201);
    await waitForIdle(runtime);
    const crowd = await Promise.all([0, 1].map(() => Viewer.connect(runtime.config.webSocketUrl)));
    viewers.push(...crowd);
    for (const [i, viewer] of crowd.entries()) {
      const reply = await viewer.request({ action: 'answer', quizId: created.body.quizId, choiceIndex: i }, [
        'answer',
        'error',
      ]);
      expect(reply).toMatchObject({ status: 'accepted' });
    }
    // A stale connection record: its post gets a real 410 (FanOutGone).
    const { dynamoDbEndpoint: endpoint, region, credentials } = runtime.config;
    const ddb = new DynamoDBClient({ endpoint, region, credentials });
    const connections = runtime.dynamoDb.tableNames().find((t) => t.includes('DataConnections'));
    await ddb.send(
      new PutItemCommand({
        TableName: connections,
        Item: { connectionId: { S: 'stale-for-metrics' }, viewerId: { S: 'stale-for-metrics' } },
      }),
    );
    ddb.destroy();
    const revealed = await callApi(
      runtime.config,
      'POST',
      `/quizzes/${created.body.quizId}/reveal?force=true`,
    );
    expect(revealed.status).toBe(200);
    await Promise.all(crowd.map((v) => v.waitFor((f) => f.type === 'result', 20_000, 'the result')));
    await waitForIdle(runtime);
    // The gauges (queue depths, viewers) are sampled at each evaluation.
    const read = metricsRead(runtime);
    expect(read.length).toBeGreaterThan(60);
    await waitUntil('every metric read to be emitted', () => metricsNotEmitted(runtime).length === 0, {
      timeoutMs: 5000,
      describe: () => metricsNotEmitted(runtime),
    });
  }, 60_000);
});

describe('when the host lists the alarms of the local runtime', () => {
  const configFile = path.join(os.tmpdir(), `cuecast-alarms-${process.pid}.json`);
  afterAll(() => fs.rmSync(configFile, { force: true }));

  it('prints each alarm with its state and reason, as the runtime evaluates them', async () => {
    fs.writeFileSync(configFile, JSON.stringify(runtime.config));
    const ping = alarmNamed(runtime, 'OperationsPingErrors');
    const fn = fnNamed('RealtimeApiPing');
    runtime.host.faults.inject({ match: (r) => r.logicalId === fn.logicalId, times: 1, action: 'crash' });
    await runtime.host.invoke(fn, {});
    await waitUntil(
      'PingErrors in ALARM',
      () => runtime.alarms.describe().find((a) => a.AlarmName === ping.name)?.StateValue === 'ALARM',
      {
        describe: () => runtime.alarms.describe(),
      },
    );
    const json = await captureCli(['ops', 'alarms', '--config', configFile, '--json']);
    expect(json).toMatchObject({ code: 0, stderr: '' });
    const { alarms } = JSON.parse(json.stdout);
    expect(alarms.map((a: { AlarmName: string }) => a.AlarmName)).toEqual(
      runtime.alarms.specs.map((a) => a.name).sort(),
    );
    const human = await captureCli(['ops', 'alarms', '--config', configFile]);
    expect(human.code).toBe(0);
    expect(human.stdout).toMatch(/^20 alarms, \d+ in ALARM:\n/);
    expect(human.stdout).toMatch(new RegExp(`\\n  ALARM +${ping.name}: Threshold Crossed`));
  });

  it('says in one line that the runtime is not running', async () => {
    fs.writeFileSync(configFile, JSON.stringify({ ...runtime.config, ivsEndpoint: 'http://127.0.0.1:9' }));
    const run = await captureCli(['ops', 'alarms', '--config', configFile]);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(
      /^error: cannot reach http:\/\/127\.0\.0\.1:9\/_local\/alarms: .*is `npm run dev` still running\?\)\n$/,
    );
  });
});
