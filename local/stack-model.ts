import * as fs from 'node:fs';
import * as path from 'node:path';
import type { CfnResource, CloudAssembly } from './assembly';
import { type AsyncInvokeConfig, LAMBDA_ASYNC_DEFAULTS } from './async-invoke';
import { type OperationsModel, readOperations } from './cloudwatch/operations-model';
import type { TemplateTable } from './dynamodb';
import { type LocalRule, loadRules } from './eventbridge';
import { type HostSignInSpec, readHostSignIn } from './host-sign-in-model';
import { IntrinsicResolver, localIdentities } from './intrinsics';
import type { LocalFunction } from './lambda-host';
import { type PagesDeployment, readPagesDeployment } from './pages-asset';
import type { LocalSecret } from './secrets-manager';
import type { LocalQueue } from './sqs';
import { type StageThrottleSettings, stageThrottleOf } from './stage-throttle';

/** The account every local ARN carries. */
export const LOCAL_ACCOUNT_ID = '000000000000';

/** Where the local services listen, which the template's own values must point to. */
export interface LocalPlacement {
  readonly region: string;
  /** Base of the HTTP API's invoke URL, e.g. `http://127.0.0.1:4500`. */
  readonly httpApiBase: string;
  /** Base of the WebSocket API, e.g. `ws://127.0.0.1:4501`; its @connections API is `http://` there. */
  readonly webSocketBase: string;
  /** Base of the SQS stand-in, e.g. `http://127.0.0.1:4508`. */
  readonly sqsBase: string;
  /** What a channel's `PlaybackUrl` resolves to, from the id at the end of its ARN. */
  readonly playbackUrl: (channelId: string) => string;
  /** `host:port` of the local pages server: the CloudFront distribution's domain name. */
  readonly pagesHost: string;
  /** Base of the Cognito stand-in: the managed login's domain and the identity pool's endpoint. */
  readonly cognitoBase: string;
  /** AWS settings every function gets (region, credentials, service endpoints). */
  readonly functionEnv: Readonly<Record<string, string>>;
}

/** A route of an API: its key and the ARN of the function its integration calls. */
export interface RouteSpec {
  readonly routeKey: string;
  readonly functionArn: string;
  /** `NONE` or `AWS_IAM`. */
  readonly authorizationType: string;
}

export interface HttpApiSpec {
  readonly apiId: string;
  readonly routes: readonly RouteSpec[];
  readonly corsAllowOrigins: readonly string[];
  readonly throttle?: StageThrottleSettings;
}

export interface WebSocketApiSpec {
  readonly apiId: string;
  readonly stage: string;
  readonly routeSelectionExpression: string;
  readonly routes: readonly RouteSpec[];
  /** The `$connect` route's Lambda REQUEST authorizer, if the template has one. */
  readonly connectAuthorizer?: {
    readonly functionArn: string;
    readonly identitySource: readonly string[];
    readonly methodArn: string;
  };
  readonly throttle?: StageThrottleSettings;
}

export interface ChannelSpec {
  readonly arn: string;
  readonly name: string;
  /** Its `PlaybackUrl`, resolved to the local playlist. */
  readonly playbackUrl: string;
  readonly streamKeyArn?: string;
  /** `STANDARD`, `BASIC`, `ADVANCED_SD` or `ADVANCED_HD`, as the template sets it. */
  readonly type: string;
  /** `LOW` or `NORMAL`. */
  readonly latencyMode: string;
}

/**
 * The stack as the local runtime boots it, read from the cloud assembly with every intrinsic
 * resolved to its local value. Reading it starts nothing, so a template the runtime cannot boot
 * is refused here, before any port is taken.
 */
export interface StackModel {
  readonly stackName: string;
  readonly functions: readonly LocalFunction[];
  readonly tables: readonly TemplateTable[];
  readonly rules: readonly LocalRule[];
  readonly channels: readonly ChannelSpec[];
  readonly secrets: readonly LocalSecret[];
  readonly queues: readonly LocalQueue[];
  /** Each function's asynchronous invocation config (retries, age, failure queue), by ARN. */
  readonly asyncInvokeConfigs: ReadonlyMap<string, AsyncInvokeConfig>;
  /** The stack's outputs, resolved to their local values. */
  readonly outputs: Readonly<Record<string, string>>;
  readonly httpApi: HttpApiSpec;
  readonly webSocketApi: WebSocketApiSpec;
  /** The pages the stack deploys, when it hosts them. */
  readonly pages?: PagesDeployment;
  /** How hosts sign in, when the stack has host sign-in. */
  readonly hostSignIn?: HostSignInSpec;
  /** The alarms, their topics and the dashboards' metrics (local/cloudwatch/operations-model.ts). */
  readonly operations: OperationsModel;
}

