import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { ServiceMetrics } from './cloudwatch/service-metrics';
import { arnMatches } from './host-sign-in-model';
import {
  close,
  decodeUriPart,
  guarded,
  listen,
  readBody,
  requestUrl,
  sendGatewayError,
  sendJson,
} from './http-util';
import type { LambdaHost, LocalFunction } from './lambda-host';
import { type LocalSigning, SigV4Verifier } from './sigv4';
import { StageThrottle, type StageThrottleSettings } from './stage-throttle';
import type { UsageMeter } from './usage';

export interface HttpRoute {
  readonly routeKey: string;
  readonly method: string;
  readonly pattern: RegExp;
  readonly paramNames: string[];
  readonly authorizationType: string;
  readonly fn: LocalFunction;
}

export interface HttpGatewayOptions {
  readonly port: number;
  readonly apiId: string;
  readonly routes: HttpRoute[];
  readonly host: LambdaHost;
  /** `AWS_IAM` routes check signatures against these credentials, in this region. */
  readonly signing: LocalSigning;
  readonly accountId: string;
  readonly corsAllowOrigins: string[];
  readonly log: (line: string) => void;
  /** The stage's throttling, from the template. @default none */
  readonly throttle?: StageThrottleSettings;
  /** Counts requests (P7 of `npm run bench`). @default none */
  readonly meter?: UsageMeter;
  /** AWS/ApiGateway's metrics of each request (stage `$default`), for the local alarms. */
  readonly metrics?: ServiceMetrics;
}

/** Compiles `METHOD /path/{param}/{proxy+}` into a matcher. */
export function compileRoute(routeKey: string): { method: string; pattern: RegExp; paramNames: string[] } {
  if (routeKey === '$default') return { method: 'ANY', pattern: /^\/.*$/, paramNames: [] };
  const [method, routePath] = routeKey.split(' ');
  const paramNames: string[] = [];
  const source = routePath
    .split('/')
    .map((part) => {
      const greedy = /^\{(.+)\+\}$/.exec(part);
      if (greedy) {
        paramNames.push(greedy[1]);
        return '(.+)';
      }
      const param = /^\{(.+)\}$/.exec(part);
      if (param) {
        paramNames.push(param[1]);
        return '([^/]+)';
      }
      return part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    })
    .join('/');
  return { method, pattern: new RegExp(`^${source}$`), paramNames };
}

const TEXT_TYPES = /^(application\/(json|x-www-form-urlencoded|xml|javascript)|text\/)/;

/**
 * An API Gateway HTTP API on loopback: routes from the template, payload format 2.0 events,
 * and SigV4 checked on `AWS_IAM` routes against the local credentials (403 as on AWS).
 */
export class HttpGateway {
  private server?: Server;
  private readonly verifier: SigV4Verifier;
  private readonly throttle?: StageThrottle;

  constructor(private readonly options: HttpGatewayOptions) {
    this.verifier = new SigV4Verifier('execute-api', options.signing);
    this.throttle = options.throttle && new StageThrottle(options.throttle);
  }

  async start(): Promise<void> {
    this.server = createServer(guarded((req, res) => this.handle(req, res), sendGatewayError));
    await listen(this.server, this.options.port, 'HTTP API');
  }

