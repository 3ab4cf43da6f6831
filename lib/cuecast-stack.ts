import { Aws, Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { ApiGatewayCloudWatchRole } from './constructs/api-gateway-account';
import { ACTIVE_TRACING_CONTEXT, AppFunction } from './constructs/app-function';
import { HostApi, type HostApiProps } from './constructs/host-api';
import { HostSignIn, type HostSignInOptions } from './constructs/host-sign-in';
import { LiveChannel, type LiveChannelProps } from './constructs/live-channel';
import { Operations } from './constructs/operations';
import { RealtimeApi, type RealtimeApiProps } from './constructs/realtime-api';
import { ShowData, type ShowDataProps } from './constructs/show-data';
import { ShowPages } from './constructs/show-pages';
import { ViewerAuth, type ViewerAuthOptions } from './constructs/viewer-auth';
import { requireIvsRegion } from './ivs-regions';

export interface CuecastStackProps extends StackProps {
  /** @default - a STANDARD, LOW-latency channel without recording */
  readonly channel?: LiveChannelProps;
  /** @default - retained tables, 32 tally shards, 30 days of data */
  readonly data?: ShowDataProps;
  /** @default - see HostApiProps */
  readonly hostApi?: Omit<HostApiProps, 'channel' | 'data'>;
  /** @default - see RealtimeApiProps */
  readonly realtimeApi?: Omit<RealtimeApiProps, 'channel' | 'data' | 'connectAuthorizer'>;
  /**
   * Viewer auth (docs/protocol.md §5): `$connect` requires `?token=` from the public
   * `POST /viewer-token`, and the verified viewer id is the identity.
   * @default - off: each connection is its own viewer
   */
  readonly viewerAuth?: ViewerAuthOptions;
  /**
   * X-Ray active tracing on every function. API Gateway's HTTP and WebSocket APIs have no X-Ray
   * tracing (only REST APIs do), so traces start at Lambda.
   * @default false: tracing costs per trace recorded and retrieved
   */
  readonly tracing?: boolean;
  /** An address the alarm topic mails; it must confirm the subscription. @default none */
  readonly alarmEmail?: string;
  /**
   * Set API Gateway's account-level CloudWatch Logs role, which the WebSocket stage's access
   * logs need. It is an account-wide setting (per region) that replaces any role already set,
   * and it is retained when the stack is deleted. Pass false in an account that already has one.
   * @default true: a first deploy succeeds in a fresh account
   */
  readonly apiGatewayCloudWatchRole?: boolean;
  /**
   * Host the viewer page and the host console: a private bucket behind CloudFront, built at synth,
   * with `config.json` written from the stack's own values and the HTTP API's CORS allowing it.
   * @default true
   */
  readonly pages?: boolean;
  /**
   * How hosts sign in to the console the stack hosts (with `pages` on): a Cognito user pool of
   * admin-created hosts and an identity pool whose role may call the host routes only.
   * @default - no MFA; the domain prefix `<stack>-hosts-<account>`
   */
  readonly hostSignIn?: HostSignInOptions;
}

/** The whole show: the IVS channel, the data, the host API and the viewers' WebSocket API. */
export class CuecastStack extends Stack {
  readonly channel: LiveChannel;
  readonly data: ShowData;
  readonly hostApi: HostApi;
  readonly realtimeApi: RealtimeApi;
  readonly viewerAuth?: ViewerAuth;
  readonly operations: Operations;
  readonly apiGatewayCloudWatchRole?: ApiGatewayCloudWatchRole;
  readonly pages?: ShowPages;
  readonly hostSignIn?: HostSignIn;

  constructor(scope: Construct, id: string, props: CuecastStackProps = {}) {
    super(scope, id, props);
    // Read by every AppFunction below; context must be set before the first child exists.
    if (props.tracing) this.node.setContext(ACTIVE_TRACING_CONTEXT, true);
    requireIvsRegion(this);
    this.channel = new LiveChannel(this, 'LiveChannel', props.channel);
    this.data = new ShowData(this, 'Data', props.data);
    this.hostApi = new HostApi(this, 'HostApi', { ...props.hostApi, channel: this.channel, data: this.data });
    this.viewerAuth = props.viewerAuth
      ? new ViewerAuth(this, 'ViewerAuth', { ...props.viewerAuth, httpApi: this.hostApi.httpApi })
      : undefined;
    this.realtimeApi = new RealtimeApi(this, 'RealtimeApi', {
      ...props.realtimeApi,
      connectAuthorizer: this.viewerAuth?.authorizer,
      channel: this.channel,
      data: this.data,
    });
    if (props.apiGatewayCloudWatchRole ?? true) {
      this.apiGatewayCloudWatchRole = new ApiGatewayCloudWatchRole(this, 'ApiGatewayCloudWatchRole');
      // The stage's access logs are refused until the account names a role.
      this.realtimeApi.stage.node.addDependency(this.apiGatewayCloudWatchRole.account);
    }
    if (props.pages ?? true) {
      this.pages = new ShowPages(this, 'Pages', {
        webSocketOrigin: `wss://${this.realtimeApi.webSocketApi.apiId}.execute-api.${Aws.REGION}.${Aws.URL_SUFFIX}`,
      });
      this.hostApi.allowOrigin(this.pages.origin);
      this.hostSignIn = new HostSignIn(this, 'HostSignIn', {
        ...props.hostSignIn,
        hostUrl: this.pages.hostUrl,
        hostApi: this.hostApi,
      });
      // The console fetches tokens from the managed login and credentials from the identity pool.
      for (const origin of this.hostSignIn.connectOrigins) this.pages.allowConnect(origin);
      const config = {
        webSocketUrl: this.realtimeApi.url,
        httpApiUrl: this.hostApi.url,
        playbackUrl: this.channel.playbackUrl,
        region: Aws.REGION,
        ...(this.viewerAuth ? { viewerTokenUrl: `${this.hostApi.url}viewer-token` } : {}),
      };
      this.pages.deploy(config, { ...config, signIn: this.hostSignIn.config });
    }
    // Reveal hands the WebSocket copy of the result to the fan-out function.
    this.realtimeApi.bindDispatcher(this.hostApi.revealQuizFunction);
    const functions = this.node.findAll().filter((c): c is AppFunction => c instanceof AppFunction);
    this.operations = new Operations(this, 'Operations', {
      channel: this.channel,
      data: this.data,
      hostApi: this.hostApi,
      realtimeApi: this.realtimeApi,
      functions,
      authorizer: this.viewerAuth?.authorizeFunction,
      alarmEmail: props.alarmEmail,
    });
  }
}
