import type { DynamoDbRequest } from '../dynamodb-faults';
import type { InvokeResult } from '../lambda-function';
import type { MetricStore } from './metric-store';

/**
 * The metrics AWS services publish about the stack, as the local stand-ins observe them, in
 * AWS's own namespaces, names and dimensions (AWS/Lambda, AWS/ApiGateway, AWS/DynamoDB, AWS/SQS,
 * AWS/IVS), into the runtime's {@link MetricStore}, next to the functions' own EMF metrics. Each
 * stand-in calls one hook per event, as it calls the UsageMeter (usage.ts).
 */
export const SERVICE_NAMESPACES = {
  lambda: 'AWS/Lambda',
  apiGateway: 'AWS/ApiGateway',
  dynamoDb: 'AWS/DynamoDB',
  sqs: 'AWS/SQS',
  ivs: 'AWS/IVS',
} as const;

/** The names, as each service's CloudWatch documentation gives them. */
export const SERVICE_METRIC = {
  lambda: { invocations: 'Invocations', errors: 'Errors', throttles: 'Throttles', duration: 'Duration' },
  httpApi: {
    count: 'Count',
    clientErrors: '4xx',
    serverErrors: '5xx',
    latency: 'Latency',
    integrationLatency: 'IntegrationLatency',
  },
  webSocket: {
    connectCount: 'ConnectCount',
    messageCount: 'MessageCount',
    clientError: 'ClientError',
    executionError: 'ExecutionError',
    integrationError: 'IntegrationError',
    integrationLatency: 'IntegrationLatency',
  },
  dynamoDb: {
    throttledRequests: 'ThrottledRequests',
    readThrottleEvents: 'ReadThrottleEvents',
    writeThrottleEvents: 'WriteThrottleEvents',
    systemErrors: 'SystemErrors',
  },
  sqs: { visible: 'ApproximateNumberOfMessagesVisible' },
  ivs: { concurrentViews: 'ConcurrentViews' },
} as const;

/** An API stage, as API Gateway's metrics name it (dimensions `ApiId` and `Stage`). */
export interface ApiStage {
  readonly apiId: string;
  readonly stage: string;
}

/** How a WebSocket route's integration went, in the terms of API Gateway's metrics. */
export type RouteOutcome =
  /** API Gateway answered 4xx before calling the integration (throttled, unauthorized, no route). */
  | 'client-error'
  /** The integration could not be called (the function could not start). */
  | 'execution-error'
  /** The integration answered an error: the function failed, timed out, or returned 4xx/5xx. */
  | 'integration-error'
  | 'ok';

/** DynamoDB operations that read: a throttle of one is a read throttle event. */
const READS = new Set(['GetItem', 'BatchGetItem', 'Query', 'Scan', 'TransactGetItems']);
/** The faults DynamoDB counts as throttling (InternalServerError is not one). */
const THROTTLES = new Set([
  'ProvisionedThroughputExceededException',
  'ThrottlingException',
  'RequestLimitExceeded',
]);

export class ServiceMetrics {
  constructor(
    readonly store: MetricStore,
    private readonly clock: () => number = Date.now,
  ) {}

  private put(
    namespace: string,
    metricName: string,
    dimensions: Record<string, string>,
    value: number,
  ): void {
    this.store.put({ namespace, metricName, dimensions }, this.clock(), value);
  }

  /** A function's log line: an EMF line becomes its metrics, as CloudWatch Logs extracts them. */
  logLine(line: string): void {
    this.store.putEmf(line);
  }

  /**
   * An invocation finished: `Invocations` 1, `Errors` 1 for an error (thrown, a crash or a
   * timeout) else 0, and its `Duration`. `Throttles` is 0: the local host queues an invocation
   * beyond its containers rather than refuse it (docs/local-runtime.md). Invocations the runtime
   * stopped on shutdown are not counted.
   */
  invoked(functionName: string, outcome: InvokeResult): void {
    if (outcome.error?.name === 'Stopped') return;
    const dims = { FunctionName: functionName };
    const { lambda } = SERVICE_METRIC;
    this.put(SERVICE_NAMESPACES.lambda, lambda.invocations, dims, 1);
    this.put(SERVICE_NAMESPACES.lambda, lambda.errors, dims, outcome.ok ? 0 : 1);
    this.put(SERVICE_NAMESPACES.lambda, lambda.throttles, dims, 0);
    this.put(SERVICE_NAMESPACES.lambda, lambda.duration, dims, outcome.ms);
  }

