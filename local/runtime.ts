import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { PageConfig } from '../web/src/config';
import { type CfnResource, CloudAssembly } from './assembly';
import { LocalDynamoDb } from './dynamodb';
import { loadRules, matches } from './eventbridge';
import { compileRoute, HttpGateway, type HttpRoute } from './http-gateway';
import { IntrinsicResolver, localIdentities } from './intrinsics';
import { type IvsChannel, IvsStandIn, newStreamKeyValue, streamStateEvent } from './ivs';
import { LambdaApi } from './lambda-api';
import { LambdaHost, type LocalFunction } from './lambda-host';
import { PagesServer } from './pages';
import { type LocalSecret, SecretsManagerStandIn } from './secrets-manager';
import { stageThrottleOf } from './stage-throttle';
import { type ConnectAuthorizer, WebSocketGateway } from './websocket-gateway';

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
  /** Built pages to serve (Vite's output). @default <projectDir>/web/dist, if it exists */
  readonly webDir?: string | null;
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
  readonly region: string;
  readonly credentials: { readonly accessKeyId: string; readonly secretAccessKey: string };
  /** The viewer page and the host console, when web/dist was built. */
  readonly viewerUrl?: string;
  readonly hostUrl?: string;
  /** True when viewers need a token from `POST /viewer-token` (docs/protocol.md §5). */
  readonly viewerAuth: boolean;
  readonly secretsManagerEndpoint?: string;
}

export interface LocalRuntime {
  readonly config: LocalConfig;
  readonly ivs: IvsStandIn;
  readonly webSocket: WebSocketGateway;
  readonly dynamoDb: LocalDynamoDb;
  readonly host: LambdaHost;
  /** Present when the template has secrets (viewer auth). */
  readonly secretsManager?: SecretsManagerStandIn;
  stop(): Promise<void>;
}

const ACCOUNT_ID = '000000000000';

/** Where a synthesized assembly lives: cdk.out, or its own folder for the viewer-auth variant. */
export function assemblyDirFor(projectDir: string, viewerAuth = false): string {
  return path.join(projectDir, viewerAuth ? 'cdk.out.viewer-auth' : 'cdk.out');
}

/**
 * Runs `cdk synth` and returns its output if it fails, so the caller can say why. With
 * `viewerAuth` it synthesizes the variant with viewer auth on into its own folder.
 */
