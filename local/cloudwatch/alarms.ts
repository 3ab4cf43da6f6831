import type { AlarmSpec } from './alarm-model';
import { type AlarmState, evaluateAlarm } from './alarm-state';
import { evaluateMetricMath, parseMetricMath, type Value } from './metric-math';
import type { MetricStore } from './metric-store';

/** An alarm as DescribeAlarms reports it (the fields `npm run host -- ops alarms` shows). */
export interface AlarmStatus {
  readonly AlarmName: string;
  readonly AlarmArn: string;
  readonly AlarmDescription: string;
  readonly StateValue: AlarmState;
  readonly StateReason: string;
  readonly StateUpdatedTimestamp: string;
}

/** The message CloudWatch publishes to an alarm's SNS topic on a change of state. */
export interface AlarmNotification {
  readonly AlarmName: string;
  readonly AlarmDescription: string;
  readonly AWSAccountId: string;
  readonly NewStateValue: AlarmState;
  readonly NewStateReason: string;
  readonly StateChangeTime: string;
  readonly Region: string;
  readonly AlarmArn: string;
  readonly OldStateValue: AlarmState;
}

export interface LocalAlarmsOptions {
  readonly accountId: string;
  readonly region: string;
  /**
   * Every alarm's period, in seconds, in place of the template's (5 minutes for the stack's), so a
   * test need not wait 5 minutes. @default the template's period
   */
  readonly periodSeconds?: number;
  /** @default Date.now */
  readonly clock?: () => number;
  /** @default none */
  readonly log?: (line: string) => void;
  /** Called before each evaluation, to sample gauges (a queue's depth) into the store. @default none */
  readonly sample?: () => void;
}

/**
 * The template's alarms, evaluated as CloudWatch evaluates them: each over its last
 * `EvaluationPeriods` periods of the metrics it reads (or its metric math), and on a change of
 * state, its actions for the new state are published to, with CloudWatch as the publisher. A new
 * alarm starts in INSUFFICIENT_DATA, as CloudWatch's do.
 */
export class LocalAlarms {
  private readonly status = new Map<string, AlarmStatus>();
  private timer?: NodeJS.Timeout;
  private running?: Promise<unknown>;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    /** The alarms, as the template defines them. */
    readonly specs: readonly AlarmSpec[],
    private readonly store: MetricStore,
    /** Publishes `message` to a topic as `cloudwatch.amazonaws.com`, for the alarm `sourceArn`. */
    private readonly publish: (
      topicArn: string,
      message: AlarmNotification,
      sourceArn: string,
    ) => Promise<void>,
    private readonly options: LocalAlarmsOptions,
  ) {
    const now = new Date(this.now()).toISOString();
    for (const spec of specs)
      this.status.set(spec.name, {
        AlarmName: spec.name,
        AlarmArn: spec.arn,
        AlarmDescription: spec.description,
        StateValue: 'INSUFFICIENT_DATA',
        StateReason: 'Unchecked: Initial alarm creation',
        StateUpdatedTimestamp: now,
      });
  }

  private now(): number {
    return (this.options.clock ?? Date.now)();
  }

  /** Every alarm, as DescribeAlarms lists them (by name). */
  describe(): AlarmStatus[] {
    return [...this.status.values()].sort((a, b) => a.AlarmName.localeCompare(b.AlarmName));
  }

  /** The value an alarm compares with its threshold, per period starting at `starts`. */
  private valuesOf(spec: AlarmSpec, periodSeconds: number, starts: readonly number[]): Value {
    const series = new Map<string, Value>();
    for (const q of spec.queries)
      if (q.metric) series.set(q.id, this.store.query(q.metric, q.metric.stat, periodSeconds, starts));
    const returning = spec.queries.find((q) => q.returnData);
    if (!returning) return new Map();
    if (returning.metric) return series.get(returning.id) as Value;
    // Expressions may read one another: evaluate those first, in the order the template lists them.
    for (const q of spec.queries)
      if (q.expression && q !== returning)
        series.set(q.id, evaluateMetricMath(parseMetricMath(q.expression), series, starts));
    return evaluateMetricMath(parseMetricMath(returning.expression as string), series, starts);
  }

  /**
   * Evaluates every alarm once, now; publishes for each change of state. Returns the changes.
   * Evaluations run one after another (the timer's and a caller's), so no change is published twice.
   */
  evaluate(): Promise<AlarmNotification[]> {
    const next = this.queue.then(() => this.evaluateNow());
    this.queue = next.catch(() => undefined);
    return next;
  }

  private async evaluateNow(): Promise<AlarmNotification[]> {
    this.options.sample?.();
    const now = this.now();
    const changes: AlarmNotification[] = [];
    for (const spec of this.specs) {
      const period = this.options.periodSeconds ?? spec.periodSeconds;
      const n = spec.rule.evaluationPeriods;
      // The last n whole periods, the newest ending now.
      const starts = Array.from({ length: n }, (_, i) => now - (n - i) * period * 1000);
      const values = this.valuesOf(spec, period, starts);
      const datapoints = starts.map((at) => ({
        at,
        value: typeof values === 'number' ? (Number.isNaN(values) ? undefined : values) : values.get(at),
      }));
      const current = this.status.get(spec.name) as AlarmStatus;
      const next = evaluateAlarm(spec.rule, datapoints, current.StateValue);
      if (next.state === current.StateValue) continue;
      const at = new Date(now).toISOString();
      this.status.set(spec.name, {
        ...current,
        StateValue: next.state,
        StateReason: next.reason,
        StateUpdatedTimestamp: at,
      });
      const message: AlarmNotification = {
        AlarmName: spec.name,
        AlarmDescription: spec.description,
        AWSAccountId: this.options.accountId,
        NewStateValue: next.state,
        NewStateReason: next.reason,
        StateChangeTime: at,
        Region: this.options.region,
        AlarmArn: spec.arn,
        OldStateValue: current.StateValue,
      };
      changes.push(message);
      this.options.log?.(`alarm ${spec.name}: ${current.StateValue} -> ${next.state}: ${next.reason}`);
      const actions =
        next.state === 'ALARM'
          ? spec.alarmActions
          : next.state === 'OK'
            ? spec.okActions
            : spec.insufficientDataActions;
      for (const topic of actions) {
        // CloudWatch logs a failed action in the alarm's history and goes on: so does this.
        await this.publish(topic, message, spec.arn).catch((error: Error) =>
          this.options.log?.(`alarm ${spec.name}: its action on ${topic} failed: ${error.message}`),
        );
      }
    }
    return changes;
  }

  /** Evaluates every `everyMs` until stopped (CloudWatch evaluates about once a minute). */
  start(everyMs: number): void {
    this.timer = setInterval(() => {
      this.running ??= this.evaluate().finally(() => {
        this.running = undefined;
      });
    }, everyMs);
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
    await this.queue;
  }
}
