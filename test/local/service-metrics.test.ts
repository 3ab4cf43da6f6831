import { MetricStore } from '../../local/cloudwatch/metric-store';
import { dashboardMetrics } from '../../local/cloudwatch/operations-model';
import { ServiceMetrics } from '../../local/cloudwatch/service-metrics';

/** The stand-ins' AWS metrics (service-metrics.ts) and the dashboard reader, without a runtime. */
const AT = Date.UTC(2026, 0, 1);
const api = { apiId: 'ws123', stage: 'live' };

function recorded() {
  const store = new MetricStore();
  const metrics = new ServiceMetrics(store, () => AT);
  /** Sum of one metric over the one period that holds every datapoint, or undefined without data. */
  const sum = (namespace: string, metricName: string, dimensions: Record<string, string>) =>
    store.query({ namespace, metricName, dimensions }, 'Sum', 60, [AT]).get(AT);
  return { store, metrics, sum };
}

describe('when a WebSocket route runs', () => {
  it('counts a failed function as an integration error, one that could not start as an execution error', () => {
    const { metrics, sum } = recorded();
    const dims = { ApiId: 'ws123', Stage: 'live' };
    metrics.webSocketRoute(api, '$connect', { ok: true, ms: 5, result: { statusCode: 200 } });
    metrics.webSocketRoute(api, 'answer', { ok: false, ms: 3, error: { name: 'Error', message: 'boom' } });
    metrics.webSocketRoute(api, 'ping', {
      ok: false,
      ms: 0,
      error: { name: 'InitError', message: 'no container' },
    });
    metrics.webSocketRoute(api, '$connect', { ok: true, ms: 2 }, 403);
    metrics.webSocketRoute(api, '$default', 'client-error');
    metrics.webSocketRoute(api, '$disconnect', { ok: true, ms: 1 });
    expect({
      connect: sum('AWS/ApiGateway', 'ConnectCount', dims),
      messages: sum('AWS/ApiGateway', 'MessageCount', dims),
      client: sum('AWS/ApiGateway', 'ClientError', dims),
      execution: sum('AWS/ApiGateway', 'ExecutionError', dims),
      integration: sum('AWS/ApiGateway', 'IntegrationError', dims),
    }).toEqual({ connect: 2, messages: 3, client: 1, execution: 1, integration: 2 });
  });
});

describe('when DynamoDB answers an injected fault', () => {
  it('counts a throttle per table as AWS documents it, and an internal error as a system error', () => {
    const { metrics, sum } = recorded();
    metrics.dynamoDbFault({ operation: 'GetItem', tables: ['Quizzes'], body: {} }, 'ThrottlingException');
    metrics.dynamoDbFault(
      { operation: 'BatchWriteItem', tables: ['Answers', 'Tally'], body: {} },
      'ProvisionedThroughputExceededException',
    );
    metrics.dynamoDbFault({ operation: 'Query', tables: ['Quizzes'], body: {} }, 'InternalServerError');
    expect(sum('AWS/DynamoDB', 'ReadThrottleEvents', { TableName: 'Quizzes' })).toBe(1);
    expect(sum('AWS/DynamoDB', 'WriteThrottleEvents', { TableName: 'Tally' })).toBe(1);
    expect(
      sum('AWS/DynamoDB', 'ThrottledRequests', { TableName: 'Answers', Operation: 'BatchWriteItem' }),
    ).toBe(1);
    expect(sum('AWS/DynamoDB', 'SystemErrors', { TableName: 'Quizzes', Operation: 'Query' })).toBe(1);
    expect(sum('AWS/DynamoDB', 'ReadThrottleEvents', { TableName: 'Answers' })).toBeUndefined();
  });
});

describe('when an invocation ends', () => {
  it('records Lambda’s metrics, but not an invocation the runtime stopped on shutdown', () => {
    const { store, metrics, sum } = recorded();
    const fn = { FunctionName: 'Cuecast-Answer' };
    metrics.invoked('Cuecast-Answer', {
      ok: false,
      ms: 3000,
      error: { name: 'TimeoutError', message: 'Task timed out' },
    });
    metrics.invoked('Cuecast-Answer', { ok: true, ms: 12 });
    metrics.invoked('Cuecast-Other', {
      ok: false,
      ms: 0,
      error: { name: 'Stopped', message: 'shutting down' },
    });
    expect(sum('AWS/Lambda', 'Errors', fn)).toBe(1);
    expect(sum('AWS/Lambda', 'Invocations', fn)).toBe(2);
    expect(sum('AWS/Lambda', 'Throttles', fn)).toBe(0);
    expect(
      store
        .query({ namespace: 'AWS/Lambda', metricName: 'Duration', dimensions: fn }, 'Maximum', 60, [AT])
        .get(AT),
    ).toBe(3000);
    expect(store.keys().some((k) => k.dimensions.FunctionName === 'Cuecast-Other')).toBe(false);
  });
});

describe('when a dashboard body is read', () => {
  it('lists each named metric with its dimensions, repeats "." parts, and skips expressions', () => {
    const body = JSON.stringify({
      widgets: [
        {
          type: 'metric',
          properties: {
            metrics: [
              ['AWS/Lambda', 'Errors', 'FunctionName', 'A', { stat: 'Sum' }],
              ['.', 'Throttles', '.', '.'],
              [{ expression: "SEARCH('{cuecast,code,service} MetricName=\"AnswersRefused\"', 'Sum', 60)" }],
              ['...', 'B'],
            ],
          },
        },
        { type: 'text', properties: { markdown: 'no metrics' } },
      ],
    });
    expect(dashboardMetrics(body)).toEqual([
      { namespace: 'AWS/Lambda', metricName: 'Errors', dimensions: { FunctionName: 'A' } },
      { namespace: 'AWS/Lambda', metricName: 'Throttles', dimensions: { FunctionName: 'A' } },
    ]);
  });
});
