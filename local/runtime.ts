import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ENV } from '../lambda/env-names';
import { AccountApi } from './account-api';
import { CloudAssembly } from './assembly';
import { AsyncInvoker } from './async-invoke';
import { viewerRequestFunction } from './cloudfront-function';
import type { LocalAlarms } from './cloudwatch/alarms';
import { startLocalOperations } from './cloudwatch/local-operations';
import { MetricStore } from './cloudwatch/metric-store';
import { ServiceMetrics } from './cloudwatch/service-metrics';
import { CognitoStandIn } from './cognito';
import { LocalDynamoDb } from './dynamodb';
import { matches } from './eventbridge';
import { compileRoute, HttpGateway, type HttpRoute } from './http-gateway';
import { IvsStandIn } from './ivs';
import { newStreamKeyValue, streamStateEvent } from './ivs-streams';
import { LambdaApi } from './lambda-api';
import { LambdaHost, type LocalFunction } from './lambda-host';
import { localPageConfigs, localPageHeaders } from './page-configs';
import { PagesServer } from './pages';
import type { LocalConfig, LocalRuntime, LocalRuntimeOptions } from './runtime-config';
import { SecretsManagerStandIn } from './secrets-manager';
import type { SessionCredentials } from './sigv4';
import { SqsStandIn } from './sqs';
import { LOCAL_ACCOUNT_ID, readStackModel, type StackModel } from './stack-model';
import { assemblyDirFor, synthesize } from './synth';
import { UsageMeter } from './usage';
import { publishTestStream, stopFfmpeg } from './video/ffmpeg';
import { LocalVideo, playbackPath } from './video/local-video';
import { RtmpIngest } from './video/rtmp-ingest';
import { WebSocketGateway } from './websocket-gateway';

export type { LocalConfig, LocalRuntime, LocalRuntimeOptions } from './runtime-config';

