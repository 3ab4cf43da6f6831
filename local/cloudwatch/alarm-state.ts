/**
 * One evaluation of a CloudWatch alarm, as CloudWatch documents it: the last `evaluationPeriods`
 * datapoints are each breaching, not breaching or missing; `datapointsToAlarm` breaching ones
 * among them put the alarm in ALARM. Missing datapoints are treated by `treatMissingData`:
 * `notBreaching` and `breaching` count them as such, `ignore` keeps the current state when the
 * datapoints present do not decide it, and `missing` (the default) gives INSUFFICIENT_DATA when
 * every datapoint is missing. Alarms on `AWS/DynamoDB` metrics always ignore missing data.
 */

export type AlarmState = 'OK' | 'ALARM' | 'INSUFFICIENT_DATA';
export type TreatMissingData = 'breaching' | 'notBreaching' | 'ignore' | 'missing';
export type ComparisonOperator =
  | 'GreaterThanOrEqualToThreshold'
  | 'GreaterThanThreshold'
  | 'LessThanThreshold'
  | 'LessThanOrEqualToThreshold';

export interface AlarmRule {
  readonly threshold: number;
  readonly comparisonOperator: ComparisonOperator;
  readonly evaluationPeriods: number;
  /** @default evaluationPeriods */
  readonly datapointsToAlarm?: number;
  /** @default 'missing' */
  readonly treatMissingData?: TreatMissingData;
  /** True when the alarm reads a metric of the AWS/DynamoDB namespace. @default false */
  readonly readsDynamoDb?: boolean;
}

export interface Datapoint {
  /** Start of the period (epoch ms). */
  readonly at: number;
  /** Undefined when the period has no data. */
  readonly value?: number;
}

export interface Evaluation {
  readonly state: AlarmState;
  /** CloudWatch's kind of `StateReason`, naming the datapoints and the threshold. */
  readonly reason: string;
}

const WORDS: Record<ComparisonOperator, string> = {
  GreaterThanOrEqualToThreshold: 'greater than or equal to',
  GreaterThanThreshold: 'greater than',
  LessThanThreshold: 'less than',
  LessThanOrEqualToThreshold: 'less than or equal to',
};

export function breaches(value: number, rule: Pick<AlarmRule, 'threshold' | 'comparisonOperator'>): boolean {
  switch (rule.comparisonOperator) {
    case 'GreaterThanOrEqualToThreshold':
      return value >= rule.threshold;
    case 'GreaterThanThreshold':
      return value > rule.threshold;
    case 'LessThanThreshold':
      return value < rule.threshold;
    case 'LessThanOrEqualToThreshold':
      return value <= rule.threshold;
  }
}

const stamp = (at: number) =>
  new Date(at)
    .toISOString()
    .replace('T', ' ')
    .replace(/\.\d+Z$/, '');

/**
 * The alarm's state after looking at `datapoints` (the last `evaluationPeriods` periods, oldest
 * first; fewer when the alarm is new), from `current`.
 */
export function evaluateAlarm(
  rule: AlarmRule,
  datapoints: readonly Datapoint[],
  current: AlarmState,
): Evaluation {
  const needed = rule.datapointsToAlarm ?? rule.evaluationPeriods;
  const treat = rule.readsDynamoDb ? 'ignore' : (rule.treatMissingData ?? 'missing');
  const window = datapoints.slice(-rule.evaluationPeriods);
  const present = window.filter((d) => d.value !== undefined) as Array<Required<Datapoint>>;
  const missing = window.length - present.length + Math.max(0, rule.evaluationPeriods - window.length);
  const presentBreaching = present.filter((d) => breaches(d.value, rule)).length;
  const breaching = presentBreaching + (treat === 'breaching' ? missing : 0);
  const listed = present
    .slice(-5)
    .map((d) => `${d.value} (${stamp(d.at)})`)
    .join(', ');
  const of = `out of the last ${rule.evaluationPeriods} datapoints [${listed}]`;
  const threshold = `the threshold (${rule.threshold})`;
  const transition = `(minimum ${needed} datapoint${needed === 1 ? '' : 's'} for OK -> ALARM transition)`;

  if (breaching >= needed)
    return {
      state: 'ALARM',
      reason: `Threshold Crossed: ${breaching} ${of} ${breaching === 1 ? 'was' : 'were'} ${WORDS[rule.comparisonOperator]} ${threshold} ${transition}.`,
    };
  // Not enough breaching: can the missing ones still decide it?
  const undecided = treat === 'ignore' || treat === 'missing' ? breaching + missing >= needed : false;
  if (present.length === 0) {
    if (treat === 'missing')
      return { state: 'INSUFFICIENT_DATA', reason: 'Insufficient Data: no datapoints were received.' };
    if (treat === 'ignore')
      return { state: current, reason: 'No datapoints: the state is kept (missing data ignored).' };
  }
  if (undecided && treat === 'ignore')
    return { state: current, reason: 'Missing datapoints: the state is kept (missing data ignored).' };
  const within = present.length - presentBreaching + (treat === 'notBreaching' ? missing : 0);
  return {
    state: 'OK',
    reason: `Threshold Crossed: ${within} ${of} ${within === 1 ? 'was' : 'were'} not ${WORDS[rule.comparisonOperator]} ${threshold} ${transition}.`,
  };
}
