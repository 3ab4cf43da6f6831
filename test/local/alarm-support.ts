import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { AlarmSpec } from '../../local/cloudwatch/alarm-model';
import type { AlarmNotification, AlarmStatus } from '../../local/cloudwatch/alarms';
import type { LocalRuntime, LocalRuntimeOptions } from '../../local/runtime';
import { waitUntil } from '../support/wait';
import { bootTestRuntime, recentLog } from './harness';

/**
 * What the alarm suites share: a runtime whose alarms have short periods and are evaluated often,
 * its mail, and a wait for an alarm to fire and mail.
 */

/** Every alarm's period locally: long enough for a fault's datapoints to stay in it, short enough not to wait. */
export const ALARM_PERIOD_SECONDS = 8;

/** Boots a runtime for the alarm suites, with its own outbox. */
export function bootAlarmRuntime(options: LocalRuntimeOptions = {}): Promise<LocalRuntime> {
  return bootTestRuntime({
    webDir: null,
    alarmPeriodSeconds: ALARM_PERIOD_SECONDS,
    alarmEvaluateEveryMs: 200,
    alarmOutbox: fs.mkdtempSync(path.join(os.tmpdir(), 'cuecast-alarm-mail-')),
    asyncRetryDelaysMs: [20],
    answerGraceSeconds: 0,
    ...options,
  });
}

/** One mail of the outbox: SNS's notification, with the address it went to. */
export interface Mail {
  readonly to: string;
  readonly Type: string;
  readonly TopicArn: string;
  readonly Subject: string;
  readonly Message: string;
  readonly MessageId: string;
  readonly Timestamp: string;
}

/** Every mail in the runtime's outbox, oldest first. */
export function mails(runtime: LocalRuntime): Mail[] {
  if (!fs.existsSync(runtime.alarmOutbox)) return [];
  return fs
    .readdirSync(runtime.alarmOutbox)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => JSON.parse(fs.readFileSync(path.join(runtime.alarmOutbox, f), 'utf8')) as Mail);
}

/** The alarms, as the runtime's local endpoint answers (`GET /_local/alarms`, DescribeAlarms' shape). */
export async function describeAlarms(runtime: LocalRuntime): Promise<AlarmStatus[]> {
  const res = await fetch(`${runtime.config.ivsEndpoint}/_local/alarms`);
  if (res.status !== 200) throw new Error(`GET /_local/alarms answered ${res.status}`);
  return ((await res.json()) as { MetricAlarms: AlarmStatus[] }).MetricAlarms;
}

/** The ALARM notification mailed for `alarm`, once there is one. */
function alarmMail(
  runtime: LocalRuntime,
  alarm: AlarmSpec,
): { mail: Mail; message: AlarmNotification } | undefined {
  for (const mail of mails(runtime)) {
    const message = JSON.parse(mail.Message) as AlarmNotification;
    if (message.AlarmName === alarm.name && message.NewStateValue === 'ALARM') return { mail, message };
  }
  return undefined;
}

/**
 * Waits until the local endpoint shows `alarm` in ALARM and its mail is in the outbox; returns
 * the mail. On timeout, says what the endpoint and the outbox held.
 */
export async function expectAlarmMailed(runtime: LocalRuntime, alarm: AlarmSpec, timeoutMs = 20_000) {
  let seen: AlarmStatus | undefined;
  let wasInAlarm = false;
  const mailed = await waitUntil(
    `${alarm.logicalId} in ALARM, and its mail`,
    async () => {
      seen = (await describeAlarms(runtime)).find((a) => a.AlarmName === alarm.name);
      wasInAlarm ||= seen?.StateValue === 'ALARM';
      return wasInAlarm ? alarmMail(runtime, alarm) : undefined;
    },
    {
      timeoutMs,
      describe: () =>
        `endpoint: ${JSON.stringify(seen)}; mail for: ${JSON.stringify(
          mails(runtime).map((m) => JSON.parse(m.Message).AlarmName),
        )}\n${recentLog(runtime)}`,
    },
  );
  return mailed;
}

/** The alarm whose logical id starts with `prefix` (CDK appends a hash). */
export function alarmNamed(runtime: LocalRuntime, prefix: string): AlarmSpec {
  const found = runtime.alarms.specs.filter((a) => a.logicalId.startsWith(prefix));
  if (found.length !== 1) throw new Error(`${found.length} alarms start with ${prefix}`);
  return found[0];
}

/** The function an `Errors` alarm watches (its one metric's `FunctionName`), when it watches one. */
export function watchedFunction(alarm: AlarmSpec): string | undefined {
  const metric = alarm.queries.length === 1 ? alarm.queries[0].metric : undefined;
  return metric?.namespace === 'AWS/Lambda' && metric.metricName === 'Errors'
    ? metric.dimensions.FunctionName
    : undefined;
}

/** The template's `<Function>Errors` alarms, by logical id, read before the runtime boots (for `it.each`). */
export function functionErrorAlarms(): string[] {
  const template = JSON.parse(
    fs.readFileSync(path.join(process.cwd(), 'cdk.out', 'Cuecast.template.json'), 'utf8'),
  );
  return Object.entries(template.Resources as Record<string, { Type: string; Properties: any }>)
    .filter(([, r]) => r.Type === 'AWS::CloudWatch::Alarm' && r.Properties.Namespace === 'AWS/Lambda')
    .map(([id]) => id);
}
