import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { METRIC, METRICS_NAMESPACE } from '../../lambda/metric-names';
import type { AlarmNotification } from '../../local/cloudwatch/alarms';
import type { LocalRuntime } from '../../local/runtime';
import { LocalSns, type LocalTopic, SnsError } from '../../local/sns';
import {
  alarmNamed,
  bootAlarmRuntime,
  describeAlarms,
  expectAlarmMailed,
  mails,
  watchedFunction,
} from './alarm-support';
import { recentLog, refusedUpgrade, waitUntil } from './harness';

/**
 * The viewer-auth stack's one more alarm, `AuthorizeErrors` (its authorizer's errors less the
 * viewers it refused), run; and the alarm topic's policy, which must let CloudWatch publish.
 */
let runtime: LocalRuntime;

beforeAll(async () => {
  runtime = await bootAlarmRuntime({ viewerAuth: true });
}, 120_000);

afterEach(() => runtime.host.faults.clear());

afterAll(async () => {
  await runtime?.stop();
});

/** The default stack's alarms, by logical id. */
const defaultTemplate = () =>
  JSON.parse(fs.readFileSync(path.join(process.cwd(), 'cdk.out', 'Cuecast.template.json'), 'utf8'));
const alarmsOf = (template: { Resources: Record<string, { Type: string }> }) =>
  Object.entries(template.Resources)
    .filter(([, r]) => r.Type === 'AWS::CloudWatch::Alarm')
    .map(([id]) => id);
const authorizeErrors = () => alarmNamed(runtime, 'OperationsAuthorizeErrors');
const stateOf = async (name: string) => (await describeAlarms(runtime)).find((a) => a.AlarmName === name);

describe('when viewer auth is on', () => {
  it('has the default stack’s alarms, IssueErrors and AuthorizeErrors, each tested here', () => {
    const defaults = new Set(alarmsOf(defaultTemplate()));
    const extra = runtime.alarms.specs.map((a) => a.logicalId).filter((id) => !defaults.has(id));
    expect(runtime.alarms.specs).toHaveLength(defaults.size + 2);
    expect(extra.sort()).toEqual(
      [authorizeErrors().logicalId, alarmNamed(runtime, 'OperationsIssueErrors').logicalId].sort(),
    );
    expect(authorizeErrors().queries.find((q) => q.returnData)?.expression).toBe(
      'FILL(errors, 0) - FILL(refused, 0)',
    );
  });

  it('fires IssueErrors when the token issuer crashes, and mails it', async () => {
    const alarm = alarmNamed(runtime, 'OperationsIssueErrors');
    const fn = runtime.host.find(watchedFunction(alarm) ?? '');
    if (!fn) throw new Error('no token issuer function');
    runtime.host.faults.inject({ match: (r) => r.logicalId === fn.logicalId, times: 1, action: 'crash' });
    expect((await runtime.host.invoke(fn, {})).error?.name).toBe('Runtime.ExitError');
    const { message } = await expectAlarmMailed(runtime, alarm);
    expect(message).toMatchObject({ AlarmName: alarm.name, NewStateValue: 'ALARM' });
  });

  it('does not fire AuthorizeErrors for a refused viewer (a forged token)', async () => {
    const alarm = authorizeErrors();
    const refusedKey = { namespace: METRICS_NAMESPACE, metricName: METRIC.viewersRefused };
    const refusals = () =>
      runtime.metrics.store
        .keys()
        .filter((k) => k.namespace === refusedKey.namespace && k.metricName === refusedKey.metricName);
    expect(await refusedUpgrade(`${runtime.config.webSocketUrl}/?token=forged`)).toBe(401);
    const authorizerErrors = () =>
      runtime.metrics.store
        .keys()
        .filter(
          (k) => k.metricName === 'Errors' && k.dimensions.FunctionName?.includes('ViewerAuthAuthorize'),
        );
    await waitUntil(
      'the refusal counted (Errors and ViewersRefused)',
      () => refusals().length > 0 && authorizerErrors().length > 0,
      {
        describe: () => recentLog(runtime),
      },
    );
    // The authorizer threw (a Lambda error) and counted its refusal: the alarm's value is 0.
    const changes = await runtime.alarms.evaluate();
    expect(changes.filter((c) => c.AlarmName === alarm.name && c.NewStateValue === 'ALARM')).toEqual([]);
    expect((await stateOf(alarm.name))?.StateValue).not.toBe('ALARM');
  });

  it('fires AuthorizeErrors when the authorizer crashes, and mails it', async () => {
    const alarm = authorizeErrors();
    const fn = runtime.host.all().find((f) => f.logicalId.startsWith('ViewerAuthAuthorize'));
    if (!fn) throw new Error('no authorizer function');
    runtime.host.faults.inject({ match: (r) => r.logicalId === fn.logicalId, times: 1, action: 'crash' });
    expect(await refusedUpgrade(`${runtime.config.webSocketUrl}/?token=any`)).toBe(500);
    const { mail, message } = await expectAlarmMailed(runtime, alarm);
    expect(mail.TopicArn).toBe(alarm.alarmActions[0]);
    expect(message).toMatchObject({
      AlarmName: alarm.name,
      NewStateValue: 'ALARM',
      OldStateValue: expect.any(String),
    });
  });
});