  /** An HTTP API request answered with `status` after `latencyMs` (CORS preflights are not counted). */
  httpRequest(api: ApiStage, status: number, latencyMs: number): void {
    const dims = { ApiId: api.apiId, Stage: api.stage };
    const { httpApi } = SERVICE_METRIC;
    this.put(SERVICE_NAMESPACES.apiGateway, httpApi.count, dims, 1);
    this.put(
      SERVICE_NAMESPACES.apiGateway,
      httpApi.clientErrors,
      dims,
      status >= 400 && status < 500 ? 1 : 0,
    );
    this.put(SERVICE_NAMESPACES.apiGateway, httpApi.serverErrors, dims, status >= 500 ? 1 : 0);
    this.put(SERVICE_NAMESPACES.apiGateway, httpApi.latency, dims, latencyMs);
  }

  /**
   * A WebSocket route event: `$connect` counts in `ConnectCount`, any other frame from a client in
   * `MessageCount`; each gets its error datapoints (0 or 1) and, when the integration ran, its
   * latency. A function that failed (or answered `status` outside 2xx) is an integration error,
   * one that could not start an execution error.
   */
  webSocketRoute(api: ApiStage, routeKey: string, outcome: RouteOutcome | InvokeResult, status = 200): void {
    const kind: RouteOutcome =
      typeof outcome === 'string'
        ? outcome
        : outcome.error?.name === 'InitError'
          ? 'execution-error'
          : !outcome.ok || status < 200 || status > 299
            ? 'integration-error'
            : 'ok';
    const dims = { ApiId: api.apiId, Stage: api.stage };
    const { webSocket } = SERVICE_METRIC;
    const put = (name: string, value: number) => this.put(SERVICE_NAMESPACES.apiGateway, name, dims, value);
    if (routeKey === '$connect') put(webSocket.connectCount, 1);
    else if (routeKey !== '$disconnect') put(webSocket.messageCount, 1);
    put(webSocket.clientError, kind === 'client-error' ? 1 : 0);
    put(webSocket.executionError, kind === 'execution-error' ? 1 : 0);
    put(webSocket.integrationError, kind === 'integration-error' ? 1 : 0);
    if (typeof outcome !== 'string') put(webSocket.integrationLatency, outcome.ms);
  }

  /** A frame API Gateway sent to a client (an `@connections` post or its own error frame). */
  webSocketMessageOut(api: ApiStage): void {
    const dims = { ApiId: api.apiId, Stage: api.stage };
    this.put(SERVICE_NAMESPACES.apiGateway, SERVICE_METRIC.webSocket.messageCount, dims, 1);
  }

  /**
   * A DynamoDB request answered with `fault`: a throttle counts one `ThrottledRequests` (by table
   * and operation) and one read or write throttle event per table it touched (by table); an
   * internal error one `SystemErrors` (by table and operation).
   */
  dynamoDbFault(request: DynamoDbRequest, fault: string): void {
    const { dynamoDb } = SERVICE_METRIC;
    if (fault === 'InternalServerError')
      for (const table of request.tables)
        this.put(
          SERVICE_NAMESPACES.dynamoDb,
          dynamoDb.systemErrors,
          { TableName: table, Operation: request.operation },
          1,
        );
    if (!THROTTLES.has(fault)) return;
    const event = READS.has(request.operation) ? dynamoDb.readThrottleEvents : dynamoDb.writeThrottleEvents;
    for (const table of request.tables) {
      this.put(
        SERVICE_NAMESPACES.dynamoDb,
        dynamoDb.throttledRequests,
        { TableName: table, Operation: request.operation },
        1,
      );
      this.put(SERVICE_NAMESPACES.dynamoDb, event, { TableName: table }, 1);
    }
  }

  /** A sample of a queue's depth (SQS publishes one a minute). */
  queueDepth(queueName: string, visible: number): void {
    this.put(SERVICE_NAMESPACES.sqs, SERVICE_METRIC.sqs.visible, { QueueName: queueName }, visible);
  }

  /** A sample of a channel's viewers (dimension `Channel`: the channel id, the end of its ARN). */
  channelViewers(channelArn: string, viewers: number): void {
    const channel = channelArn.slice(channelArn.lastIndexOf('/') + 1);
    this.put(SERVICE_NAMESPACES.ivs, SERVICE_METRIC.ivs.concurrentViews, { Channel: channel }, viewers);
  }
}
