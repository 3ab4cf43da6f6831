import * as path from 'node:path';
import { CfnOutput, Lazy, Stack, Validations } from 'aws-cdk-lib';
import * as apigw from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpIamAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { DEFAULT_GRACE_SECONDS, MAX_GRACE_SECONDS } from '../../lambda/domain/quiz';
import { ENV } from '../../lambda/env-names';
import { AppFunction } from './app-function';
import type { LiveChannel } from './live-channel';
import type { ShowData } from './show-data';

const HANDLERS = path.join(__dirname, '..', '..', 'lambda', 'handlers');

export interface HostApiProps {
  readonly channel: LiveChannel;
  readonly data: ShowData;
  /**
   * Stage-wide throttling. The host routes are for a handful of operators; `GET /state` is
   * hit by late joiners, so the burst allows a crowd reconnecting at once.
   * @default { rateLimit: 200, burstLimit: 400 }
   */
  readonly throttle?: apigw.ThrottleSettings;
  /** @default logs.RetentionDays.ONE_MONTH */
  readonly accessLogRetention?: logs.RetentionDays;
  /**
   * Origins a browser may call the API from (the host console). Empty means no CORS.
   * @default []
   */
  readonly corsAllowOrigins?: string[];
  /** Emit `HttpApiUrl` as a stack output. @default true */
  readonly outputs?: boolean;
  /**
   * Seconds after a quiz's `closesAt` that answers are still taken, so a viewer who sees the
   * question later in the video still has its whole duration (docs/protocol.md §3.3). A reveal
   * before the grace is over is refused unless forced. 0 to 60.
   * @default 8 for a LOW-latency channel, 20 for a NORMAL one
   */
  readonly answerGraceSeconds?: number;
}

/**
 * The host side of the contract (docs/protocol.md §3): an HTTP API whose host routes require IAM
 * (SigV4) and whose `GET /state` is public, one thin function per route.
 */
export class HostApi extends Construct {
  readonly httpApi: apigw.HttpApi;
  readonly stage: apigw.HttpStage;
  readonly url: string;
  /** Origins whose pages may call the API from a browser (CORS). */
  private readonly corsOrigins: string[];
  /** The routes that require IAM (SigV4): what a host may call. */
  private readonly hostRoutes: Array<{ method: string; path: string }> = [];
  readonly createQuizFunction: AppFunction;
  readonly revealQuizFunction: AppFunction;
  readonly getQuizFunction: AppFunction;
  readonly sendEventFunction: AppFunction;
  readonly getStateFunction: AppFunction;
  readonly getShowFunction: AppFunction;

