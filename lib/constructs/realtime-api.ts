import * as path from 'node:path';
import { CfnOutput, Duration, Stack, Validations } from 'aws-cdk-lib';
import * as apigw from 'aws-cdk-lib/aws-apigatewayv2';
import { WebSocketLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import { SqsDestination } from 'aws-cdk-lib/aws-lambda-destinations';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { type Bounded, FAN_OUT_CONCURRENCY, FAN_OUT_SEGMENTS } from '../../lambda/domain/fan-out-job';
import { ANSWER_FUNCTION_TIMEOUT_SECONDS } from '../../lambda/domain/viewer';
import { ENV } from '../../lambda/env-names';
import { AppFunction } from './app-function';
import { FailureQueue } from './failure-queue';
import type { LiveChannel } from './live-channel';
import type { ShowData } from './show-data';

const HANDLERS = path.join(__dirname, '..', '..', 'lambda', 'handlers');

/**
 * A fan-out job older than this is not retried but sent to the failure queue: a reveal's result
 * is still worth a viewer's screen after a few minutes, but half an hour on it belongs to another
 * part of the show, and `sync` gives any viewer the current state.
 */
const FAN_OUT_MAX_EVENT_AGE = Duration.minutes(30);
/** A stream start or end older than this is stale news: the next event will be current. */
const STREAM_EVENT_MAX_AGE = Duration.minutes(15);

export interface RealtimeApiProps {
  readonly channel: LiveChannel;
  readonly data: ShowData;
  /**
   * Stage-wide throttling of viewer messages (API Gateway's own default is 10,000/s per account).
   * @default { rateLimit: 2000, burstLimit: 5000 }
   */
  readonly throttle?: apigw.ThrottleSettings;
  /** @default logs.RetentionDays.ONE_MONTH */
  readonly accessLogRetention?: logs.RetentionDays;
  /**
   * The most posts in flight at once in each fan-out invocation. Posts go out in bursts, so
   * between half of this and all of it are in flight. On loopback the cost per post is CPU; on
   * AWS it is also a ~10 to 20 ms round trip, and 64 in flight at 20 ms carry about 3,200 posts/s,
   * a little more than one vCPU signs, so the half must stay at 64 or more.
   * @default 128
   */
  readonly fanOutConcurrency?: number;
  /**
   * Scan segments, one asynchronous fan-out invocation each: how a large audience is split.
   * @default 4
   */
  readonly fanOutSegments?: number;
  /** Emit `WebSocketUrl` as a stack output. @default true */
  readonly outputs?: boolean;
  /**
   * Authorizer for `$connect` (viewer auth, see `ViewerAuth`). Its `viewerId` context becomes
   * the identity answers count under.
   * @default - none: viewers are anonymous and each connection is its own viewer
   */
  readonly connectAuthorizer?: apigw.IWebSocketRouteAuthorizer;
}

/**
 * The viewer side of the contract (docs/protocol.md §5): a WebSocket API with `$connect`,
 * `$disconnect`, `$default`, `answer`, `sync` and `ping`; the fan-out function that pushes
 * results and stream changes; and the EventBridge rule for the channel's stream state.
 */
export class RealtimeApi extends Construct {
  readonly webSocketApi: apigw.WebSocketApi;
  readonly stage: apigw.WebSocketStage;
  readonly url: string;
  readonly callbackUrl: string;
  readonly fanOutFunction: AppFunction;
  readonly streamStateFunction: AppFunction;
  readonly streamStateRule: events.Rule;
  readonly fanOutSegments: number;
  /** Fan-out jobs whose asynchronous invocation failed after Lambda's retries. */
  readonly fanOutFailures: FailureQueue;
  /** Stream-state events the rule could not deliver after its retries. */
  readonly streamStateFailures: FailureQueue;
  /** Route key → function. */
  readonly routeFunctions: Readonly<Record<string, AppFunction>>;

  constructor(scope: Construct, id: string, props: RealtimeApiProps) {
    super(scope, id);
    const { channel, data } = props;
    const concurrency = checkBounded('fanOutConcurrency', props.fanOutConcurrency, FAN_OUT_CONCURRENCY);
    this.fanOutSegments = checkBounded('fanOutSegments', props.fanOutSegments, FAN_OUT_SEGMENTS);
    const throttle = props.throttle ?? { rateLimit: 2000, burstLimit: 5000 };
    if ((throttle.rateLimit ?? 1) <= 0 || (throttle.burstLimit ?? 1) <= 0) {
      throw new Error(
        'RealtimeApi: throttle limits must be positive; a zero limit would refuse every message',
      );
    }

    const fn = (name: string, file: string, description: string, timeout?: Duration, memorySize?: number) =>
      new AppFunction(this, name, { entry: path.join(HANDLERS, file), description, timeout, memorySize });

    const connect = fn('Connect', 'ws-connect.ts', 'WebSocket $connect');
    data.bind(connect, { connections: 'write' });
    const disconnect = fn('Disconnect', 'ws-disconnect.ts', 'WebSocket $disconnect');
    data.bind(disconnect, { connections: 'write' });
    const fallback = fn('Default', 'ws-default.ts', 'WebSocket $default');
    // The reveal waits for answers refused at its seal for as long as this function may run.
    const answer = fn(
      'Answer',
      'ws-answer.ts',
      'WebSocket answer',
      Duration.seconds(ANSWER_FUNCTION_TIMEOUT_SECONDS),
    );
    // quizzes: readWrite for a live poll's push window (one conditional write a second at most).
    data.bind(answer, { quizzes: 'readWrite', answers: 'write', tally: 'write', control: 'read' });
    const sync = fn('Sync', 'ws-sync.ts', 'WebSocket sync');
    data.bind(sync, { quizzes: 'read', tally: 'read', control: 'read' });
    const ping = fn('Ping', 'ws-ping.ts', 'WebSocket ping');

    this.webSocketApi = new apigw.WebSocketApi(this, 'Api', {
      description: 'cuecast viewer WebSocket API',
      routeSelectionExpression: '$request.body.action',
      connectRouteOptions: {
        integration: new WebSocketLambdaIntegration('ConnectIntegration', connect),
        authorizer: props.connectAuthorizer,
      },
      disconnectRouteOptions: {
        integration: new WebSocketLambdaIntegration('DisconnectIntegration', disconnect),
      },
      defaultRouteOptions: { integration: new WebSocketLambdaIntegration('DefaultIntegration', fallback) },
    });
    for (const [routeKey, handler] of [
      ['answer', answer],
      ['sync', sync],
      ['ping', ping],
    ] as const) {
      this.webSocketApi.addRoute(routeKey, {
        integration: new WebSocketLambdaIntegration(`${handler.node.id}Integration`, handler),
      });
    }
    const accessLogs = new logs.LogGroup(this, 'AccessLogs', {
      retention: props.accessLogRetention ?? logs.RetentionDays.ONE_MONTH,
    });
    for (const route of this.webSocketApi.node.findAll().filter((c) => c instanceof apigw.WebSocketRoute)) {
      // With viewer auth, $connect is authorized; API Gateway runs authorizers on $connect only.
      if (props.connectAuthorizer && route.routeKey === '$connect') continue;
      Validations.of(route).acknowledge({
        id: 'AwsSolutions-APIG4',
        reason: props.connectAuthorizer
          ? 'API Gateway authorizes a WebSocket once, at $connect; later routes inherit the verified viewer id.'
          : 'Viewers are anonymous by design (docs/protocol.md §5): the connection is the identity, and each route validates its input.',
      });
    }
    this.stage = new apigw.WebSocketStage(this, 'Stage', {
      webSocketApi: this.webSocketApi,
      stageName: 'live',
      autoDeploy: true,
      throttle,
      accessLogSettings: { destination: new apigw.LogGroupLogDestination(accessLogs) },
    });
    this.url = this.stage.url;
    this.callbackUrl = this.stage.callbackUrl;
    this.routeFunctions = {
      $connect: connect,
      $disconnect: disconnect,
      $default: fallback,
      answer,
      sync,
      ping,
    };

    // Each post costs CPU (SigV4 signing, middleware): 1,769 MB is one full vCPU. Five minutes
    // per segment is far more than a segment needs (docs/architecture.md), so a slow API never cuts it short.
    this.fanOutFunction = fn(
      'FanOut',
      'fan-out.ts',
      'Pushes result, graded and stream messages',
      Duration.minutes(5),
      1769,
    );
    data.bind(this.fanOutFunction, {
      quizzes: 'readWrite',
      answers: 'read',
      tally: 'read',
      control: 'read',
      connections: 'readWrite',
    });
    this.fanOutFunction.addEnvironment(ENV.FAN_OUT_CONCURRENCY, String(concurrency));
    // Lambda retries a failed asynchronous invocation twice (after about 1 and 2 minutes); a job
    // still failing, or older than FAN_OUT_MAX_EVENT_AGE, goes to the failure queue with its
    // payload. A redriven job cannot deliver twice: a segment marked finished sends nothing.
    this.fanOutFailures = new FailureQueue(this, 'FanOutFailures', { holds: 'fan-out jobs that failed' });
    this.fanOutFunction.configureAsyncInvoke({
      retryAttempts: 2,
      maxEventAge: FAN_OUT_MAX_EVENT_AGE,
      onFailure: new SqsDestination(this.fanOutFailures.queue),
    });

    for (const poster of [fallback, answer, sync, ping, this.fanOutFunction]) this.bindReplies(poster, data);
    // A live poll's answers schedule its running-count pushes on the fan-out.
    this.bindDispatcher(answer);

    this.streamStateFunction = fn('StreamState', 'stream-state.ts', 'IVS Stream State Change');
    data.bind(this.streamStateFunction, { quizzes: 'read', tally: 'read', control: 'readWrite' });
    this.streamStateFunction.addEnvironment(ENV.CHANNEL_ARN, channel.channelArn);
    this.bindDispatcher(this.streamStateFunction);
    this.streamStateFailures = new FailureQueue(this, 'StreamStateFailures', {
      holds: 'IVS stream-state events the rule could not deliver',
    });
    // EventBridge hands the event to Lambda asynchronously: the rule's dead-letter queue takes
    // what it could not hand over, the function's destination what failed after Lambda's retries.
    this.streamStateFunction.configureAsyncInvoke({
      retryAttempts: 2,
      maxEventAge: STREAM_EVENT_MAX_AGE,
      onFailure: new SqsDestination(this.streamStateFailures.queue),
    });
    this.streamStateRule = new events.Rule(this, 'StreamStateRule', {
      description: 'IVS stream start/end of the cuecast channel',
      eventPattern: {
        source: ['aws.ivs'],
        detailType: ['IVS Stream State Change'],
        resources: [channel.channelArn],
      },
      targets: [
        new targets.LambdaFunction(this.streamStateFunction, {
          retryAttempts: 4,
          maxEventAge: STREAM_EVENT_MAX_AGE,
          deadLetterQueue: this.streamStateFailures.queue,
        }),
      ],
    });

    if (props.outputs ?? true) {
      new CfnOutput(Stack.of(this), 'WebSocketUrl', { value: this.url, description: 'Viewer WebSocket API' });
      new CfnOutput(Stack.of(this), 'FanOutFailuresQueueUrl', {
        value: this.fanOutFailures.queue.queueUrl,
        description: 'Fan-out jobs that failed after their retries (npm run host -- ops failures)',
      });
      new CfnOutput(Stack.of(this), 'StreamStateFailuresQueueUrl', {
        value: this.streamStateFailures.queue.queueUrl,
        description: 'Stream-state events that could not be delivered (npm run host -- ops failures)',
      });
    }
  }

  /**
   * Lets a function post to this stage's connections, tells it the callback URL, and lets it
   * delete a connection record that turned out to be gone.
   */
  bindReplies(fn: lambda.Function, data: ShowData): void {
    data.bind(fn, { connections: 'write' });
    this.stage.grantManagementApiAccess(fn);
    fn.addEnvironment(ENV.CALLBACK_URL, this.callbackUrl);
    // The finding sits on the role's policy, which AppFunction creates beside the function.
    Validations.of(fn.role ?? fn).acknowledge({
      id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:execute-api:<AWS::Region>:<AWS::AccountId>:<${Stack.of(this).getLogicalId(this.webSocketApi.node.defaultChild as apigw.CfnApi)}>/${this.stage.stageName}/*/@connections/*]`,
      reason:
        'Connection ids are only known at run time; the grant is limited to the @connections of this API and stage.',
    });
  }

  /** Lets a function start a broadcast: invoke the fan-out function, once per segment. */
  bindDispatcher(fn: lambda.Function): void {
    // The exact function ARN: grantInvoke would also allow every version and alias (`arn:*`).
    iam.Grant.addToPrincipal({
      grantee: fn,
      actions: ['lambda:InvokeFunction'],
      resourceArns: [this.fanOutFunction.functionArn],
    });
    fn.addEnvironment(ENV.FAN_OUT_FUNCTION, this.fanOutFunction.functionName);
    fn.addEnvironment(ENV.FAN_OUT_SEGMENTS, String(this.fanOutSegments));
  }
}

/** A prop within its setting's bounds, or its default; anything else is refused at synth. */
function checkBounded(name: string, value: number | undefined, setting: Bounded): number {
  const chosen = value ?? setting.default;
  if (!Number.isInteger(chosen) || chosen < setting.min || chosen > setting.max) {
    throw new Error(
      `RealtimeApi: ${name} must be an integer from ${setting.min} to ${setting.max}, got ${chosen}`,
    );
  }
  return chosen;
}
