import { Match, type Template } from 'aws-cdk-lib/assertions';
import { METRICS_NAMESPACE } from '../../lambda/metric-names';
import { appFunctions, buildStack } from './build-stack';

/** The dashboard and the alarms (lib/constructs/operations.ts), read from the template. */
let template: Template;
let resources: Record<string, { Type: string; Properties?: Record<string, any> }>;

beforeAll(() => {
  ({ template } = buildStack({ alarmEmail: 'ops@example.com' }));
  resources = template.toJSON().Resources;
});

/** A resolved-enough copy of the dashboard body: each Ref or GetAtt becomes `@ref:<logicalId>`. */
function dashboardBody(): { widgets: Array<{ type: string; properties: Record<string, any> }> } {
  const [dashboard] = Object.values(template.findResources('AWS::CloudWatch::Dashboard'));
  const parts: unknown[] = dashboard.Properties.DashboardBody['Fn::Join'][1];
  const text = parts
    .map((part) => {
      if (typeof part === 'string') return part;
      const token = part as Record<string, any>;
      if (token.Ref) return `@ref:${token.Ref}`;
      if (token['Fn::GetAtt']) return `@ref:${token['Fn::GetAtt'][0]}`;
      // The IVS channel id: Fn::Select 1 of Fn::Split '/' of the channel's Ref.
      const select = token['Fn::Select'];
      if (select) {
        const arn = select[1]['Fn::Split'][1];
        return `@ref:${arn.Ref ?? arn['Fn::GetAtt'][0]}`;
      }
      if (token.Ref === undefined && JSON.stringify(token).includes('AWS::StackName')) return '@stack';
      throw new Error(`unexpected token in the dashboard: ${JSON.stringify(token)}`);
    })
    .join('');
  return JSON.parse(text);
}

/** The resource type each namespace's resource dimension must name. */
const DIMENSION_TYPES: Record<string, Record<string, string>> = {
  'AWS/Lambda': { FunctionName: 'AWS::Lambda::Function' },
  'AWS/DynamoDB': { TableName: 'AWS::DynamoDB::Table' },
  'AWS/SQS': { QueueName: 'AWS::SQS::Queue' },
  'AWS/ApiGateway': { ApiId: 'AWS::ApiGatewayV2::Api' },
  'AWS/IVS': { Channel: 'AWS::IVS::Channel' },
};

describe('the dashboard', () => {
  it('names, in every widget metric, a resource that exists in the stack', () => {
    const { widgets } = dashboardBody();
    const graphs = widgets.filter((w) => w.type === 'metric' && w.properties.metrics);
    expect(graphs.length).toBeGreaterThanOrEqual(14);
    let checked = 0;
    for (const widget of graphs) {
      for (const entry of widget.properties.metrics as unknown[][]) {
        // A SEARCH expression names no resource (the next test reads those).
        if (entry.length === 1 && (entry[0] as { expression?: string }).expression) continue;
        const [namespace, , ...rest] = entry.filter((part) => typeof part === 'string') as string[];
        const dimensions = Object.fromEntries(
          Array.from({ length: rest.length / 2 }, (_, i) => [rest[2 * i], rest[2 * i + 1]]),
        );
        if (namespace === METRICS_NAMESPACE) {
          // cuecast's own metrics: this stack's service dimension.
          expect(dimensions.service).toMatch(/^(@ref:|@stack|Cuecast|Test)/);
          checked++;
          continue;
        }
        const expected = DIMENSION_TYPES[namespace];
        expect(expected).toBeDefined();
        for (const [name, type] of Object.entries(expected)) {
          const ref = /^@ref:(.+)$/.exec(dimensions[name])?.[1];
          expect({ widget: widget.properties.title, name, type: ref && resources[ref]?.Type }).toEqual({
            widget: widget.properties.title,
            name,
            type,
          });
          checked++;
        }
      }
    }
    expect(checked).toBeGreaterThan(40);
  });

  it('shows the stream, both APIs, every function, the tables, the queues and the custom metrics', () => {
    const titles = dashboardBody().widgets.map((w) => String(w.properties.title));
    for (const title of [
      'Viewers (IVS ConcurrentViews)',
      'Ingest bitrate (bits/s)',
      'Host API: 4xx and 5xx',
      'Host API latency (ms)',
      'WebSocket: connects and messages',
      'Lambda errors and throttles',
      'Lambda duration p99 (ms)',
      'DynamoDB throttle events',
      'Answers: accepted, and refused by code',
      'Cues: sent, and refused by reason',
      'Fan-out posts: delivered, gone, failed',
      'Reveal to last delivery (ms)',
      'Failure queues: messages waiting',
      'Alarms',
    ])
      expect(titles).toContain(title);
  });

  it('graphs every refusal by its code or reason, whatever the value, as the functions write them', () => {
    const expressions = dashboardBody()
      .widgets.flatMap((w) => (w.properties.metrics ?? []) as unknown[][])
      .map((entry) => (entry[0] as { expression?: string }).expression)
      .filter((e): e is string => typeof e === 'string');
    // lambda/handlers/ws-answer.ts writes {service, code}; lambda/services/metadata-publisher.ts
    // writes {service, reason}. A metric read with fewer dimensions than written is never graphed.
    expect(expressions).toEqual(
      expect.arrayContaining([
        `SEARCH('{${METRICS_NAMESPACE},code,service} MetricName="AnswersRefused" service="Cuecast"', 'Sum', 60)`,
        `SEARCH('{${METRICS_NAMESPACE},reason,service} MetricName="CuesRefused" service="Cuecast"', 'Sum', 60)`,
      ]),
    );
  });

  it('carries the region in its name: dashboards are global to an account', () => {
    template.hasResourceProperties('AWS::CloudWatch::Dashboard', {
      DashboardName: { 'Fn::Join': ['', ['Cuecast-show-', { Ref: 'AWS::Region' }]] },
    });
  });
});