  constructor(scope: Construct, id: string, props: HostApiProps) {
    super(scope, id);
    const { channel, data } = props;
    const throttle = props.throttle ?? { rateLimit: 200, burstLimit: 400 };
    if ((throttle.rateLimit ?? 1) <= 0 || (throttle.burstLimit ?? 1) <= 0) {
      throw new Error('HostApi: throttle limits must be positive; a zero limit would refuse every request');
    }

    const answerGraceSeconds = props.answerGraceSeconds ?? DEFAULT_GRACE_SECONDS[channel.latencyMode];
    if (
      !Number.isInteger(answerGraceSeconds) ||
      answerGraceSeconds < 0 ||
      answerGraceSeconds > MAX_GRACE_SECONDS
    ) {
      throw new Error(`HostApi: answerGraceSeconds must be a whole number from 0 to ${MAX_GRACE_SECONDS}`);
    }

    this.corsOrigins = [...(props.corsAllowOrigins ?? [])];
    this.httpApi = new apigw.HttpApi(this, 'Api', {
      description: 'cuecast host API',
      createDefaultStage: false,
    });
    // Rendered at synth, so origins known only later (the pages' distribution) can join.
    (this.httpApi.node.defaultChild as apigw.CfnApi).corsConfiguration = Lazy.any({
      produce: () =>
        this.corsOrigins.length === 0
          ? undefined
          : {
              allowOrigins: this.corsOrigins,
              allowMethods: ['GET', 'POST'],
              allowHeaders: [
                'content-type',
                'authorization',
                'x-amz-date',
                'x-amz-security-token',
                'x-amz-content-sha256',
              ],
              exposeHeaders: ['retry-after'],
            },
    });
    // HTTP APIs deliver access logs as vended logs: a group under /aws/vendedlogs/ is covered by
    // CloudWatch Logs' wildcard, where any other would be added to the account's one resource
    // policy (5,120 characters) on each deploy. The group is kept when the stack goes, so its name
    // carries the API's id: a later deploy (a new API) never finds it taken.
    const accessLogs = new logs.LogGroup(this, 'AccessLogs', {
      logGroupName: `/aws/vendedlogs/apigateway/http/${this.httpApi.apiId}/access`,
      retention: props.accessLogRetention ?? logs.RetentionDays.ONE_MONTH,
    });
    this.stage = new apigw.HttpStage(this, 'Stage', {
      httpApi: this.httpApi,
      stageName: '$default',
      autoDeploy: true,
      throttle,
      accessLogSettings: { destination: new apigw.LogGroupLogDestination(accessLogs) },
    });
    this.url = this.stage.url;

    const fn = (name: string, file: string, description: string) =>
      new AppFunction(this, name, { entry: path.join(HANDLERS, file), description });

    this.createQuizFunction = fn('CreateQuiz', 'create-quiz.ts', 'POST /quizzes');
    data.bind(this.createQuizFunction, { quizzes: 'readWrite', tally: 'read', control: 'readWrite' });
    channel.bindPublisher(this.createQuizFunction);
    this.createQuizFunction.addEnvironment(ENV.ANSWER_GRACE_SECONDS, String(answerGraceSeconds));

    this.revealQuizFunction = fn('RevealQuiz', 'reveal-quiz.ts', 'POST /quizzes/{quizId}/reveal');
    // The reveal seals the tally shards (one write each) as it fixes the figures.
    data.bind(this.revealQuizFunction, { quizzes: 'readWrite', tally: 'readWrite', control: 'readWrite' });
    channel.bindPublisher(this.revealQuizFunction);

    this.getQuizFunction = fn('GetQuiz', 'get-quiz.ts', 'GET /quizzes/{quizId}');
    data.bind(this.getQuizFunction, { quizzes: 'read', tally: 'read', control: 'read' });

    this.sendEventFunction = fn('SendEvent', 'send-event.ts', 'POST /events');
    data.bind(this.sendEventFunction, { control: 'readWrite' });
    channel.bindPublisher(this.sendEventFunction);

    this.getShowFunction = fn('GetShow', 'get-show.ts', 'GET /show');
    data.bind(this.getShowFunction, { quizzes: 'read', tally: 'read', control: 'read' });
    channel.bindStreamReader(this.getShowFunction);

    this.getStateFunction = fn('GetState', 'get-state.ts', 'GET /state');
    data.bind(this.getStateFunction, { quizzes: 'read', tally: 'read', control: 'read' });

    const iamAuth = new HttpIamAuthorizer();
    const route = (
      routePath: string,
      method: apigw.HttpMethod,
      handler: AppFunction,
      authorizer: apigw.IHttpRouteAuthorizer,
    ) => {
      if (authorizer === iamAuth) this.hostRoutes.push({ method, path: routePath });
      return this.httpApi.addRoutes({
        path: routePath,
        methods: [method],
        integration: new HttpLambdaIntegration(`${handler.node.id}Integration`, handler),
        authorizer,
      });
    };

    route('/quizzes', apigw.HttpMethod.POST, this.createQuizFunction, iamAuth);
    route('/quizzes/{quizId}/reveal', apigw.HttpMethod.POST, this.revealQuizFunction, iamAuth);
    route('/quizzes/{quizId}', apigw.HttpMethod.GET, this.getQuizFunction, iamAuth);
    route('/events', apigw.HttpMethod.POST, this.sendEventFunction, iamAuth);
    route('/show', apigw.HttpMethod.GET, this.getShowFunction, iamAuth);
    const [stateRoute] = route(
      '/state',
      apigw.HttpMethod.GET,
      this.getStateFunction,
      new apigw.HttpNoneAuthorizer(),
    );
    Validations.of(stateRoute).acknowledge({
      id: 'AwsSolutions-APIG4',
      reason:
        'GET /state is public by design (docs/protocol.md §3): late joiners read the current quiz; it never carries the answer before reveal.',
    });

    if (props.outputs ?? true) {
      new CfnOutput(Stack.of(this), 'HttpApiUrl', {
        value: this.url,
        description: 'Host API (SigV4) and GET /state',
      });
    }
  }

  /**
   * Lets `grantee` call exactly the host routes (those that require IAM) and nothing else: one
   * `execute-api:Invoke` on each route's ARN in this API's stage. A path parameter (`{quizId}`)
   * is `*` there, as ARNs name the request's path.
   */
  grantHostAccess(grantee: iam.IGrantable): iam.Grant {
    const resourceArns = this.hostRoutes.map(({ method, path: routePath }) =>
      Stack.of(this).formatArn({
        service: 'execute-api',
        resource: this.httpApi.apiId,
        resourceName: `${this.stage.stageName}/${method}${routePath.replace(/\{[^}]+\}/g, '*')}`,
      }),
    );
    const apiLogicalId = Stack.of(this).getLogicalId(this.httpApi.node.defaultChild as apigw.CfnApi);
    for (const { method, path: routePath } of this.hostRoutes.filter((r) => r.path.includes('{'))) {
      const pattern = `${this.stage.stageName}/${method}${routePath.replace(/\{[^}]+\}/g, '*')}`;
      Validations.of(grantee.grantPrincipal instanceof iam.Role ? grantee.grantPrincipal : this).acknowledge({
        id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:execute-api:<AWS::Region>:<AWS::AccountId>:<${apiLogicalId}>/${pattern}]`,
        reason: `The route ${method} ${routePath}: a quiz id is known only at run time, and the pattern matches exactly that route.`,
      });
    }
    return iam.Grant.addToPrincipal({ grantee, actions: ['execute-api:Invoke'], resourceArns });
  }

  /** Lets pages served from `origin` (`https://host`) call the API from a browser. */
  allowOrigin(origin: string): void {
    this.corsOrigins.push(origin);
  }
}