type Entry = [logicalId: string, resource: CfnResource];

const LAMBDA_ARN = /arn:aws:lambda:[^/]+/;
const refOf = (value: unknown): string | undefined => (value as { Ref?: string } | undefined)?.Ref;

export function readStackModel(assembly: CloudAssembly, placement: LocalPlacement): StackModel {
  const { stackName, template } = assembly.stack();
  const resources = template.Resources;
  const ofType = (type: string): Entry[] => Object.entries(resources).filter(([, r]) => r.Type === type);
  const { region } = placement;
  const pseudo = { region, accountId: LOCAL_ACCOUNT_ID, stackName };
  const apiProtocol = (id: string) => String(resources[id]?.Properties?.ProtocolType);
  const resolver = new IntrinsicResolver(
    pseudo,
    localIdentities(resources, pseudo, {
      apiBaseUrl: (_id, protocol) =>
        protocol === 'WEBSOCKET' ? placement.webSocketBase : placement.httpApiBase,
      ingestHost: '127.0.0.1',
      sqsBase: placement.sqsBase,
      playbackUrl: placement.playbackUrl,
      pagesHost: placement.pagesHost,
    }),
  );

  // Execute-api hostnames in the template (e.g. a WebSocket stage's callback URL, or the pages'
  // config) point to loopback.
  const apiHosts = ofType('AWS::ApiGatewayV2::Api').flatMap(([id]) => {
    const host = `${resolver.resolveString({ Ref: id })}.execute-api.${region}.amazonaws.com`;
    return apiProtocol(id) === 'WEBSOCKET'
      ? [
          { prefix: `https://${host}`, local: placement.webSocketBase.replace(/^ws/, 'http') },
          { prefix: `wss://${host}`, local: placement.webSocketBase },
        ]
      : [{ prefix: `https://${host}`, local: placement.httpApiBase }];
  });
  // The distribution is the plain-HTTP pages server; Cognito's two hosts are its stand-in.
  apiHosts.push({ prefix: `https://${placement.pagesHost}`, local: `http://${placement.pagesHost}` });
  const cognitoHosts = new RegExp(
    `https://([a-z0-9*-]+\\.auth\\.${region}\\.amazoncognito\\.com|cognito-identity\\.${region}\\.amazonaws\\.com)`,
    'g',
  );
  const toLocal = (value: string) =>
    apiHosts
      .reduce((v, h) => v.split(h.prefix).join(h.local), value)
      .replace(cognitoHosts, placement.cognitoBase);

  // Node.js functions only: the others are CDK's deploy-time helpers (the pages deployment's
  // Python handler), whose work the local runtime does itself (it serves the pages' assets).
  const functions = ofType('AWS::Lambda::Function')
    .filter(([, r]) => String(r.Properties?.Runtime ?? 'nodejs').startsWith('nodejs'))
    .map(([id, resource]) => localFunction(id, resource, assembly, resolver, toLocal, placement.functionEnv));
  const functionArns = new Set(functions.map((fn) => fn.arn));
  /** The ARN of the stack's function that a URI (integration, authorizer) invokes, or an error naming `what`. */
  const functionArnIn = (uri: string, what: string): string => {
    const arn = LAMBDA_ARN.exec(uri)?.[0];
    if (!arn || !functionArns.has(arn)) throw new Error(`${what} is not a Lambda function of this stack`);
    return arn;
  };

  const routesOf = (apiLogicalId: string): RouteSpec[] =>
    ofType('AWS::ApiGatewayV2::Route')
      .filter(([, r]) => refOf(r.Properties?.ApiId) === apiLogicalId)
      .map(([, r]) => {
        const props = r.Properties ?? {};
        // An integration's Ref is its logical id, so `integrations/<Ref>` names the resource.
        const integrationId = /^integrations\/(.+)$/.exec(resolver.resolveString(props.Target))?.[1] ?? '';
        const integration = resources[integrationId];
        const uri =
          integration?.Type === 'AWS::ApiGatewayV2::Integration'
            ? resolver.resolveString(integration.Properties?.IntegrationUri)
            : '';
        return {
          routeKey: String(props.RouteKey),
          functionArn: functionArnIn(uri, `route target ${integrationId}`),
          authorizationType: String(props.AuthorizationType ?? 'NONE'),
        };
      });

  const [httpApi] = ofType('AWS::ApiGatewayV2::Api').filter(([id]) => apiProtocol(id) === 'HTTP');
  const [wsApi] = ofType('AWS::ApiGatewayV2::Api').filter(([id]) => apiProtocol(id) === 'WEBSOCKET');
  if (!httpApi || !wsApi) throw new Error('the template needs one HTTP API and one WebSocket API');

  const cors = resolver.resolve(httpApi[1].Properties?.CorsConfiguration) as
    | { AllowOrigins?: string[] }
    | undefined;
  const wsApiId = resolver.resolveString({ Ref: wsApi[0] });
  const wsStage = ofType('AWS::ApiGatewayV2::Stage').find(([, s]) => refOf(s.Properties?.ApiId) === wsApi[0]);
  const wsStageName = String(wsStage?.[1].Properties?.StageName ?? 'live');

  const channels = ofType('AWS::IVS::Channel').map(([id, r]): ChannelSpec => {
    const arn = resolver.resolveString({ Ref: id });
    const key = ofType('AWS::IVS::StreamKey').find(
      ([, k]) => resolver.resolve(k.Properties?.ChannelArn) === arn,
    );
    return {
      arn,
      name: String(r.Properties?.Name ?? id),
      playbackUrl: resolver.resolveString({ 'Fn::GetAtt': [id, 'PlaybackUrl'] }),
      streamKeyArn: key ? resolver.resolveString({ Ref: key[0] }) : undefined,
      // IVS's own defaults when the template leaves them out.
      type: String(r.Properties?.Type ?? 'STANDARD'),
      latencyMode: String(r.Properties?.LatencyMode ?? 'LOW'),
    };
  });
  if (channels.length === 0) throw new Error('the template has no AWS::IVS::Channel');

  return {
    stackName,
    functions,
    tables: ofType('AWS::DynamoDB::Table').map(([id, r]) => ({
      ...(resolver.resolve(r.Properties) as Omit<TemplateTable, 'name'>),
      name: resolver.resolveString({ Ref: id }),
    })),
    rules: loadRules(resources, resolver),
    channels,
    queues: ofType('AWS::SQS::Queue').map(([id]) => ({
      name: resolver.resolveString({ 'Fn::GetAtt': [id, 'QueueName'] }),
      arn: resolver.resolveString({ 'Fn::GetAtt': [id, 'Arn'] }),
      url: resolver.resolveString({ Ref: id }),
    })),
    asyncInvokeConfigs: new Map(
      ofType('AWS::Lambda::EventInvokeConfig').map(([, r]): [string, AsyncInvokeConfig] => {
        const props = r.Properties ?? {};
        const name = resolver.resolveString(props.FunctionName);
        const fn = functions.find((f) => f.name === name);
        if (!fn) throw new Error(`an EventInvokeConfig names ${name}, which is not a function of this stack`);
        const onFailure = (props.DestinationConfig as { OnFailure?: { Destination?: unknown } } | undefined)
          ?.OnFailure;
        return [
          fn.arn,
          {
            maxRetries: Number(props.MaximumRetryAttempts ?? LAMBDA_ASYNC_DEFAULTS.maxRetries),
            maxEventAgeSeconds: Number(
              props.MaximumEventAgeInSeconds ?? LAMBDA_ASYNC_DEFAULTS.maxEventAgeSeconds,
            ),
            onFailureArn: onFailure?.Destination ? resolver.resolveString(onFailure.Destination) : undefined,
          },
        ];
      }),
    ),
    pages: readPagesDeployment(assembly.dir, resources, resolver, toLocal),
    hostSignIn: readHostSignIn(resources, resolver, toLocal),
    operations: readOperations(resources, (value) => resolver.resolve(value)),
    outputs: Object.fromEntries(
      Object.entries(template.Outputs ?? {}).flatMap(([key, output]) => {
        try {
          return [[key, resolver.resolveString(output.Value)]];
        } catch {
          return []; // An output the local runtime cannot resolve is left out.
        }
      }),
    ),
    secrets: ofType('AWS::SecretsManager::Secret').map(([id, r]) => {
      const arn = resolver.resolveString({ Ref: id });
      return {
        arn,
        name: /:secret:(.+)-[^-]+$/.exec(arn)?.[1] ?? id,
        generate: r.Properties?.GenerateSecretString as LocalSecret['generate'],
      };
    }),
    httpApi: {
      apiId: resolver.resolveString({ Ref: httpApi[0] }),
      routes: routesOf(httpApi[0]),
      corsAllowOrigins: cors?.AllowOrigins ?? [],
      throttle: stageThrottleOf(resources, httpApi[0]),
    },
    webSocketApi: {
      apiId: wsApiId,
      stage: wsStageName,
      routeSelectionExpression: String(
        wsApi[1].Properties?.RouteSelectionExpression ?? '$request.body.action',
      ),
      routes: routesOf(wsApi[0]),
      connectAuthorizer: connectAuthorizerOf(wsApi[0], `${wsApiId}/${wsStageName}`),
      throttle: stageThrottleOf(resources, wsApi[0]),
    },
  };

  /** The `$connect` route's Lambda REQUEST authorizer, if the template puts one there. */
  function connectAuthorizerOf(
    apiLogicalId: string,
    apiStage: string,
  ): WebSocketApiSpec['connectAuthorizer'] {
    const connect = ofType('AWS::ApiGatewayV2::Route').find(
      ([, r]) => refOf(r.Properties?.ApiId) === apiLogicalId && r.Properties?.RouteKey === '$connect',
    );
    const authorizerId = refOf(connect?.[1].Properties?.AuthorizerId);
    if (!authorizerId) return undefined;
    const authorizer = resources[authorizerId];
    if (
      authorizer?.Type !== 'AWS::ApiGatewayV2::Authorizer' ||
      authorizer.Properties?.AuthorizerType !== 'REQUEST'
    ) {
      throw new Error(`$connect authorizer ${authorizerId} is not a Lambda REQUEST authorizer`);
    }
    return {
      functionArn: functionArnIn(
        resolver.resolveString(authorizer.Properties?.AuthorizerUri),
        `$connect authorizer ${authorizerId}`,
      ),
      identitySource: (authorizer.Properties?.IdentitySource as string[] | undefined) ?? [],
      methodArn: `arn:aws:execute-api:${region}:${LOCAL_ACCOUNT_ID}:${apiStage}/$connect`,
    };
  }
}