describe('the alarms', () => {
  const alarms = () => Object.values(template.findResources('AWS::CloudWatch::Alarm'));

  it('cover every function, the fan-out, DynamoDB, both APIs and both failure queues', () => {
    const functions = Object.keys(appFunctions(template));
    // One error alarm per function, plus fan-out, DynamoDB, HTTP 5xx, WebSocket and two queues.
    expect(alarms()).toHaveLength(functions.length + 6);
    for (const id of functions) {
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        MetricName: 'Errors',
        Namespace: 'AWS/Lambda',
        Dimensions: [{ Name: 'FunctionName', Value: { Ref: id } }],
        Threshold: 1,
      });
    }
  });

  it('each give the reason for their threshold and notify the topic', () => {
    const [topicId] = Object.keys(template.findResources('AWS::SNS::Topic'));
    for (const alarm of alarms()) {
      expect(String(alarm.Properties.AlarmDescription).length).toBeGreaterThan(60);
      expect(alarm.Properties.AlarmActions).toEqual([{ Ref: topicId }]);
      expect(alarm.Properties.TreatMissingData).toBe('notBreaching');
    }
  });

  it('go to a topic encrypted with a rotated key CloudWatch may use, refusing plain HTTP', () => {
    const [keyId] = Object.keys(template.findResources('AWS::KMS::Key'));
    template.hasResourceProperties('AWS::KMS::Key', { EnableKeyRotation: true });
    template.hasResourceProperties('AWS::KMS::Key', {
      KeyPolicy: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Principal: { Service: 'cloudwatch.amazonaws.com' },
            Action: ['kms:Decrypt', 'kms:GenerateDataKey*'],
          }),
        ]),
      },
    });
    template.hasResourceProperties('AWS::SNS::Topic', { KmsMasterKeyId: { 'Fn::GetAtt': [keyId, 'Arn'] } });
    template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        ]),
      },
    });
  });

  it('may be published by CloudWatch to their topic, for this account’s alarms only', () => {
    const [topicId] = Object.keys(template.findResources('AWS::SNS::Topic'));
    const [policy] = Object.values(template.findResources('AWS::SNS::TopicPolicy'));
    expect(policy.Properties.Topics).toEqual([{ Ref: topicId }]);
    // The topic's policy replaces SNS's default one: it must let CloudWatch publish, or no
    // alarm ever mails anyone ("not authorized to perform: SNS:Publish").
    const publish = policy.Properties.PolicyDocument.Statement.filter(
      (s: any) => s.Effect === 'Allow' && s.Principal?.Service === 'cloudwatch.amazonaws.com',
    );
    expect(publish).toHaveLength(1);
    expect(publish[0].Action).toBe('sns:Publish');
    expect(publish[0].Resource).toEqual({ Ref: topicId });
    expect(publish[0].Condition.StringEquals).toEqual({ 'aws:SourceAccount': { Ref: 'AWS::AccountId' } });
    const sources = publish[0].Condition.ArnEquals['aws:SourceArn'].map((arn: any) => arn['Fn::GetAtt']);
    expect(sources).toEqual(
      Object.keys(template.findResources('AWS::CloudWatch::Alarm')).map((id) => [id, 'Arn']),
    );
  });

  it('use only the metric math CloudWatch documents: IF and FILL, never a scalar in a list', () => {
    const expressions = alarms().flatMap((alarm) =>
      ((alarm.Properties.Metrics ?? []) as Array<{ Expression?: string }>)
        .map((m) => m.Expression)
        .filter((e): e is string => e !== undefined),
    );
    expect(expressions.length).toBeGreaterThanOrEqual(4);
    for (const expression of expressions) {
      expect({ expression, list: expression.includes('[') }).toEqual({ expression, list: false });
      const functions = [...expression.matchAll(/([A-Z_]+)\(/g)].map((m) => m[1]);
      for (const fn of functions)
        expect({ expression, fn }).toEqual({ expression, fn: expect.stringMatching(/^(IF|FILL)$/) });
    }
  });

  it('mail the alarmEmail address, and nobody without one', () => {
    template.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'email',
      Endpoint: 'ops@example.com',
    });
    expect(Object.keys(buildStack().template.findResources('AWS::SNS::Subscription'))).toEqual([]);
  });
});