describe('when the alarm topic’s policy lacks CloudWatch’s statement', () => {
  /** The template's alarm topic, as the runtime read it, with its statements filtered. */
  function topicWith(keep: (statement: { Principal?: unknown }) => boolean): LocalTopic {
    const [topic] = runtime.sns.topics;
    if (!Array.isArray(topic.policy?.Statement)) throw new Error('the alarm topic has no policy statements');
    const statements = (topic.policy.Statement as Array<{ Principal?: unknown }>).filter(keep);
    return { ...topic, policy: { ...topic.policy, Statement: statements } };
  }
  const fromCloudWatch = (alarmArn: string) => ({
    service: 'cloudwatch.amazonaws.com',
    sourceAccount: '000000000000',
    sourceArn: alarmArn,
  });
  const notice = (alarmName: string) =>
    JSON.stringify({ AlarmName: alarmName, NewStateValue: 'ALARM' } as Partial<AlarmNotification>);

  it('refuses CloudWatch’s publish with AuthorizationError and mails nothing', () => {
    const cloudWatch = (s: { Principal?: unknown }) =>
      JSON.stringify(s.Principal).includes('cloudwatch.amazonaws.com');
    const outbox = fs.mkdtempSync(path.join(os.tmpdir(), 'cuecast-refused-mail-'));
    const topic = topicWith((s) => !cloudWatch(s));
    const sns = new LocalSns([topic], outbox);
    const alarm = authorizeErrors();
    const publish = () =>
      sns.publishAsService(topic.arn, fromCloudWatch(alarm.arn), 'ALARM', notice(alarm.name));
    expect(publish).toThrow(SnsError);
    expect(publish).toThrow(/^User: cloudwatch\.amazonaws\.com is not authorized to perform: SNS:Publish/);
    expect(fs.readdirSync(outbox)).toEqual([]);
    // The template's own policy lets the same publish through.
    const allowed = new LocalSns([topicWith(() => true)], outbox);
    expect(
      allowed.publishAsService(topic.arn, fromCloudWatch(alarm.arn), 'ALARM', notice(alarm.name)),
    ).toEqual(expect.any(String));
    // Only for the stack's own alarms (aws:SourceArn): another alarm of the account is refused.
    expect(() =>
      allowed.publishAsService(topic.arn, fromCloudWatch(`${alarm.arn}-other`), 'ALARM', notice('other')),
    ).toThrow(SnsError);
    expect(fs.readdirSync(outbox).length).toBeGreaterThan(0);
    fs.rmSync(outbox, { recursive: true, force: true });
  });

  it('delivers every runtime mail to the outbox in SNS’s shape', () => {
    expect(mails(runtime).length).toBeGreaterThan(0);
    for (const mail of mails(runtime))
      expect(mail).toMatchObject({
        Type: 'Notification',
        MessageId: expect.any(String),
        to: expect.any(String),
      });
  });
});