/**
 * Boots the synthesized stack on 127.0.0.1 with no AWS account: the template's functions run
 * from their bundled assets and reach DynamoDB (dynalite), IVS, Lambda and the @connections
 * API through the SDK's usual endpoint settings. The template is read first into a
 * {@link StackModel} (stack-model.ts); this boots one local service per part of it.
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
    ingest: basePort + 7,
    sqs: basePort + 8,
    cognito: basePort + 9,
    account: basePort + 10,
  };
  const loopback = (port: number) => `http://127.0.0.1:${port}`;
  const pagesOrigin = loopback(ports.pages);

  const viewerAuth = options.viewerAuth ?? false;
  if (options.synth ?? true) await synthesize(projectDir, { viewerAuth });
  const credentials = {
    accessKeyId: `LOCAL${randomBytes(8).toString('hex').toUpperCase()}`,
    secretAccessKey: randomBytes(24).toString('base64url'),
  };
  const model = readStackModel(
    new CloudAssembly(options.assemblyDir ?? assemblyDirFor(projectDir, viewerAuth)),
    {
      region,
      httpApiBase: loopback(ports.http),
      webSocketBase: `ws://127.0.0.1:${ports.ws}`,
      playbackUrl: (channelId) => `${loopback(ports.ivs)}${playbackPath(channelId)}`,
      sqsBase: loopback(ports.sqs),
      pagesHost: `127.0.0.1:${ports.pages}`,
      cognitoBase: loopback(ports.cognito),
      functionEnv: {
        AWS_REGION: region,
        AWS_DEFAULT_REGION: region,
        AWS_ACCESS_KEY_ID: credentials.accessKeyId,
        AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
        AWS_ENDPOINT_URL_DYNAMODB: loopback(ports.dynamodb),
        AWS_ENDPOINT_URL_IVS: loopback(ports.ivs),
        AWS_ENDPOINT_URL_LAMBDA: loopback(ports.lambda),
        AWS_ENDPOINT_URL_SECRETS_MANAGER: loopback(ports.secretsManager),
      },
    },
  );
  // The pages come from the template's own deployment asset (what deploys), unless a test names
  // a folder or turns them off (null).
  const webDir = options.webDir === undefined ? model.pages?.dir : options.webDir;
  const servePages = typeof webDir === 'string' && fs.existsSync(path.join(webDir, 'index.html'));
  // Every stand-in checks SigV4 against this one identity, as each AWS service does.
  const signing = { region, credentials };

  const usage = new UsageMeter();
  const metrics = new ServiceMetrics(new MetricStore());
  const host = new LambdaHost(
    new Map(localFunctions(model, options).map((fn) => [fn.logicalId, fn])),
    log,
    usage,
    options.containersPerFunction,
    metrics,
  );
  /** The model checked every ARN it names against its functions. */
  const fn = (arn: string): LocalFunction => host.find(arn) as LocalFunction;
  const started: Array<{ stop(): Promise<void> }> = [];
  /** Starts a service and remembers it, so a failure further on stops what already runs. */
  const start = async <T extends { start(): Promise<void>; stop(): Promise<void> }>(
    service: T,
  ): Promise<T> => {
    started.push(service);
    await service.start();
    return service;
  };
  // The functions stop first, so nothing calls a service that is already gone; then the
  // services, newest first.
  let video: LocalVideo | undefined;
  let asyncInvoker: AsyncInvoker | undefined;
  let alarms: LocalAlarms | undefined;
  const stopAll = async () => {
    // The alarms' timer first: an evaluation samples services that are about to stop.
    await alarms?.stop();
    // Video first: a publisher that ends emits Stream End to the functions. No retry may start
    // once the functions stop.
    await video?.stop().catch(() => undefined);
    asyncInvoker?.stop();
    await host.stop().catch(() => undefined);
    for (const service of started.reverse()) await service.stop().catch(() => undefined);
  };

  try {
    const dynamoDb = new LocalDynamoDb(ports.dynamodb, region, credentials, options.dataDir, usage);
    started.push(dynamoDb);
    dynamoDb.metrics = metrics;
    await dynamoDb.start(model.tables);

    const emit = eventBus(model, host, log);
    const channels = model.channels.map((channel) => ({ ...channel, streamKeyValue: newStreamKeyValue() }));
    video = new LocalVideo({
      log,
      onPublishing: (channelArn, publishing) => ivs.streams.publishing(channelArn, publishing),
    });
    const localVideo = video;
    const ingest = await start(
      new RtmpIngest({
        port: ports.ingest,
        channelForKey: (key) => channels.find((c) => c.streamKeyValue === key)?.arn,
        publish: (channelArn) => localVideo.publish(channelArn),
        log,
      }),
    );
    const ivs: IvsStandIn = await start(
      new IvsStandIn({
        port: ports.ivs,
        channels,
        log,
        signing,
        pagesOrigin: servePages ? pagesOrigin : undefined,
        video: localVideo,
        alarms: () => alarms?.describe() ?? [],
        onStreamChange: (channel, state, eventNames) => {
          for (const name of eventNames)
            void emit(streamStateEvent(channel, state, region, LOCAL_ACCOUNT_ID, name));
        },
      }),
    );
    const sqs = await start(new SqsStandIn(ports.sqs, model.queues, signing, log));
    asyncInvoker = new AsyncInvoker(host, model.asyncInvokeConfigs, sqs, log, options.asyncRetryDelaysMs);
    const lambdaApi = await start(new LambdaApi(ports.lambda, host, asyncInvoker, log, signing));
    const secretsManager =
      model.secrets.length > 0
        ? await start(new SecretsManagerStandIn(ports.secretsManager, model.secrets, signing))
        : undefined;

    // Host sign-in's credentials: minted by the identity pool, taken by the HTTP API alone.
    const sessions = new Map<string, SessionCredentials>();
    const cognito = model.hostSignIn
      ? await start(
          new CognitoStandIn({
            port: ports.cognito,
            spec: model.hostSignIn,
            region,
            accountId: LOCAL_ACCOUNT_ID,
            sessions,
            credentialsSeconds: options.hostCredentialsSeconds,
            signing,
            log,
          }),
        )
      : undefined;

    const httpRoutes: HttpRoute[] = model.httpApi.routes.map((route) => ({
      routeKey: route.routeKey,
      ...compileRoute(route.routeKey),
      authorizationType: route.authorizationType,
      fn: fn(route.functionArn),
    }));
    // Most specific first, so `/quizzes/{id}/reveal` wins over a greedy or `$default` route.
    httpRoutes.sort((a, b) => b.pattern.source.length - a.pattern.source.length);
    await start(
      new HttpGateway({
        port: ports.http,
        apiId: model.httpApi.apiId,
        routes: httpRoutes,
        host,
        signing: { ...signing, sessions },
        accountId: LOCAL_ACCOUNT_ID,
        // The local host console is served from its own port; let that origin call the API.
        corsAllowOrigins: [...model.httpApi.corsAllowOrigins, ...(servePages ? [pagesOrigin] : [])],
        log,
        throttle: model.httpApi.throttle,
        meter: usage,
        metrics,
      }),
    );

    const wsApi = model.webSocketApi;
    const authorizer = wsApi.connectAuthorizer;
    const webSocket = await start(
      new WebSocketGateway({
        port: ports.ws,
        apiId: wsApi.apiId,
        stage: wsApi.stage,
        connectAuthorizer: authorizer && { ...authorizer, fn: fn(authorizer.functionArn) },
        routes: new Map(wsApi.routes.map((route) => [route.routeKey, fn(route.functionArn)])),
        routeSelectionExpression: wsApi.routeSelectionExpression,
        host,
        log,
        signing,
        managementLatencyMs: options.managementLatencyMs,
        throttle: wsApi.throttle,
        meter: usage,
        metrics,
      }),
    );

    const pageConfigs = localPageConfigs(model, {
      httpApiUrl: `${loopback(ports.http)}/`,
      webSocketUrl: webSocket.url,
      playbackUrl: channels[0].playbackUrl,
      viewerAuth: webSocket.requiresToken,
      region,
      ivsEndpoint: ivs.endpoint,
      ownPages: options.webDir !== undefined,
      signInRuns: cognito !== undefined,
      credentials,
    });
    const pages = servePages
      ? await start(
          new PagesServer(
            ports.pages,
            webDir,
            { viewer: () => pageConfigs.viewer, host: () => pageConfigs.host },
            localPageHeaders(model, { httpApi: loopback(ports.http), ivs: ivs.endpoint }),
            model.pages?.viewerRequestCode ? viewerRequestFunction(model.pages.viewerRequestCode) : undefined,
          ),
        )
      : undefined;

    const alarmOutbox = options.alarmOutbox ?? path.join(projectDir, '.cuecast', 'alarm-mail');
    const operations = startLocalOperations(model.operations, metrics.store, {
      accountId: LOCAL_ACCOUNT_ID,
      region,
      outbox: alarmOutbox,
      periodSeconds: options.alarmPeriodSeconds,
      evaluateEveryMs: options.alarmEvaluateEveryMs,
      sample: () => {
        for (const { name, visible } of sqs.visibleCounts()) metrics.queueDepth(name, visible);
        for (const c of channels) metrics.channelViewers(c.arn, localVideo.viewerCount(c.arn));
      },
      log,
    });
    alarms = operations.alarms;
    const accountApi = await start(
      new AccountApi({ port: ports.account, signing, sns: operations.sns, log }),
    );

    const config: LocalConfig = {
      httpApiUrl: `${loopback(ports.http)}/`,
      webSocketUrl: webSocket.url,
      managementUrl: webSocket.managementUrl,
      ivsEndpoint: ivs.endpoint,
      dynamoDbEndpoint: dynamoDb.endpoint,
      lambdaEndpoint: lambdaApi.endpoint,
      channelArn: channels[0].arn,
      streamKeyArn: channels[0].streamKeyArn,
      ingestUrl: ingest.url,
      playbackUrl: channels[0].playbackUrl,
      sqsEndpoint: sqs.endpoint,
      failureQueues: {
        fanOut: model.outputs.FanOutFailuresQueueUrl,
        streamState: model.outputs.StreamStateFailuresQueueUrl,
      },
      region,
      credentials,
      viewerUrl: pages ? `${pages.url}/` : undefined,
      hostUrl: pages ? `${pages.url}/host/` : undefined,
      viewerAuth: webSocket.requiresToken,
      secretsManagerEndpoint: secretsManager?.endpoint,
      cognitoEndpoint: cognito?.endpoint,
      hostUser: cognito?.hostUser,
      hostUserPoolId: model.hostSignIn?.userPoolId,
      ...accountApi.localConfig(),
    };
    // The stand-in's stream starts live; tell the stack, as IVS would with a Stream Start event.
    await Promise.all(
      channels.map((channel) => emit(streamStateEvent(channel, 'live', region, LOCAL_ACCOUNT_ID))),
    );

    const stateFile =
      options.stateFile === undefined ? path.join(projectDir, '.cuecast', 'local.json') : options.stateFile;
    if (stateFile) {
      fs.mkdirSync(path.dirname(stateFile), { recursive: true });
      fs.writeFileSync(stateFile, `${JSON.stringify(config, null, 2)}\n`, { mode: 0o600 });
    }
    let testStream: LocalRuntime['testStream'];
    if (options.testStream) {
      const publisher = publishTestStream(`${ingest.url}${channels[0].streamKeyValue}`, log);
      testStream = { stop: () => stopFfmpeg(publisher) };
      started.push(testStream);
    }
    return {
      config,
      ivs,
      video: localVideo,
      testStream,
      asyncInvoker,
      sqs,
      webSocket,
      dynamoDb,
      host,
      usage,
      secretsManager,
      cognito,
      metrics,
      alarms: operations.alarms,
      sns: operations.sns,
      alarmOutbox,
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

/**
 * The template's functions, with the runtime's documented timing options applied: the answer
 * grace (`answerGraceSeconds`) replaces the template's, in the functions the template gives one.
 */
function localFunctions(model: StackModel, options: LocalRuntimeOptions): readonly LocalFunction[] {
  const grace = options.answerGraceSeconds;
  if (grace === undefined) return model.functions;
  return model.functions.map((fn) =>
    ENV.ANSWER_GRACE_SECONDS in fn.env
      ? { ...fn, env: { ...fn.env, [ENV.ANSWER_GRACE_SECONDS]: String(grace) } }
      : fn,
  );
}

/** EventBridge: delivers an event to every matching rule's targets; resolves when they have run. */
function eventBus(model: StackModel, host: LambdaHost, log: (line: string) => void) {
  return async (event: Record<string, unknown>): Promise<void> => {
    const deliveries = model.rules
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
}
