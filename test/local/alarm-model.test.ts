import { readAlarms } from '../../local/cloudwatch/alarm-model';
import { MetricMathError } from '../../local/cloudwatch/metric-math';
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
