import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { readAlarms } from '../../local/cloudwatch/alarm-model';
import { type AlarmNotification, LocalAlarms } from '../../local/cloudwatch/alarms';
import { MetricMathError } from '../../local/cloudwatch/metric-math';
import { MetricStore } from '../../local/cloudwatch/metric-store';
import { evaluateResourcePolicy } from '../../local/resource-policy';
import { LocalSns, readTopics } from '../../local/sns';
import { appFunctions, buildStack } from '../infra/build-stack';

/** A resolver enough for names: Ref → `ref:<id>`, GetAtt → `<id>.<attr>`, Join joined. */
function resolve(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(resolve);
  if (value === null || typeof value !== 'object') return value;
  const v = value as Record<string, any>;
  if (v.Ref !== undefined) return `ref:${v.Ref}`;
  if (v['Fn::GetAtt']) return `${v['Fn::GetAtt'][0]}.${v['Fn::GetAtt'][1]}`;
  if (v['Fn::Join']) return (v['Fn::Join'][1] as unknown[]).map(resolve).join(v['Fn::Join'][0]);
  return Object.fromEntries(Object.entries(v).map(([k, inner]) => [k, resolve(inner)]));
}
const arnOf = (id: string) => ({
  name: `Cuecast-${id}`,
  arn: `arn:aws:cloudwatch:us-east-1:000000000000:alarm:Cuecast-${id}`,
});

