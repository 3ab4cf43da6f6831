/**
 * The local runtime's public shapes: the options it boots with, what it writes to
 * `.cuecast/local.json` (docs/protocol.md §6), and the handle a test or the bench holds.
 */
import type { AsyncInvoker } from './async-invoke';
import type { LocalAlarms } from './cloudwatch/alarms';
import type { ServiceMetrics } from './cloudwatch/service-metrics';
import type { CognitoStandIn, LocalHostUser } from './cognito';
import type { LocalDynamoDb } from './dynamodb';
import type { IvsStandIn } from './ivs';
import type { LambdaHost } from './lambda-host';
import type { SecretsManagerStandIn } from './secrets-manager';
import type { LocalSns } from './sns';
import type { SqsStandIn } from './sqs';
import type { UsageMeter } from './usage';
import type { LocalVideo } from './video/local-video';
import type { WebSocketGateway } from './websocket-gateway';

export interface LocalRuntimeOptions {
  /** Project root: where cdk.json and cdk.out live. @default process.cwd() */
  readonly projectDir?: string;
  /** First port; the others follow it. @default 4500 */
  readonly basePort?: number;
  /** Run `cdk synth` first. @default true */
  readonly synth?: boolean;
  /**
   * Synthesize and boot the stack with viewer auth on (`-c viewerAuth=true`, docs/protocol.md §5):
   * viewers need a token from `POST /viewer-token` to connect. @default false
   */
  readonly viewerAuth?: boolean;
  /** The cloud assembly to boot. @default <projectDir>/cdk.out, or cdk.out.viewer-auth with viewerAuth */
  readonly assemblyDir?: string;
  /** Where to write the local configuration. @default <projectDir>/.cuecast/local.json; null writes nothing */
  readonly stateFile?: string | null;
  /** Latency added to every @connections call, in ms. @default 0 */
  readonly managementLatencyMs?: number;
  /** Keep the DynamoDB tables in this directory, so a restart finds them as they were. @default in memory */
  readonly dataDir?: string;
  /** @default 'us-east-1' */
  readonly region?: string;
  /**
   * Publish ffmpeg's test pattern (a clock and a tone) to the local ingest once booted, so there is
   * video without OBS. Needs ffmpeg. @default false
   */
  readonly testStream?: boolean;
  /**
   * Waits before each retry of a failed asynchronous invocation, in ms (the last one repeats).
   * @default Lambda's: about 1 minute, then 2
   */
  readonly asyncRetryDelaysMs?: readonly number[];
  /**
   * Built pages to serve instead of the stack's own (null: none).
   * @default the pages the stack deploys: its BucketDeployment's asset in the assembly
   */
  readonly webDir?: string | null;
  /**
   * How long the temporary credentials of host sign-in last (tests shorten it to watch them
   * expire and be renewed). @default the host role's session length (1 hour)
   */
  readonly hostCredentialsSeconds?: number;
  /**
   * Containers (worker threads) one function may run at once; a further concurrent invocation
   * waits for one to come free. @default 8 (`DEFAULT_CONTAINERS_PER_FUNCTION`)
   */
  readonly containersPerFunction?: number;
  /**
   * The answer grace (seconds a viewer behind in the video may still answer after `closesAt`),
   * instead of the template's. It exists for AWS's video latency; tests shorten it so a quiz
   * does not wait for a delay the local video does not have. @default the template's (8 s for a
   * low-latency channel)
   */
  readonly answerGraceSeconds?: number;
  /**
   * Every alarm's period, in seconds, instead of the template's (5 minutes), so a test sees an
   * alarm fire in seconds. @default the template's period
   */
  readonly alarmPeriodSeconds?: number;
  /** How often the alarms are evaluated, in ms. @default 60000 (CloudWatch evaluates about once a minute) */
  readonly alarmEvaluateEveryMs?: number;
  /**
   * Where the alarm topic's email is delivered: one JSON file per message, in SNS's shape
   * (docs/local-runtime.md). @default <projectDir>/.cuecast/alarm-mail
   */
  readonly alarmOutbox?: string;
  readonly log?: (line: string) => void;
}

/** What `.cuecast/local.json` holds (docs/protocol.md §6). */
export interface LocalConfig {
  readonly httpApiUrl: string;
  readonly webSocketUrl: string;
  readonly managementUrl: string;
  readonly ivsEndpoint: string;
  readonly dynamoDbEndpoint: string;
  readonly lambdaEndpoint: string;
  readonly channelArn: string;
  readonly streamKeyArn?: string;
  /** The local ingest: publish RTMP to `<ingestUrl><streamKey>` (the key `GetStreamKey` returns). */
  readonly ingestUrl: string;
  /** The channel's local `PlaybackUrl`: an HLS live playlist while something publishes. */
  readonly playbackUrl: string;
  /** The SQS stand-in, and the failure queues' URLs (the stack's outputs, resolved locally). */
  readonly sqsEndpoint: string;
  readonly failureQueues: { readonly fanOut?: string; readonly streamState?: string };
  readonly region: string;
  readonly credentials: { readonly accessKeyId: string; readonly secretAccessKey: string };
  /** The viewer page and the host console, when the stack hosts them. */
  readonly viewerUrl?: string;
  readonly hostUrl?: string;
  /** True when viewers need a token from `POST /viewer-token` (docs/protocol.md §5). */
  readonly viewerAuth: boolean;
  readonly secretsManagerEndpoint?: string;
  /**
   * With host sign-in (the stack has it whenever it hosts the pages): the Cognito stand-in, and
   * the one host this boot made, who signs in to the console with these.
   */
  readonly cognitoEndpoint?: string;
  readonly hostUser?: LocalHostUser;
  /** The host user pool's id (the `HostUserPoolId` output), for Cognito's `ListUsers` at `cognitoEndpoint`. */
  readonly hostUserPoolId?: string;
  /** Service Quotas and SNS stand-ins (one port): AWS's default quotas, and the alarm topic's subscriptions. */
  readonly serviceQuotasEndpoint: string;
  readonly snsEndpoint: string;
  /** The topic the alarms notify. */
  readonly alarmTopicArn?: string;
}

export interface LocalRuntime {
  readonly config: LocalConfig;
  readonly ivs: IvsStandIn;
  /** The local ingest's video: sessions, playlists and the cues written into them. */
  readonly video: LocalVideo;
  /** Asynchronous invocations: retries, failure queues, and injected failures (tests). */
  readonly asyncInvoker: AsyncInvoker;
  readonly sqs: SqsStandIn;
  /** With `testStream`: the test pattern's publisher; stopping it ends the broadcast. */
  readonly testStream?: { stop(): Promise<void> };
  readonly webSocket: WebSocketGateway;
  readonly dynamoDb: LocalDynamoDb;
  readonly host: LambdaHost;
  /** What the runtime did, in the units AWS bills (`npm run bench`, P7). */
  readonly usage: UsageMeter;
  /** Present when the template has secrets (viewer auth). */
  readonly secretsManager?: SecretsManagerStandIn;
  /** Present when the template has host sign-in. */
  readonly cognito?: CognitoStandIn;
  /** CloudWatch's metrics of the stack: the functions' EMF lines and what each stand-in observed. */
  readonly metrics: ServiceMetrics;
  /** The template's alarms, evaluated every `alarmEvaluateEveryMs` (`describe()`, `evaluate()`). */
  readonly alarms: LocalAlarms;
  /** The template's topics, which the alarms publish to; email lands in `alarmOutbox`. */
  readonly sns: LocalSns;
  /** The folder the alarm mail is written to, one JSON file per message. */
  readonly alarmOutbox: string;
  stop(): Promise<void>;
}
