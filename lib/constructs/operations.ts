import { Duration, Fn, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct } from 'constructs';
import { METRIC, METRIC_DIMENSIONS, METRICS_NAMESPACE } from '../../lambda/metric-names';
import type { AppFunction } from './app-function';
import type { HostApi } from './host-api';
import type { LiveChannel } from './live-channel';
import type { RealtimeApi } from './realtime-api';
import type { ShowData } from './show-data';

export interface OperationsProps {
  readonly channel: LiveChannel;
  readonly data: ShowData;
  readonly hostApi: HostApi;
  readonly realtimeApi: RealtimeApi;
  /** Every function of the stack: each gets its widgets and its error alarm. */
  readonly functions: readonly AppFunction[];
  /**
   * The viewer-auth `$connect` authorizer, when there is one. It refuses a bad token by throwing
   * (API Gateway's only way to answer 401), so its alarm counts its errors less its refusals.
   * @default none
   */
  readonly authorizer?: AppFunction;
  /** An address the alarm topic mails (it must confirm the subscription). @default none */
  readonly alarmEmail?: string;
}

const FIVE_MINUTES = Duration.minutes(5);
/** An alarm's input, summed over the alarm's own 5-minute period. */
const every5 = (metric: cloudwatch.Metric) => metric.with({ period: FIVE_MINUTES });

/**
 * What a team watches during a show and what tells them when something breaks: one CloudWatch
 * dashboard (the stream, both APIs, every function, the tables and cuecast's own metrics) and
 * alarms, each with the reason for its threshold in its description, to one SNS topic encrypted
 * with a key of its own (CloudWatch cannot publish to a topic under the AWS-managed SNS key)
 * that refuses anything not sent over TLS.
 */
export class Operations extends Construct {
  readonly dashboard: cloudwatch.Dashboard;
  readonly topic: sns.Topic;
  readonly alarms: cloudwatch.Alarm[] = [];