export function synthesize(
  projectDir: string,
  { viewerAuth = false }: { viewerAuth?: boolean } = {},
): Promise<void> {
  const args = viewerAuth ? ['-c', 'viewerAuth=true', '-o', assemblyDirFor(projectDir, true)] : [];
  return new Promise((resolve, reject) => {
    // The pinned CLI from our own node_modules: never a download, never another version.
    const cdk = require.resolve('aws-cdk/bin/cdk');
    const child = spawn(process.execPath, [cdk, 'synth', '--quiet', ...args], {
      cwd: projectDir,
      env: { ...process.env, CDK_DISABLE_CLI_TELEMETRY: 'true' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    child.on('error', (error) => reject(new Error(`cdk synth could not start: ${error.message}`)));
    child.on('close', (code) => {
      if (code === 0) return resolve();
      const lines = output.split('\n').filter((l) => l.trim() && !/nodedir|^npm warn/.test(l));
      reject(new Error(`cdk synth failed (exit ${code}):\n${lines.slice(-15).join('\n')}`));
    });
  });
}

/**
 * Boots the synthesized stack on 127.0.0.1 with no AWS account: the template's functions run
 * from their bundled assets and reach DynamoDB (dynalite), IVS, Lambda and the @connections
 * API through the SDK's usual endpoint settings.
 */
export async function startLocalRuntime(options: LocalRuntimeOptions = {}): Promise<LocalRuntime> {
  const projectDir = options.projectDir ?? process.cwd();
  const basePort = options.basePort ?? 4500;
  const region = options.region ?? 'us-east-1';
  const log = options.log ?? ((line: string) => console.log(line));
  const ports = {
    http: basePort,
    ws: basePort + 1,
    ivs: basePort + 2,
    dynamodb: basePort + 3,
    lambda: basePort + 4,
    pages: basePort + 5,
    secretsManager: basePort + 6,
  };
  const webDir = options.webDir === undefined ? path.join(projectDir, 'web', 'dist') : options.webDir;
  const servePages = webDir !== null && fs.existsSync(path.join(webDir, 'index.html'));
  const pagesOrigin = `http://127.0.0.1:${ports.pages}`;

  const viewerAuth = options.viewerAuth ?? false;
  if (options.synth ?? true) await synthesize(projectDir, { viewerAuth });
  const assembly = new CloudAssembly(options.assemblyDir ?? assemblyDirFor(projectDir, viewerAuth));
  const { stackName, template } = assembly.stack();
  const resources = template.Resources;
  const ofType = (type: string) => Object.entries(resources).filter(([, r]) => r.Type === type);

  const credentials = {
    accessKeyId: `LOCAL${randomBytes(8).toString('hex').toUpperCase()}`,
    secretAccessKey: randomBytes(24).toString('base64url'),
  };
  // Every stand-in checks SigV4 against this one identity, as each AWS service does.
  const signing = { region, credentials };
  const pseudo = { region, accountId: ACCOUNT_ID, stackName };
  const apiProtocol = (id: string) => String(resources[id]?.Properties?.ProtocolType);
  const identities = localIdentities(resources, pseudo, {
    apiBaseUrl: (_id, protocol) =>
      protocol === 'WEBSOCKET' ? `ws://127.0.0.1:${ports.ws}` : `http://127.0.0.1:${ports.http}`,
    ingestHost: '127.0.0.1',
    playbackUrl: `http://127.0.0.1:${ports.ivs}/_local/playback`,
  });
  const resolver = new IntrinsicResolver(pseudo, identities);

  // Execute-api hostnames in the template (e.g. a WebSocket stage's callback URL) point to loopback.
  const apiHosts = ofType('AWS::ApiGatewayV2::Api').map(([id]) => ({
    prefix: `https://${resolver.resolveString({ Ref: id })}.execute-api.${region}.amazonaws.com`,
    local:
      apiProtocol(id) === 'WEBSOCKET' ? `http://127.0.0.1:${ports.ws}` : `http://127.0.0.1:${ports.http}`,
  }));
  const toLocal = (value: string) => apiHosts.reduce((v, h) => v.split(h.prefix).join(h.local), value);

  const functions = new Map<string, LocalFunction>();
  for (const [id, resource] of ofType('AWS::Lambda::Function')) {
    functions.set(
      id,
      localFunction(id, resource, assembly, resolver, toLocal, {
        AWS_REGION: region,
        AWS_DEFAULT_REGION: region,
        AWS_ACCESS_KEY_ID: credentials.accessKeyId,
        AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
        AWS_ENDPOINT_URL_DYNAMODB: `http://127.0.0.1:${ports.dynamodb}`,
        AWS_ENDPOINT_URL_IVS: `http://127.0.0.1:${ports.ivs}`,
        AWS_ENDPOINT_URL_LAMBDA: `http://127.0.0.1:${ports.lambda}`,
        AWS_ENDPOINT_URL_SECRETS_MANAGER: `http://127.0.0.1:${ports.secretsManager}`,
        // The bundles target Lambda's Node 24; this machine may run an older Node.
        AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      }),
    );
  }
  const host = new LambdaHost(functions, log);
  const started: Array<{ stop(): Promise<void> }> = [];
  // The functions stop first, so nothing calls a service that is already gone; then the
  // services, newest first.
  const stopAll = async () => {
    await host.stop().catch(() => undefined);
    for (const service of started.reverse()) await service.stop().catch(() => undefined);
  };

  try {
    const dynamoDb = new LocalDynamoDb(ports.dynamodb, region, credentials, options.dataDir);
    started.push(dynamoDb);
    await dynamoDb.start(resources, resolver);

    const rules = loadRules(resources, resolver);
    /** Delivers an event to every matching rule's targets; resolves when they have run. */
    const emit = async (event: Record<string, unknown>): Promise<void> => {
      const deliveries = rules
        .filter((rule) => matches(rule.pattern, event))
        .flatMap((rule) => rule.targetArns.map((arn) => host.find(arn)))
        .filter((fn): fn is LocalFunction => fn !== undefined)
        .map(async (fn) => {
          const outcome = await host.invoke(fn, event);
          const result = outcome.ok ? 'ok' : `failed (${outcome.error?.message})`;
          log(`[events] ${String(event['detail-type'])} -> ${fn.logicalId} ${result} ${outcome.ms}ms`);
        });
      await Promise.all(deliveries);
    };

    const channels: IvsChannel[] = ofType('AWS::IVS::Channel').map(([id, r]) => {
      const arn = resolver.resolveString({ Ref: id });
      const key = ofType('AWS::IVS::StreamKey').find(
        ([, k]) => resolver.resolve(k.Properties?.ChannelArn) === arn,
      );
      return {
        arn,
        name: String(r.Properties?.Name ?? id),
        streamKeyArn: key ? resolver.resolveString({ Ref: key[0] }) : undefined,
        streamKeyValue: newStreamKeyValue(),
      };
    });
    if (channels.length === 0) throw new Error('the template has no AWS::IVS::Channel');
    const ivs = new IvsStandIn({
      port: ports.ivs,
      channels,
      log,
      signing,
      pagesOrigin: servePages ? pagesOrigin : undefined,
      onStreamChange: (channel, state) => void emit(streamStateEvent(channel, state, region, ACCOUNT_ID)),
    });
    started.push(ivs);
    await ivs.start();

    const lambdaApi = new LambdaApi(ports.lambda, host, log, signing);
    started.push(lambdaApi);
    await lambdaApi.start();

    const secrets: LocalSecret[] = ofType('AWS::SecretsManager::Secret').map(([id, r]) => {
      const arn = resolver.resolveString({ Ref: id });
      return {
        arn,
        name: /:secret:(.+)-[^-]+$/.exec(arn)?.[1] ?? id,
        generate: r.Properties?.GenerateSecretString as LocalSecret['generate'],
      };
    });
    const secretsManager =
      secrets.length > 0 ? new SecretsManagerStandIn(ports.secretsManager, secrets, signing) : undefined;
    if (secretsManager) {
      started.push(secretsManager);
      await secretsManager.start();
    }

    const integrationFunction = (target: unknown): LocalFunction => {
      const integrationId = /^integrations\/(.+)$/.exec(resolver.resolveString(target))?.[1] ?? '';
      // An integration's Ref is its logical id, so `integrations/<Ref>` names the resource.
      const integration = resources[integrationId];
      const uri =
        integration?.Type === 'AWS::ApiGatewayV2::Integration'
          ? resolver.resolveString(integration.Properties?.IntegrationUri)
          : '';
      const arn = /arn:aws:lambda:[^/]+/.exec(uri)?.[0];
      const fn = arn ? host.find(arn) : undefined;
      if (!fn) throw new Error(`route target ${integrationId} is not a Lambda function of this stack`);
      return fn;
    };
    /** The `$connect` route's Lambda REQUEST authorizer, if the template puts one there. */
    const connectAuthorizerOf = (
      apiLogicalId: string,
      apiId: string,
      stage: string,
    ): ConnectAuthorizer | undefined => {
      const connect = ofType('AWS::ApiGatewayV2::Route').find(
        ([, r]) =>
          (r.Properties?.ApiId as { Ref?: string })?.Ref === apiLogicalId &&
          r.Properties?.RouteKey === '$connect',
      );
      const authorizerId = (connect?.[1].Properties?.AuthorizerId as { Ref?: string } | undefined)?.Ref;
      if (!authorizerId) return undefined;
      const authorizer = resources[authorizerId];
      if (
        authorizer?.Type !== 'AWS::ApiGatewayV2::Authorizer' ||
        authorizer.Properties?.AuthorizerType !== 'REQUEST'
      ) {
        throw new Error(`$connect authorizer ${authorizerId} is not a Lambda REQUEST authorizer`);
      }
      const uri = resolver.resolveString(authorizer.Properties?.AuthorizerUri);
      const arn = /arn:aws:lambda:[^/]+/.exec(uri)?.[0];
      const fn = arn ? host.find(arn) : undefined;
      if (!fn) throw new Error(`$connect authorizer ${authorizerId} is not a Lambda function of this stack`);
      return {
        fn,
        identitySource: (authorizer.Properties?.IdentitySource as string[] | undefined) ?? [],
        methodArn: `arn:aws:execute-api:${region}:${ACCOUNT_ID}:${apiId}/${stage}/$connect`,
      };
    };
    const routesOf = (apiId: string) =>
      ofType('AWS::ApiGatewayV2::Route')
        .filter(([, r]) => (r.Properties?.ApiId as { Ref?: string })?.Ref === apiId)
        .map(([, r]) => ({ props: r.Properties ?? {}, fn: integrationFunction(r.Properties?.Target) }));

    const [httpApi] = ofType('AWS::ApiGatewayV2::Api').filter(([id]) => apiProtocol(id) === 'HTTP');
    const [wsApi] = ofType('AWS::ApiGatewayV2::Api').filter(([id]) => apiProtocol(id) === 'WEBSOCKET');
    if (!httpApi || !wsApi) throw new Error('the template needs one HTTP API and one WebSocket API');

    const httpRoutes: HttpRoute[] = routesOf(httpApi[0]).map(({ props, fn }) => ({
      routeKey: String(props.RouteKey),
      ...compileRoute(String(props.RouteKey)),
      authorizationType: String(props.AuthorizationType ?? 'NONE'),
      fn,
    }));
    // Most specific first, so `/quizzes/{id}/reveal` wins over a greedy or `$default` route.
    httpRoutes.sort((a, b) => b.pattern.source.length - a.pattern.source.length);
    const cors =
      (resolver.resolve(httpApi[1].Properties?.CorsConfiguration) as { AllowOrigins?: string[] } | undefined)
        ?.AllowOrigins ?? [];
    const http = new HttpGateway({
      port: ports.http,
      apiId: resolver.resolveString({ Ref: httpApi[0] }),
      routes: httpRoutes,
      host,
      signing,
      accountId: ACCOUNT_ID,
      // The local host console is served from its own port; let that origin call the API.
      corsAllowOrigins: servePages ? [...cors, pagesOrigin] : cors,
      log,
      throttle: stageThrottleOf(resources, httpApi[0]),
    });
    started.push(http);
    await http.start();

    const wsStage = ofType('AWS::ApiGatewayV2::Stage').find(
      ([, s]) => (s.Properties?.ApiId as { Ref?: string })?.Ref === wsApi[0],
    );
    const wsApiId = resolver.resolveString({ Ref: wsApi[0] });
    const wsStageName = String(wsStage?.[1].Properties?.StageName ?? 'live');
    const webSocket = new WebSocketGateway({
      port: ports.ws,
      apiId: wsApiId,
      stage: wsStageName,
      connectAuthorizer: connectAuthorizerOf(wsApi[0], wsApiId, wsStageName),
      routes: new Map(routesOf(wsApi[0]).map(({ props, fn }) => [String(props.RouteKey), fn])),
      routeSelectionExpression: String(
        wsApi[1].Properties?.RouteSelectionExpression ?? '$request.body.action',
      ),
      host,
      log,
      signing,
      managementLatencyMs: options.managementLatencyMs,
      throttle: stageThrottleOf(resources, wsApi[0]),
    });
    started.push(webSocket);
    await webSocket.start();

    const pages =
      servePages && webDir
        ? new PagesServer(ports.pages, webDir, {
            viewer: () => pageConfig,
            // Only the host console gets credentials; the viewer page never does.
            host: () => ({ ...pageConfig, credentials }),
          })
        : undefined;
    if (pages) {
      started.push(pages);
      await pages.start();
    }

    const config: LocalConfig = {
      httpApiUrl: `http://127.0.0.1:${ports.http}/`,
      webSocketUrl: webSocket.url,
      managementUrl: webSocket.managementUrl,
      ivsEndpoint: ivs.endpoint,
      dynamoDbEndpoint: dynamoDb.endpoint,
      lambdaEndpoint: lambdaApi.endpoint,
      channelArn: channels[0].arn,
      streamKeyArn: channels[0].streamKeyArn,
      region,
      credentials,
      viewerUrl: pages ? `${pages.url}/` : undefined,
      hostUrl: pages ? `${pages.url}/host/` : undefined,
      viewerAuth: webSocket.requiresToken,
      secretsManagerEndpoint: secretsManager?.endpoint,
    };
    const pageConfig: PageConfig = {
      mode: 'local',
      webSocketUrl: config.webSocketUrl,
      httpApiUrl: config.httpApiUrl,
      cueEventsUrl: `${ivs.endpoint}/_local/metadata/events`,
      viewerTokenUrl: config.viewerAuth ? `${config.httpApiUrl}viewer-token` : undefined,
      region,
    };
    // The stand-in's stream starts live; tell the stack, as IVS would with a Stream Start event.
    await Promise.all(channels.map((channel) => emit(streamStateEvent(channel, 'live', region, ACCOUNT_ID))));

    const stateFile =
      options.stateFile === undefined ? path.join(projectDir, '.cuecast', 'local.json') : options.stateFile;
    if (stateFile) {
      fs.mkdirSync(path.dirname(stateFile), { recursive: true });
      fs.writeFileSync(stateFile, `${JSON.stringify(config, null, 2)}\n`, { mode: 0o600 });
    }
    return {
      config,
      ivs,
      webSocket,
      dynamoDb,
      host,
      secretsManager,
      stop: async () => {
        await stopAll();
        if (stateFile) fs.rmSync(stateFile, { force: true });
      },
    };
  } catch (error) {
    await stopAll();
    throw error;
  }
}

function localFunction(
  id: string,
  resource: CfnResource,
  assembly: CloudAssembly,
  resolver: IntrinsicResolver,
  toLocal: (value: string) => string,
  awsEnv: Record<string, string>,
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
