import type { AlarmRule, ComparisonOperator, TreatMissingData } from './alarm-state';
import { MetricMathError, parseMetricMath } from './metric-math';

/** One metric as CloudWatch identifies it: namespace, name and exact dimensions. */
export interface MetricKey {
  readonly namespace: string;
  readonly metricName: string;
  /** Name → value; a datapoint matches only with exactly these dimensions. */
  readonly dimensions: Readonly<Record<string, string>>;
}

/** A metric an alarm reads: which one, its statistic and its period. */
export interface MetricQuery {
  readonly id: string;
  readonly metric?: MetricKey & { readonly stat: string; readonly periodSeconds: number };
  readonly expression?: string;
  /** The query whose values the alarm compares with its threshold. */
  readonly returnData: boolean;
}

/** An `AWS::CloudWatch::Alarm` of the template, resolved. */
export interface AlarmSpec {
  readonly logicalId: string;
  readonly name: string;
  readonly arn: string;
  readonly description: string;
  readonly periodSeconds: number;
  readonly rule: AlarmRule;
  readonly queries: readonly MetricQuery[];
  /** What is notified on a change to ALARM (and, if set, to OK or INSUFFICIENT_DATA): topic ARNs. */
  readonly alarmActions: readonly string[];
  readonly okActions: readonly string[];
  readonly insufficientDataActions: readonly string[];
}

type Resolve = (value: unknown) => unknown;
/** One entry of an alarm's `Metrics`, as the template holds it. */
interface CfnMetricDataQuery {
  Id: string;
  Expression?: string;
  ReturnData?: boolean;
  Period?: number;
  MetricStat?: {
    Metric: { Namespace: string; MetricName: string; Dimensions?: unknown };
    Period: number;
    Stat: string;
  };
}
type Resource = { Type: string; Properties?: Record<string, unknown> };

const COMPARISONS: readonly ComparisonOperator[] = [
  'GreaterThanOrEqualToThreshold',
  'GreaterThanThreshold',
  'LessThanThreshold',
  'LessThanOrEqualToThreshold',
];
const TREATMENTS: readonly TreatMissingData[] = ['breaching', 'notBreaching', 'ignore', 'missing'];

function dimensionsOf(list: unknown, resolve: Resolve): Record<string, string> {
  const out: Record<string, string> = {};
  for (const d of (list as Array<{ Name: string; Value: unknown }> | undefined) ?? [])
    out[d.Name] = String(resolve(d.Value));
  return out;
}

/**
 * Reads every alarm of the template, resolved to local names and ARNs, and checks what
 * PutMetricAlarm would: a comparison and a missing-data treatment it knows, exactly one query
 * returning data, and expressions it can parse (MetricMathError otherwise, naming the alarm).
 */
export function readAlarms(
  resources: Readonly<Record<string, Resource>>,
  resolve: Resolve,
  arnOf: (logicalId: string) => { name: string; arn: string },
): AlarmSpec[] {
  const alarms: AlarmSpec[] = [];
  for (const [logicalId, resource] of Object.entries(resources)) {
    if (resource.Type !== 'AWS::CloudWatch::Alarm') continue;
    const p = resource.Properties ?? {};
    const comparison = p.ComparisonOperator as ComparisonOperator;
    if (!COMPARISONS.includes(comparison))
      throw new Error(`alarm ${logicalId}: the comparison ${String(comparison)} is not supported locally`);
    const treat = (p.TreatMissingData as TreatMissingData | undefined) ?? 'missing';
    if (!TREATMENTS.includes(treat))
      throw new Error(`alarm ${logicalId}: TreatMissingData ${treat} is not valid`);
    let queries: MetricQuery[];
    let periodSeconds: number;
    if (Array.isArray(p.Metrics)) {
      queries = (p.Metrics as CfnMetricDataQuery[]).map((m) => ({
        id: String(m.Id),
        expression: m.Expression,
        returnData: m.ReturnData ?? true,
        metric: m.MetricStat
          ? {
              namespace: String(m.MetricStat.Metric.Namespace),
              metricName: String(m.MetricStat.Metric.MetricName),
              dimensions: dimensionsOf(m.MetricStat.Metric.Dimensions, resolve),
              stat: String(m.MetricStat.Stat),
              periodSeconds: Number(m.MetricStat.Period),
            }
          : undefined,
      }));
      const returning = queries.filter((q) => q.returnData);
      if (returning.length !== 1)
        throw new Error(`alarm ${logicalId}: ${returning.length} queries return data; exactly one must`);
      for (const q of queries) {
        if (!q.expression) continue;
        try {
          parseMetricMath(q.expression);
        } catch (error) {
          if (error instanceof MetricMathError)
            throw new MetricMathError(`alarm ${logicalId}, ${q.id}: ${error.message}`);
          throw error;
        }
      }
      periodSeconds = Number(
        (p.Metrics as CfnMetricDataQuery[]).find((m) => m.Period)?.Period ??
          queries.find((q) => q.metric)?.metric?.periodSeconds,
      );
    } else {
      periodSeconds = Number(p.Period);
      queries = [
        {
          id: 'm1',
          returnData: true,
          metric: {
            namespace: String(p.Namespace),
            metricName: String(p.MetricName),
            dimensions: dimensionsOf(p.Dimensions, resolve),
            stat: String(p.Statistic ?? p.ExtendedStatistic),
            periodSeconds,
          },
        },
      ];
    }
    const metrics = queries.flatMap((q) => (q.metric ? [q.metric] : []));
    const { name, arn } = arnOf(logicalId);
    const actions = (key: string) => ((resolve(p[key]) as unknown[] | undefined) ?? []).map(String);
    alarms.push({
      logicalId,
      name,
      arn,
      description: String(p.AlarmDescription ?? ''),
      periodSeconds,
      rule: {
        threshold: Number(p.Threshold),
        comparisonOperator: comparison,
        evaluationPeriods: Number(p.EvaluationPeriods),
        datapointsToAlarm: p.DatapointsToAlarm === undefined ? undefined : Number(p.DatapointsToAlarm),
        treatMissingData: treat,
        readsDynamoDb: metrics.some((m) => m.namespace === 'AWS/DynamoDB'),
      },
      queries,
      alarmActions: actions('AlarmActions'),
      okActions: actions('OKActions'),
      insufficientDataActions: actions('InsufficientDataActions'),
    });
  }
  return alarms;
}