/** A function of the template, runnable from its bundled asset with its resolved environment. */
function localFunction(
  id: string,
  resource: CfnResource,
  assembly: CloudAssembly,
  resolver: IntrinsicResolver,
  toLocal: (value: string) => string,
  awsEnv: Readonly<Record<string, string>>,
): LocalFunction {
  const props = resource.Properties ?? {};
  const [file, handlerName] = String(props.Handler ?? 'index.handler').split(/\.(?=[^.]+$)/);
  const dir = assembly.functionAssetDir(resource);
  const entry = ['.mjs', '.js', '.cjs']
    .map((ext) => path.join(dir, `${file}${ext}`))
    .find((f) => fs.existsSync(f));
  if (!entry) throw new Error(`${id}: no ${file}.mjs or ${file}.js in ${dir}`);
  const variables = (resolver.resolve((props.Environment as { Variables?: unknown })?.Variables) ??
    {}) as Record<string, unknown>;
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(variables)) env[name] = toLocal(String(value));
  const name = resolver.resolveString({ Ref: id });
  return {
    logicalId: id,
    name,
    arn: resolver.resolveString({ 'Fn::GetAtt': [id, 'Arn'] }),
    entry,
    handlerName,
    timeoutMs: Number(props.Timeout ?? 3) * 1000,
    memorySize: Number(props.MemorySize ?? 128),
    env: {
      PATH: process.env.PATH ?? '',
      TZ: 'UTC',
      AWS_LAMBDA_FUNCTION_NAME: name,
      AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(props.MemorySize ?? 128),
      AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
      ...env,
      ...awsEnv,
    },
  };
}