  constructor(scope: Construct, id: string, props: OperationsProps) {
    super(scope, id);
    const { channel, data, hostApi, realtimeApi, functions } = props;
    const service = { service: Stack.of(this).stackName };
    const custom = (name: string, statistic = 'Sum', extra: Record<string, string> = {}) =>
      new cloudwatch.Metric({
        namespace: METRICS_NAMESPACE,
        metricName: name,
        dimensionsMap: { ...service, ...extra },
        statistic,
        period: Duration.minutes(1),
      });
    // A metric written with one more dimension (a refusal's code or reason): one line per value
    // that occurs, whatever the value, through a SEARCH of this stack's metrics.
    const byDimension = (name: string, dimension: string) =>
      new cloudwatch.MathExpression({
        expression: `SEARCH('{${METRICS_NAMESPACE},${dimension},service} MetricName="${name}" service="${service.service}"', 'Sum', 60)`,
        usingMetrics: {},
        label: `${name} by ${dimension}`,
        period: Duration.minutes(1),
      });
    const channelId = Fn.select(1, Fn.split('/', channel.channelArn));
    const ivs = (name: string, statistic: string) =>
      new cloudwatch.Metric({
        namespace: 'AWS/IVS',
        metricName: name,
        dimensionsMap: { Channel: channelId },
        statistic,
        period: Duration.minutes(1),
      });
    const httpApiId = hostApi.httpApi.apiId;
    const httpApi = (name: string, statistic = 'Sum') =>
      new cloudwatch.Metric({
        namespace: 'AWS/ApiGateway',
        metricName: name,
        dimensionsMap: { ApiId: httpApiId, Stage: '$default' },
        statistic,
        period: Duration.minutes(1),
      });
    const wsApi = (name: string, statistic = 'Sum') =>
      new cloudwatch.Metric({
        namespace: 'AWS/ApiGateway',
        metricName: name,
        dimensionsMap: { ApiId: realtimeApi.webSocketApi.apiId, Stage: realtimeApi.stage.stageName },
        statistic,
        period: Duration.minutes(1),
      });
    const tables = [data.quizzes, data.answers, data.tally, data.control, data.connections];
    const queues = [realtimeApi.fanOutFailures.queue, realtimeApi.streamStateFailures.queue];

    // The topic, under a key CloudWatch may use.
    const key = new kms.Key(this, 'AlarmKey', {
      description: 'Encrypts the cuecast alarm topic',
      enableKeyRotation: true,
    });
    // Into the key's own policy: CloudWatch may use this key, and no other.
    key.grant(new iam.ServicePrincipal('cloudwatch.amazonaws.com'), 'kms:Decrypt', 'kms:GenerateDataKey*');
    this.topic = new sns.Topic(this, 'Alarms', {
      masterKey: key,
      enforceSSL: true,
      displayName: 'cuecast alarms',
    });
    if (props.alarmEmail) this.topic.addSubscription(new subscriptions.EmailSubscription(props.alarmEmail));
    const alarm = (alarmId: string, metric: cloudwatch.IMetric, threshold: number, reason: string) => {
      const created = new cloudwatch.Alarm(this, alarmId, {
        metric,
        threshold,
        evaluationPeriods: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        alarmDescription: reason,
      });
      created.addAlarmAction(new actions.SnsAction(this.topic));
      this.alarms.push(created);
      return created;
    };

    for (const fn of functions) {
      if (fn === props.authorizer) continue;
      alarm(
        `${fn.node.id}Errors`,
        fn.metricErrors({ period: FIVE_MINUTES }),
        1,
        'Any error: every expected refusal is a reply, not a function error, so one is a bug or a broken dependency.',
      );
    }
    if (props.authorizer) {
      alarm(
        `${props.authorizer.node.id}Errors`,
        new cloudwatch.MathExpression({
          expression: 'FILL(errors, 0) - FILL(refused, 0)',
          usingMetrics: {
            errors: props.authorizer.metricErrors({ period: FIVE_MINUTES }),
            refused: every5(custom(METRIC.viewersRefused)),
          },
          period: FIVE_MINUTES,
          label: 'authorizer errors, less the viewers it refused',
        }),
        1,
        'Any error but a refused viewer: the authorizer throws to refuse a bad token (API Gateway answers that 401) and counts each refusal, so what is left is a bug or a broken dependency (the signing key).',
      );
    }
    alarm(
      'FanOutFailedPosts',
      new cloudwatch.MathExpression({
        expression:
          'IF(FILL(failed, 0) + FILL(delivered, 0) > 0, 100 * FILL(failed, 0) / (FILL(failed, 0) + FILL(delivered, 0)), 0)',
        usingMetrics: {
          failed: every5(custom(METRIC.failedPosts)),
          delivered: every5(custom(METRIC.deliveries)),
        },
        period: FIVE_MINUTES,
        label: 'failed posts, % of posts',
      }),
      1,
      'At least 1 % of fan-out posts failed after their retries in 5 minutes: @connections is throttling or failing, and those viewers got no result (they recover with sync).',
    );
    alarm(
      'DynamoDbThrottling',
      new cloudwatch.MathExpression({
        expression: tables.map((_, i) => `r${i} + w${i}`).join(' + '),
        usingMetrics: Object.fromEntries(
          tables.flatMap((table, i) => [
            [`r${i}`, table.metric('ReadThrottleEvents', { statistic: 'Sum', period: FIVE_MINUTES })],
            [`w${i}`, table.metric('WriteThrottleEvents', { statistic: 'Sum', period: FIVE_MINUTES })],
          ]),
        ),
        period: FIVE_MINUTES,
        label: 'throttle events, all tables',
      }),
      50,
      'The answer path retries a throttled write and spreads the tally over shards, so a few throttles are absorbed; 50 in 5 minutes means viewers are getting TRY_AGAIN.',
    );
    alarm(
      'HttpApi5xxRate',
      new cloudwatch.MathExpression({
        expression: 'IF(FILL(requests, 0) > 0, 100 * FILL(errors, 0) / FILL(requests, 0), 0)',
        usingMetrics: { errors: every5(httpApi('5xx')), requests: every5(httpApi('Count')) },
        period: FIVE_MINUTES,
        label: 'host API 5xx, % of requests',
      }),
      5,
      'A host API request in 20 failing with a 5xx over 5 minutes: the host cannot run the show reliably. Refusals (4xx) are expected and do not count.',
    );
    alarm(
      'WebSocketErrors',
      new cloudwatch.MathExpression({
        expression: 'execution + integration',
        usingMetrics: {
          execution: every5(wsApi('ExecutionError')),
          integration: every5(wsApi('IntegrationError')),
        },
        period: FIVE_MINUTES,
        label: 'WebSocket execution and integration errors',
      }),
      10,
      'Viewer routes always answer 200, so these are API Gateway failing to run a route; 10 in 5 minutes is more than a stray cold start.',
    );
    for (const [i, queue] of queues.entries()) {
      alarm(
        i === 0 ? 'FanOutFailuresWaiting' : 'StreamStateFailuresWaiting',
        queue.metricApproximateNumberOfMessagesVisible({ statistic: 'Maximum', period: FIVE_MINUTES }),
        1,
        'Work failed after all its retries and waits in this queue: see npm run host -- ops failures, then ops redrive.',
      );
    }

    // enforceSSL gives the topic a policy of its own, which replaces SNS's default one: without
    // this statement nothing may publish, CloudWatch included. Only this account's alarms may.
    this.topic.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'CloudWatchAlarmsPublish',
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['sns:Publish'],
        resources: [this.topic.topicArn],
        conditions: {
          StringEquals: { 'aws:SourceAccount': Stack.of(this).account },
          ArnEquals: { 'aws:SourceArn': this.alarms.map((a) => a.alarmArn) },
        },
      }),
    );

    // The dashboard: the stream first, then the audience's path, then the machinery.
    const graph = (title: string, left: cloudwatch.IMetric[], width = 8) =>
      new cloudwatch.GraphWidget({ title, left, width, height: 6 });
    this.dashboard = new cloudwatch.Dashboard(this, 'Dashboard', {
      // Dashboards are global to an account: the region keeps a second region's stack apart.
      dashboardName: `${Stack.of(this).stackName}-show-${Stack.of(this).region}`,
      defaultInterval: Duration.hours(3),
    });
    this.dashboard.addWidgets(
      graph('Viewers (IVS ConcurrentViews)', [ivs('ConcurrentViews', 'Maximum')]),
      graph('Ingest bitrate (bits/s)', [
        ivs('IngestVideoBitrate', 'Average'),
        ivs('IngestAudioBitrate', 'Average'),
      ]),
      graph('Ingest frame rate and keyframe interval', [
        ivs('IngestFramerate', 'Average'),
        ivs('KeyframeInterval', 'Average'),
      ]),
    );
    this.dashboard.addWidgets(
      graph('Answers: accepted, and refused by code', [
        custom(METRIC.answersAccepted),
        byDimension(METRIC.answersRefused, METRIC_DIMENSIONS.code),
      ]),
      graph('Answer route (ms)', [
        custom(METRIC.answerDuration, 'p50'),
        custom(METRIC.answerDuration, 'p99'),
      ]),
      graph('Cues: sent, and refused by reason', [
        custom(METRIC.cuesSent),
        byDimension(METRIC.cuesRefused, METRIC_DIMENSIONS.reason),
      ]),
    );
    this.dashboard.addWidgets(
      graph('Fan-out posts: delivered, gone, failed', [
        custom(METRIC.deliveries),
        custom(METRIC.gone),
        custom(METRIC.failedPosts),
      ]),
      graph('Reveal to last delivery (ms)', [custom(METRIC.revealToDelivery, 'Maximum')]),
      graph('WebSocket: connects and messages', [
        custom(METRIC.connectionsOpened),
        wsApi('ConnectCount'),
        wsApi('MessageCount'),
      ]),
    );
    this.dashboard.addWidgets(
      graph('Host API: 4xx and 5xx', [httpApi('4xx'), httpApi('5xx')]),
      graph('Host API latency (ms)', [httpApi('Latency', 'p50'), httpApi('Latency', 'p99')]),
      graph('WebSocket: client, execution and integration errors', [
        wsApi('ClientError'),
        wsApi('ExecutionError'),
        wsApi('IntegrationError'),
        wsApi('IntegrationLatency', 'p99'),
      ]),
    );
    this.dashboard.addWidgets(
      graph(
        'Lambda errors and throttles',
        functions.flatMap((fn) => [fn.metricErrors(), fn.metricThrottles()]),
        12,
      ),
      graph(
        'Lambda duration p99 (ms)',
        functions.map((fn) => fn.metricDuration({ statistic: 'p99' })),
        12,
      ),
    );
    this.dashboard.addWidgets(
      graph(
        'DynamoDB throttle events',
        tables.flatMap((table) => [
          table.metric('ReadThrottleEvents', { statistic: 'Sum' }),
          table.metric('WriteThrottleEvents', { statistic: 'Sum' }),
        ]),
        12,
      ),
      graph(
        'Failure queues: messages waiting',
        queues.map((queue) => queue.metricApproximateNumberOfMessagesVisible({ statistic: 'Maximum' })),
        12,
      ),
      new cloudwatch.AlarmStatusWidget({ title: 'Alarms', alarms: this.alarms, width: 24, height: 4 }),
    );
  }
}