  private corsHeaders(req: IncomingMessage): Record<string, string> {
    const origin = req.headers.origin;
    const allowed = this.options.corsAllowOrigins;
    if (!origin || !(allowed.includes('*') || allowed.includes(origin))) return {};
    return {
      'access-control-allow-origin': origin,
      'access-control-expose-headers': 'retry-after',
      vary: 'origin',
    };
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const started = Date.now();
    const url = requestUrl(req);
    const method = req.method ?? 'GET';
    const cors = this.corsHeaders(req);

    if (
      method === 'OPTIONS' &&
      req.headers['access-control-request-method'] &&
      Object.keys(cors).length > 0
    ) {
      res.writeHead(204, {
        ...cors,
        'access-control-allow-methods': 'GET, POST, OPTIONS',
        'access-control-allow-headers':
          'content-type, authorization, x-amz-date, x-amz-security-token, x-amz-content-sha256',
        'access-control-max-age': '600',
      });
      res.end();
      return;
    }

    this.options.meter?.httpRequest();
    const { metrics } = this.options;
    if (metrics) {
      const api = { apiId: this.options.apiId, stage: '$default' };
      res.once('finish', () => metrics.httpRequest(api, res.statusCode, Date.now() - started));
    }
    if (this.throttle && !this.throttle.tryTake()) {
      sendJson(res, 429, { message: 'Too Many Requests' }, cors);
      this.options.log(`[http] ${method} ${url.pathname} -> throttled 429`);
      return;
    }
    const match = this.match(method, url.pathname);
    if (!match) {
      sendJson(res, 404, { message: 'Not Found' }, cors);
      this.options.log(`[http] ${method} ${url.pathname} -> no route 404 ${Date.now() - started}ms`);
      return;
    }
    const { route, pathParameters } = match;
    const body = await readBody(req);
    const headers = flatHeaders(req);

    let authorizer: Record<string, unknown> | undefined;
    if (route.authorizationType === 'AWS_IAM') {
      const verdict = this.verifier.verify(req, body);
      if (!verdict.ok) {
        // AWS answers {"message": …}; the contract's error envelope is added for clients of docs/protocol.md §3.
        sendJson(
          res,
          403,
          { message: verdict.message, error: { code: 'FORBIDDEN', message: verdict.message } },
          cors,
        );
        this.options.log(
          `[http] ${route.routeKey} -> 403 unsigned or badly signed (${verdict.message}) ${Date.now() - started}ms`,
        );
        return;
      }
      const { session } = verdict;
      // Temporary credentials act for their role: only what its policy allows (IAM's 403 wording).
      const resource = `arn:aws:execute-api:${this.options.signing.region}:${this.options.accountId}:${this.options.apiId}/$default/${method}${url.pathname}`;
      if (session && !session.invokeArns.some((pattern) => arnMatches(pattern, resource))) {
        const message = `User: ${session.principalArn} is not authorized to perform: execute-api:Invoke on resource: ${resource}`;
        sendJson(res, 403, { Message: message, error: { code: 'FORBIDDEN', message } }, cors);
        this.options.log(`[http] ${route.routeKey} -> 403 not allowed for ${session.principalArn}`);
        return;
      }
      authorizer = {
        iam: {
          accessKey: verdict.accessKeyId,
          accountId: this.options.accountId,
          callerId: verdict.accessKeyId,
          userArn: session?.principalArn ?? `arn:aws:iam::${this.options.accountId}:user/local-host`,
          userId: verdict.accessKeyId,
        },
      };
    }

    const isText = body.length === 0 || TEXT_TYPES.test(headers['content-type'] ?? 'application/json');
    const now = new Date();
    const event = {
      version: '2.0',
      routeKey: route.routeKey,
      rawPath: url.pathname,
      rawQueryString: url.search.slice(1),
      headers,
      queryStringParameters: url.search ? queryParameters(url.searchParams) : undefined,
      pathParameters: route.paramNames.length > 0 ? pathParameters : undefined,
      requestContext: {
        accountId: this.options.accountId,
        apiId: this.options.apiId,
        authorizer,
        domainName: headers.host ?? '127.0.0.1',
        domainPrefix: this.options.apiId,
        http: {
          method,
          path: url.pathname,
          protocol: 'HTTP/1.1',
          sourceIp: req.socket.remoteAddress ?? '127.0.0.1',
          userAgent: headers['user-agent'] ?? '',
        },
        requestId: randomUUID(),
        routeKey: route.routeKey,
        stage: '$default',
        time: now.toUTCString(),
        timeEpoch: now.getTime(),
      },
      body: body.length === 0 ? undefined : isText ? body.toString('utf8') : body.toString('base64'),
      isBase64Encoded: body.length > 0 && !isText,
    };

    const outcome = await this.options.host.invoke(route.fn, event);
    if (!outcome.ok) {
      sendJson(res, 500, { message: 'Internal Server Error' }, cors);
      this.options.log(
        `[http] ${route.routeKey} -> ${route.fn.logicalId} 500 ${outcome.ms}ms (${outcome.error?.name}: ${outcome.error?.message})`,
      );
      return;
    }
    const status = writeLambdaReply(res, outcome.result, cors);
    this.options.log(`[http] ${route.routeKey} -> ${route.fn.logicalId} ${status} ${outcome.ms}ms`);
  }

  private match(method: string, pathname: string) {
    for (const route of this.options.routes) {
      if (route.method !== 'ANY' && route.method !== method) continue;
      const found = route.pattern.exec(pathname);
      if (!found) continue;
      const pathParameters = Object.fromEntries(
        route.paramNames.map((name, i) => [name, decodeUriPart(found[i + 1])]),
      );
      return { route, pathParameters };
    }
    return undefined;
  }

  async stop(): Promise<void> {
    if (this.server) await close(this.server);
  }
}

/** Lower-cased headers, repeated ones joined with commas, as payload v2 gives them. */
export function flatHeaders(req: IncomingMessage): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value !== undefined) out[name.toLowerCase()] = Array.isArray(value) ? value.join(',') : value;
  }
  return out;
}

/** Payload v2 reply rules: a structured reply, or any other value sent as a 200 JSON body. */
function writeLambdaReply(res: ServerResponse, result: unknown, cors: Record<string, string>): number {
  if (result && typeof result === 'object' && 'statusCode' in result) {
    const reply = result as {
      statusCode: number;
      headers?: Record<string, string>;
      body?: string;
      isBase64Encoded?: boolean;
      cookies?: string[];
    };
    const body =
      reply.body === undefined
        ? Buffer.alloc(0)
        : Buffer.from(reply.body, reply.isBase64Encoded ? 'base64' : 'utf8');
    const headers: Record<string, string | string[]> = {
      ...cors,
      ...(reply.headers ?? {}),
      'content-length': String(body.length),
    };
    if (reply.cookies?.length) headers['set-cookie'] = reply.cookies;
    res.writeHead(reply.statusCode, headers);
    res.end(body);
    return reply.statusCode;
  }
  sendJson(res, 200, result ?? null, cors);
  return 200;
}

/** Payload format 2.0 joins the values of a repeated parameter with commas (`a=1&a=2` is `"1,2"`). */
function queryParameters(params: URLSearchParams): Record<string, string> {
  const joined = new Map<string, string>();
  for (const [name, value] of params) {
    const before = joined.get(name);
    joined.set(name, before === undefined ? value : `${before},${value}`);
  }
  return Object.fromEntries(joined);
}
