import type { APIGatewayProxyEventV2, APIGatewayProxyResultV2, Context } from 'aws-lambda';

/** A route as API Gateway names it, e.g. `POST /quizzes/{quizId}/reveal`. */
export type RouteKey = `${'GET' | 'POST'} /${string}`;

export interface HttpEventOptions {
  /** Concrete values for the route's `{placeholders}`. */
  readonly pathParameters?: Record<string, string>;
  /** Sent as is; an object is serialized to JSON first. */
  readonly body?: string | object;
  readonly isBase64Encoded?: boolean;
  /** Replaces the default headers (`content-type: application/json` and a host). */
  readonly headers?: Record<string, string>;
  /** The query string's parameters, as API Gateway parses them. */
  readonly query?: Record<string, string>;
}

/** An API Gateway HTTP API payload v2 event, as the gateway would send it for `routeKey`. */
export function httpEvent(routeKey: RouteKey, options: HttpEventOptions = {}): APIGatewayProxyEventV2 {
  const [method, template] = routeKey.split(' ');
  const rawPath = template.replace(/\{(\w+)\}/g, (_, name: string) =>
    encodeURIComponent(options.pathParameters?.[name] ?? ''),
  );
  const body = typeof options.body === 'object' ? JSON.stringify(options.body) : options.body;
  const now = new Date();
  return {
    version: '2.0',
    routeKey,
    rawPath,
    rawQueryString: new URLSearchParams(options.query ?? {}).toString(),
    headers: options.headers ?? { 'content-type': 'application/json', host: 'api.example.test' },
    requestContext: {
      accountId: '123456789012',
      apiId: 'testapi',
      domainName: 'api.example.test',
      domainPrefix: 'api',
      http: { method, path: rawPath, protocol: 'HTTP/1.1', sourceIp: '203.0.113.7', userAgent: 'jest' },
      requestId: 'gateway-request-id',
      routeKey,
      stage: '$default',
      time: now.toUTCString(),
      timeEpoch: now.getTime(),
    },
    pathParameters: options.pathParameters,
    ...(options.query ? { queryStringParameters: options.query } : {}),
    body,
    isBase64Encoded: options.isBase64Encoded ?? false,
  };
}

/** The smallest Lambda context the handlers and the logger accept. */
export function lambdaContext(awsRequestId = 'test-request-id'): Context {
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName: 'cuecast-test',
    functionVersion: '$LATEST',
    invokedFunctionArn: 'arn:aws:lambda:eu-west-1:123456789012:function:cuecast-test',
    memoryLimitInMB: '256',
    awsRequestId,
    logGroupName: '/aws/lambda/cuecast-test',
    logStreamName: '2024/01/01/[$LATEST]test',
    getRemainingTimeInMillis: () => 10_000,
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

/** A handler reply with its body parsed, so tests compare values rather than strings. */
export interface ParsedReply {
  readonly statusCode: number;
  readonly headers: Record<string, string | number | boolean>;
  readonly body: unknown;
}

type HttpLambda = (event: APIGatewayProxyEventV2, context: Context) => Promise<APIGatewayProxyResultV2>;

/** Runs a handler and parses its structured reply; a bare string reply fails the test. */
export async function invoke(
  handler: HttpLambda,
  event: APIGatewayProxyEventV2,
  context: Context = lambdaContext(),
): Promise<ParsedReply> {
  const result = await handler(event, context);
  if (typeof result === 'string') throw new Error(`expected a structured reply, got the string ${result}`);
  return {
    statusCode: result.statusCode ?? 200,
    headers: result.headers ?? {},
    body: result.body === undefined ? undefined : JSON.parse(result.body),
  };
}

/**
 * Asserts the contract's error shape: exactly `{"error":{"code","message"}}` as JSON, with a
 * non-empty message. Returns the message for further checks.
 */
export function expectErrorReply(reply: ParsedReply, statusCode: number, code: string): string {
  expect(reply.statusCode).toBe(statusCode);
  expect(String(reply.headers['content-type'])).toMatch(/^application\/json\b/);
  expect(reply.body).toEqual({ error: { code, message: expect.any(String) } });
  const { message } = (reply.body as { error: { message: string } }).error;
  expect(message.length).toBeGreaterThan(0);
  return message;
}