describe('the alarms read from the template', () => {
  const { template } = buildStack({ viewerAuth: {} });
  const resources = template.toJSON().Resources;
  const alarms = readAlarms(resources, resolve, arnOf);
  const topic = `ref:${Object.keys(template.findResources('AWS::SNS::Topic'))[0]}`;

  it('are every alarm of the stack, each notifying the topic, over 5 minutes', () => {
    // One per function (the authorizer's less its refusals), and six for the show's machinery.
    expect(alarms).toHaveLength(Object.keys(appFunctions(template)).length + 6);
    for (const alarm of alarms) {
      expect(alarm.alarmActions).toEqual([topic]);
      expect(alarm.periodSeconds).toBe(300);
      expect(alarm.queries.filter((q) => q.returnData)).toHaveLength(1);
      expect(alarm.rule).toMatchObject({ evaluationPeriods: 1, treatMissingData: 'notBreaching' });
    }
  });

  it('keep each metric’s namespace, name, statistic and exact dimensions', () => {
    const rate = alarms.find((a) => a.logicalId.includes('HttpApi5xxRate'));
    expect(rate?.queries.find((q) => q.returnData)?.expression).toMatch(/^IF\(/);
    expect(rate?.queries.filter((q) => q.metric).map((q) => q.metric)).toEqual([
      expect.objectContaining({
        namespace: 'AWS/ApiGateway',
        metricName: '5xx',
        stat: 'Sum',
        periodSeconds: 300,
      }),
      expect.objectContaining({
        namespace: 'AWS/ApiGateway',
        metricName: 'Count',
        stat: 'Sum',
        periodSeconds: 300,
      }),
    ]);
    expect(rate?.queries.find((q) => q.metric)?.metric?.dimensions).toEqual({
      ApiId: expect.stringMatching(/^ref:/),
      Stage: '$default',
    });
    const throttles = alarms.find((a) => a.logicalId.includes('DynamoDbThrottling'));
    expect(throttles?.rule.readsDynamoDb).toBe(true);
    const fnErrors = alarms.filter((a) => a.queries.length === 1);
    expect(fnErrors.length).toBeGreaterThanOrEqual(14);
    for (const a of fnErrors)
      expect(a.queries[0].metric).toMatchObject({
        namespace: expect.any(String),
        dimensions: expect.any(Object),
      });
  });

  it('may mail: the template’s topic policy lets CloudWatch publish for each of these alarms', () => {
    const [policy] = Object.values(template.findResources('AWS::SNS::TopicPolicy'));
    const document = resolve(policy.Properties.PolicyDocument) as { Statement: unknown[] };
    for (const alarm of readAlarms(resources, resolve, (id) => ({ name: id, arn: `${id}.Arn` }))) {
      const request = {
        principal: { service: 'cloudwatch.amazonaws.com' },
        action: 'SNS:Publish',
        resource: topic,
        context: {
          'aws:SourceAccount': 'ref:AWS::AccountId',
          'aws:SourceArn': alarm.arn,
          'aws:SecureTransport': 'true',
        },
      };
      expect({ alarm: alarm.logicalId, decision: evaluateResourcePolicy(document, request) }).toEqual({
        alarm: alarm.logicalId,
        decision: 'Allowed',
      });
    }
  });

  it('refuses an expression CloudWatch would not take, naming the alarm', () => {
    const [id, rate] = Object.entries(resources).find(([key]) => key.includes('HttpApi5xxRate')) as [
      string,
      any,
    ];
    const broken = structuredClone(rate);
    for (const m of broken.Properties.Metrics)
      if (m.Expression) m.Expression = '100 * errors / MAX([1, requests])';
    expect(() => readAlarms({ [id]: broken }, resolve, arnOf)).toThrow(MetricMathError);
    expect(() => readAlarms({ [id]: broken }, resolve, arnOf)).toThrow(
      new RegExp(`alarm ${id}, .*MAX is not supported`),
    );
  });
});

describe('the alarms evaluated locally', () => {
  const { template } = buildStack({ viewerAuth: {} });
  const resources = template.toJSON().Resources;
  const specs = readAlarms(resources, resolve, arnOf);
  const fnRef = (description: string) =>
    `ref:${Object.entries(appFunctions(template)).find(([, fn]) => fn.Properties.Description === description)?.[0]}`;
  const alarmOf = (part: string) => specs.find((s) => s.logicalId.includes(part))?.name as string;

  /** A store, the alarms on a clock of their own (2 s periods), and what they published. */
  function setUp() {
    let now = Date.parse('2026-12-07T21:00:00Z');
    const store = new MetricStore();
    const published: Array<{ topic: string; message: AlarmNotification; source: string }> = [];
    const alarms = new LocalAlarms(
      specs,
      store,
      async (topic, message, source) => {
        published.push({ topic, message, source });
      },
      { accountId: '000000000000', region: 'us-east-1', periodSeconds: 2, clock: () => now },
    );
    const state = (name: string) => alarms.describe().find((a) => a.AlarmName === name)?.StateValue;
    return { store, alarms, published, state, at: () => now, advance: (ms: number) => (now += ms) };
  }

  it('start in INSUFFICIENT_DATA, and go to OK with no data (missing data is not breaching)', async () => {
    const { alarms, published } = setUp();
    expect(new Set(alarms.describe().map((a) => a.StateValue))).toEqual(new Set(['INSUFFICIENT_DATA']));
    await alarms.evaluate();
    // DynamoDB's alarm ignores missing data: it keeps its state until data comes.
    const states = alarms.describe().map((a) => [a.AlarmName.includes('DynamoDbThrottling'), a.StateValue]);
    expect(states.filter(([dynamo]) => !dynamo).every(([, s]) => s === 'OK')).toBe(true);
    expect(states.filter(([dynamo]) => dynamo)).toEqual([[true, 'INSUFFICIENT_DATA']]);
    expect(published).toEqual([]);
  });

  it('fire a function’s error alarm on one error, mail the topic once, and clear when its period passes', async () => {
    const { store, alarms, published, state, at, advance } = setUp();
    const name = alarmOf('CreateQuizErrors');
    store.put(
      { namespace: 'AWS/Lambda', metricName: 'Errors', dimensions: { FunctionName: fnRef('POST /quizzes') } },
      at() - 500,
      1,
    );
    await alarms.evaluate();
    expect(state(name)).toBe('ALARM');
    expect(published).toEqual([
      {
        topic: `ref:${Object.keys(template.findResources('AWS::SNS::Topic'))[0]}`,
        source: arnOf(name.replace('Cuecast-', '')).arn,
        message: expect.objectContaining({
          AlarmName: name,
          NewStateValue: 'ALARM',
          OldStateValue: 'INSUFFICIENT_DATA',
        }),
      },
    ]);
    expect(published[0].message.NewStateReason).toMatch(
      /^Threshold Crossed: 1 out of the last 1 datapoints \[1 /,
    );
    await alarms.evaluate();
    expect(published).toHaveLength(1);
    advance(2_500);
    await alarms.evaluate();
    expect(state(name)).toBe('OK');
    expect(published).toHaveLength(1);
  });

  it('page no one for viewers the authorizer refused, and page for any other error of it', async () => {
    const { store, alarms, state, at } = setUp();
    const name = alarmOf('AuthorizeErrors');
    const errors = {
      namespace: 'AWS/Lambda',
      metricName: 'Errors',
      dimensions: { FunctionName: fnRef('WebSocket $connect authorizer') },
    };
    const refused = {
      namespace: 'cuecast',
      metricName: 'ViewersRefused',
      dimensions: { service: 'Cuecast' },
    };
    for (let i = 0; i < 3; i++) {
      store.put(errors, at() - 100 * (i + 1), 1);
      store.put(refused, at() - 100 * (i + 1), 1);
    }
    await alarms.evaluate();
    expect(state(name)).toBe('OK');
    store.put(errors, at() - 50, 1);
    await alarms.evaluate();
    expect(state(name)).toBe('ALARM');
  });

  it('fire the host API’s 5xx rate at 5 % of requests, not below', async () => {
    const { store, alarms, state, at } = setUp();
    const name = alarmOf('HttpApi5xxRate');
    const spec = specs.find((s) => s.name === name);
    const dims = spec?.queries.find((q) => q.metric)?.metric?.dimensions as Record<string, string>;
    const put = (metricName: string, value: number) =>
      store.put({ namespace: 'AWS/ApiGateway', metricName, dimensions: dims }, at() - 100, value);
    put('Count', 40);
    put('5xx', 1);
    await alarms.evaluate();
    expect(state(name)).toBe('OK'); // 2.5 %
    put('Count', 0);
    put('5xx', 1);
    await alarms.evaluate();
    expect(state(name)).toBe('ALARM'); // 2 of 40 = 5 %
  });
});

describe('the SNS stand-in, as CloudWatch publishes an alarm to the template’s topic', () => {
  const { template } = buildStack({ alarmEmail: 'ops@example.com' });
  const resources = template.toJSON().Resources;
  const [topic] = readTopics(resources, resolve);
  const [alarm] = readAlarms(resources, resolve, (id) => ({ name: id, arn: `${id}.Arn` }));
  const cloudwatch = {
    service: 'cloudwatch.amazonaws.com',
    sourceAccount: 'ref:AWS::AccountId',
    sourceArn: alarm.arn,
  };
  const outbox = () => fs.mkdtempSync(path.join(os.tmpdir(), 'cuecast-outbox-'));
  const mails = (dir: string) =>
    fs.readdirSync(dir).map((f) => JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8')));

  it('mails the subscribed address, one message per file, in SNS’s shape', () => {
    const dir = outbox();
    const sns = new LocalSns([topic], dir);
    const id = sns.publishAsService(
      topic.arn,
      cloudwatch,
      `ALARM: "${alarm.name}"`,
      '{"NewStateValue":"ALARM"}',
    );
    expect(mails(dir)).toEqual([
      {
        to: 'ops@example.com',
        Type: 'Notification',
        MessageId: id,
        TopicArn: topic.arn,
        Subject: `ALARM: "${alarm.name}"`,
        Message: '{"NewStateValue":"ALARM"}',
        Timestamp: expect.any(String),
      },
    ]);
  });

  it('refuses CloudWatch as SNS does when the topic policy does not let it in (the old template)', () => {
    const dir = outbox();
    const onlyTls = {
      ...topic,
      policy: {
        Statement: ((topic.policy?.Statement ?? []) as Array<{ Effect: string }>).filter(
          (s) => s.Effect === 'Deny',
        ),
      },
    };
    const sns = new LocalSns([onlyTls], dir);
    expect(() => sns.publishAsService(topic.arn, cloudwatch, 's', 'm')).toThrow(
      `User: cloudwatch.amazonaws.com is not authorized to perform: SNS:Publish on resource: ${topic.arn}`,
    );
    // Another alarm's ARN, or no topic at all.
    expect(() =>
      new LocalSns([topic], dir).publishAsService(
        topic.arn,
        { ...cloudwatch, sourceArn: 'other.Arn' },
        's',
        'm',
      ),
    ).toThrow(/not authorized/);
    expect(() => new LocalSns([topic], dir).publishAsService('arn:nope', cloudwatch, 's', 'm')).toThrow(
      'Topic does not exist',
    );
    expect(mails(dir)).toEqual([]);
  });

  it('needs the key’s policy to let CloudWatch use the topic’s key', () => {
    const dir = outbox();
    const keyless = {
      ...topic,
      key: {
        arn: topic.key?.arn as string,
        policy: {
          Statement: ((topic.key?.policy.Statement ?? []) as Array<{ Principal?: unknown }>).filter(
            (s) => JSON.stringify(s.Principal) !== JSON.stringify({ Service: 'cloudwatch.amazonaws.com' }),
          ),
        },
      },
    };
    expect(() => new LocalSns([keyless], dir).publishAsService(topic.arn, cloudwatch, 's', 'm')).toThrow(
      /may not use the key/,
    );
    expect(mails(dir)).toEqual([]);
  });
});
