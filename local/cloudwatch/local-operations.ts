import { LocalSns, type LocalTopic } from '../sns';
import { LocalAlarms } from './alarms';
import type { OperationsModel } from './operations-model';

/** CloudWatch evaluates an alarm about once a minute. */
export const DEFAULT_ALARM_EVALUATE_EVERY_MS = 60_000;
/**
 * Where a topic with no email subscription mails locally, so the mail an alarm sends can be seen
 * without `-c alarmEmail=…` (docs/local-runtime.md).
 */
export const LOCAL_ALARM_ADDRESS = 'alarms@cuecast.local';

export interface LocalOperationsOptions {
  readonly accountId: string;
  readonly region: string;
  /** The folder each email lands in, one JSON file per message. */
  readonly outbox: string;
  /** @default the template's periods */
  readonly periodSeconds?: number;
  /** @default DEFAULT_ALARM_EVALUATE_EVERY_MS */
  readonly evaluateEveryMs?: number;
  /** Samples the gauges (queue depths, viewers) before each evaluation. */
  readonly sample: () => void;
  readonly log: (line: string) => void;
}

/**
 * The template's alarms over `store`'s metrics, publishing as CloudWatch to the template's topics
 * (their policies and keys checked by LocalSns), evaluated on a timer until `alarms.stop()`.
 */
export function startLocalOperations(
  model: OperationsModel,
  store: ConstructorParameters<typeof LocalAlarms>[1],
  options: LocalOperationsOptions,
): { alarms: LocalAlarms; sns: LocalSns } {
  const topics: LocalTopic[] = model.topics.map((topic) =>
    topic.subscriptions.some((s) => s.protocol.startsWith('email'))
      ? topic
      : {
          ...topic,
          subscriptions: [...topic.subscriptions, { protocol: 'email', endpoint: LOCAL_ALARM_ADDRESS }],
        },
  );
  const sns = new LocalSns(topics, options.outbox, options.log);
  const alarms = new LocalAlarms(
    model.alarms,
    store,
    async (topicArn, message, sourceArn) => {
      // CloudWatch's subject: the new state, the alarm's name and where it is.
      const subject = `${message.NewStateValue}: "${message.AlarmName}" in ${message.Region}`;
      sns.publishAsService(
        topicArn,
        { service: 'cloudwatch.amazonaws.com', sourceAccount: options.accountId, sourceArn },
        subject.slice(0, 100),
        JSON.stringify(message),
      );
    },
    {
      accountId: options.accountId,
      region: options.region,
      periodSeconds: options.periodSeconds,
      log: options.log,
      sample: options.sample,
    },
  );
  alarms.start(options.evaluateEveryMs ?? DEFAULT_ALARM_EVALUATE_EVERY_MS);
  return { alarms, sns };
}
