import { type LocalTopic, readTopics } from '../sns';
import { type AlarmSpec, type MetricKey, readAlarms } from './alarm-model';
import { metricId } from './metric-store';

type Resolve = (value: unknown) => unknown;
type Resource = { Type: string; Properties?: Record<string, unknown> };

/** What the template watches: its alarms, the topics they notify, and what its dashboards graph. */
export interface OperationsModel {
  readonly alarms: readonly AlarmSpec[];
  readonly topics: readonly LocalTopic[];
  /** Every metric a dashboard widget graphs by name (SEARCH expressions name none), resolved. */
  readonly dashboardMetrics: readonly MetricKey[];
}

/**
 * Reads the template's alarms (alarm-model.ts), topics (sns.ts) and dashboard metrics, every
 * intrinsic resolved with `resolve` (alarm names and ARNs come from the alarm's own `Ref` and
 * `Arn`, as CloudFormation gives them).
 */
export function readOperations(
  resources: Readonly<Record<string, Resource>>,
  resolve: Resolve,
): OperationsModel {
  return {
    alarms: readAlarms(resources, resolve, (logicalId) => ({
      name: String(resolve({ Ref: logicalId })),
      arn: String(resolve({ 'Fn::GetAtt': [logicalId, 'Arn'] })),
    })),
    topics: readTopics(resources, resolve),
    dashboardMetrics: Object.values(resources)
      .filter((r) => r.Type === 'AWS::CloudWatch::Dashboard')
      .flatMap((r) => dashboardMetrics(String(resolve(r.Properties?.DashboardBody)))),
  };
}

/**
 * The metrics of a dashboard body (its JSON): each widget entry `[namespace, name, dim, value, …,
 * {options}]`, where `"."` repeats the previous entry's part at that position. An entry with `"..."`
 * (CloudWatch's shorthand for "the rest as before", which CDK does not write) is left out.
 */
export function dashboardMetrics(body: string): MetricKey[] {
  const parsed = JSON.parse(body) as { widgets?: Array<{ properties?: { metrics?: unknown[][] } }> };
  const seen = new Map<string, MetricKey>();
  for (const widget of parsed.widgets ?? []) {
    let previous: string[] = [];
    for (const entry of widget.properties?.metrics ?? []) {
      const parts = entry.filter((part): part is string => typeof part === 'string');
      if (parts.length < 2 || parts.includes('...')) continue;
      const full = parts.map((part, i) => (part === '.' ? previous[i] : part));
      previous = full;
      const [namespace, metricName, ...rest] = full;
      const dimensions: Record<string, string> = {};
      for (let i = 0; i + 1 < rest.length; i += 2) dimensions[rest[i]] = rest[i + 1];
      const key = { namespace, metricName, dimensions };
      seen.set(metricId(key), key);
    }
  }
  return [...seen.values()];
}
