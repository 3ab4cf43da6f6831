import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { type WebSocket, WebSocketServer } from 'ws';
import type { RouteOutcome, ServiceMetrics } from './cloudwatch/service-metrics';
import { authorizeConnect, type ConnectAuthorizer, multiValueHeaders } from './connect-authorizer';
import { ConnectionsApi } from './connections-api';
import { flatHeaders } from './http-gateway';
import { awsErrorReply, close, guarded, HttpError, listen, requestUrl } from './http-util';
import type { InvokeResult } from './lambda-function';
import type { LambdaHost, LocalFunction } from './lambda-host';
import type { LocalSigning } from './sigv4';
import { StageThrottle, type StageThrottleSettings } from './stage-throttle';
import type { UsageMeter } from './usage';

/** API Gateway WebSocket limits (docs/protocol.md §2). */
export const WS_LIMITS = {
  frameBytes: 32 * 1024,
  messageBytes: 128 * 1024,
  idleMs: 10 * 60 * 1000,
  lifetimeMs: 2 * 60 * 60 * 1000,
} as const;

export interface WebSocketGatewayOptions {
  readonly port: number;
  readonly apiId: string;
  readonly stage: string;
  /** Route key → function. */
  readonly routes: ReadonlyMap<string, LocalFunction>;
  readonly routeSelectionExpression: string;
  readonly host: LambdaHost;
  readonly log: (line: string) => void;
  /** Added to every management API call: a model of an in-region AWS round trip. @default 0 */
  readonly managementLatencyMs?: number;
  readonly limits?: Partial<typeof WS_LIMITS>;
  /** The `$connect` route's Lambda REQUEST authorizer, when the template has one. @default none */
  readonly connectAuthorizer?: ConnectAuthorizer;
  /** `@connections` checks signatures for `execute-api` against these, as API Gateway does. */
  readonly signing: LocalSigning;
  /** The stage's throttling of `$connect` and messages, from the template. @default none */
  readonly throttle?: StageThrottleSettings;
  /** Counts messages, connections and route events (P7 of `npm run bench`). @default none */
  readonly meter?: UsageMeter;
  /** AWS/ApiGateway's metrics of each route event and frame out, for the local alarms. @default none */
  readonly metrics?: ServiceMetrics;
}

interface ConnectionMeta {
  readonly id: string;
  readonly connectedAt: number;
  readonly sourceIp: string;
  readonly userAgent: string;
  authorizer?: Record<string, unknown>;
}

interface Connection extends ConnectionMeta {
  readonly socket: WebSocket;
  lastActiveAt: number;
  idleTimer?: NodeJS.Timeout;
  lifeTimer?: NodeJS.Timeout;
}

/** `$request.body.action` → ['action']; other selection expressions are not supported locally. */
function selectionPath(expression: string): string[] {
  const match = /^\$request\.body\.(.+)$/.exec(expression);
  if (!match)
    throw new Error(`route selection expression ${expression} is not supported by the local runtime`);
  return match[1].split('.');
}

/**
 * An API Gateway WebSocket API on loopback: `$connect` decides the upgrade, frames are routed
 * by the API's selection expression, `$disconnect` runs on close, and the stage's
 * `@connections` management API answers POST, GET and DELETE, with a real 410 GoneException.
 */
export class WebSocketGateway {
  private server?: Server;
  private wss?: WebSocketServer;
  private readonly connections = new Map<string, Connection>();
  private readonly path: string[];
  private readonly limits: typeof WS_LIMITS;
  private stopping = false;
  readonly url: string;
  readonly managementUrl: string;
  /** True when `$connect` has an authorizer, so clients need a token (viewer auth). */
  readonly requiresToken: boolean;
  private readonly api: ConnectionsApi;
  private readonly throttle?: StageThrottle;

  constructor(private readonly options: WebSocketGatewayOptions) {
    this.throttle = options.throttle && new StageThrottle(options.throttle);
    this.path = selectionPath(options.routeSelectionExpression);
    this.limits = { ...WS_LIMITS, ...options.limits };
    this.url = `ws://127.0.0.1:${options.port}`;
    this.managementUrl = `http://127.0.0.1:${options.port}/${options.stage}`;
    this.requiresToken = options.connectAuthorizer !== undefined;
    this.api = new ConnectionsApi({
      stage: options.stage,
      signing: options.signing,
      messageBytes: this.limits.messageBytes,
      latencyMs: options.managementLatencyMs,
      lookup: (connectionId) => this.connections.get(connectionId),
      log: options.log,
      meter: options.meter,
      onMessageOut: () => options.metrics?.webSocketMessageOut(this.stageId),
    });
  }

  private get stageId() {
    return { apiId: this.options.apiId, stage: this.options.stage };
  }

  /** One route event's metrics (ServiceMetrics.webSocketRoute). */
  private routeMetric(routeKey: string, outcome: RouteOutcome | InvokeResult, status = 200): void {
    this.options.metrics?.webSocketRoute(this.stageId, routeKey, outcome, status);
  }

  /** Injected `@connections` faults (tests only; nothing is armed by default). */
  get managementFaults(): ConnectionsApi['faults'] {
    return this.api.faults;
  }

  get size(): number {
    return this.connections.size;
  }

  async start(): Promise<void> {
    // maxPayload: a larger frame closes the socket with 1009, as API Gateway does.
    this.wss = new WebSocketServer({ noServer: true, maxPayload: this.limits.frameBytes });
    this.server = createServer(
      guarded(
        (req, res) => this.api.handle(req, res),
        awsErrorReply('BadRequestException', 'InternalServerErrorException'),
      ),
    );
    this.server.on('upgrade', (req, socket, head) => {
      // Node drops its own socket error listener on upgrade: a client that resets mid-$connect
      // would otherwise throw ECONNRESET out of the event loop.
      socket.on('error', () => socket.destroy());
      this.upgrade(req, socket, head).catch((error: unknown) =>
        refuseUpgrade(socket, error instanceof HttpError ? error.status : 500),
      );
    });
    await listen(this.server, this.options.port, 'WebSocket API');
  }

  private baseContext(connection: ConnectionMeta, routeKey: string, eventType: string) {
    const now = Date.now();
    return {
      routeKey,
      eventType,
      extendedRequestId: randomUUID(),
      requestTime: new Date(now).toUTCString(),
      messageDirection: 'IN',
      stage: this.options.stage,
      connectedAt: connection.connectedAt,
      requestTimeEpoch: now,
      identity: { sourceIp: connection.sourceIp, userAgent: connection.userAgent },
      requestId: randomUUID(),
      domainName: `127.0.0.1:${this.options.port}`,
      connectionId: connection.id,
      apiId: this.options.apiId,
      ...(connection.authorizer ? { authorizer: connection.authorizer } : {}),
    };
  }

  private async upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    const started = Date.now();
    const id = randomBytes(12).toString('base64').replace(/\//g, '_');
    const url = requestUrl(req);
    const headers = flatHeaders(req);
    const meta: ConnectionMeta = {
      id,
      connectedAt: started,
      sourceIp: req.socket.remoteAddress ?? '127.0.0.1',
      userAgent: headers['user-agent'] ?? '',
    };
    if (this.throttle && !this.throttle.tryTake()) {
      this.options.log(`[ws] $connect ${id} -> throttled 429`);
      this.routeMetric('$connect', 'client-error');
      return refuseUpgrade(socket, 429);
    }
    const authorizer = this.options.connectAuthorizer;
    if (authorizer) {
      const requestContext = this.baseContext(meta, '$connect', 'CONNECT');
      const verdict = await authorizeConnect(this.options.host, authorizer, { url, headers, requestContext });
      this.options.log(`[ws] $connect ${id} -> ${verdict.status} (${verdict.detail})`);
      if (verdict.status !== 200) {
        this.routeMetric('$connect', verdict.status < 500 ? 'client-error' : 'execution-error');
        return refuseUpgrade(socket, verdict.status);
      }
      meta.authorizer = verdict.context;
    }
    this.options.meter?.routeEvent();
    const connect = this.options.routes.get('$connect');
    if (connect) {
      const event = {
        headers,
        multiValueHeaders: multiValueHeaders(headers),
        queryStringParameters: url.search ? Object.fromEntries(url.searchParams) : undefined,
        requestContext: this.baseContext(meta, '$connect', 'CONNECT'),
        isBase64Encoded: false,
      };
      const outcome = await this.options.host.invoke(connect, event);
      const status = outcome.ok
        ? Number((outcome.result as { statusCode?: number } | undefined)?.statusCode ?? 200)
        : 500;
      this.options.log(`[ws] $connect ${id} -> ${connect.logicalId} ${status} ${outcome.ms}ms`);
      this.routeMetric('$connect', outcome, status);
      if (status < 200 || status > 299) return refuseUpgrade(socket, status);
    }
    this.wss?.handleUpgrade(req, socket, head, (ws) => this.accept(ws, meta));
  }

  private accept(socket: WebSocket, meta: ConnectionMeta): void {
    const connection: Connection = { ...meta, socket, lastActiveAt: Date.now() };
    this.connections.set(meta.id, connection);
    this.options.meter?.connected();
    this.touch(connection);
    connection.lifeTimer = setTimeout(
      () => socket.close(1001, 'Going away: connection duration limit'),
      this.limits.lifetimeMs,
    );
    connection.lifeTimer.unref();
    socket.on('message', (data, isBinary) => {
      this.touch(connection);
      this.options.meter?.messageIn((data as Buffer).length);
      void this.message(
        connection,
        isBinary ? Buffer.from(data as Buffer).toString('base64') : data.toString(),
      );
    });
    socket.on('close', (code, reason) => void this.disconnected(connection, code, reason.toString()));
    socket.on('error', () => undefined);
  }

  private touch(connection: Connection): void {
    connection.lastActiveAt = Date.now();
    if (connection.idleTimer) clearTimeout(connection.idleTimer);
    connection.idleTimer = setTimeout(
      () => connection.socket.close(1001, 'Going away: idle timeout'),
      this.limits.idleMs,
    );
    connection.idleTimer.unref();
  }

  /** Picks the route by the selection expression; anything unmatched goes to `$default`. */
  routeFor(body: string): string {
    let value: unknown;
    try {
      value = JSON.parse(body);
      for (const key of this.path) value = (value as Record<string, unknown>)?.[key];
    } catch {
      value = undefined;
    }
    if (typeof value === 'string' && this.options.routes.has(value) && !value.startsWith('$')) return value;
    return '$default';
  }

  /** A frame from the gateway itself (an error), counted as API Gateway bills it. */
  private reply(connection: Connection, frame: Record<string, unknown>): void {
    const text = JSON.stringify(frame);
    connection.socket.send(text);
    this.options.meter?.messageOut(Buffer.byteLength(text));
    this.options.metrics?.webSocketMessageOut(this.stageId);
  }

  private async message(connection: Connection, body: string): Promise<void> {
    if (this.throttle && !this.throttle.tryTake()) {
      this.reply(connection, {
        message: 'Too Many Requests',
        connectionId: connection.id,
        requestId: randomUUID(),
      });
      this.options.log(`[ws] message ${connection.id} -> throttled`);
      this.routeMetric('$default', 'client-error');
      return;
    }
    const routeKey = this.routeFor(body);
    const fn = this.options.routes.get(routeKey);
    if (!fn) {
      this.reply(connection, { message: 'Forbidden', connectionId: connection.id, requestId: randomUUID() });
      this.routeMetric(routeKey, 'client-error');
      return;
    }
    this.options.meter?.routeEvent();
    const event = {
      requestContext: { ...this.baseContext(connection, routeKey, 'MESSAGE'), messageId: randomUUID() },
      body,
      isBase64Encoded: false,
    };
    const outcome = await this.options.host.invoke(fn, event);
    const status = outcome.ok
      ? Number((outcome.result as { statusCode?: number } | undefined)?.statusCode ?? 200)
      : 500;
    this.options.log(
      `[ws] ${routeKey} ${connection.id} -> ${fn.logicalId} ${status} ${outcome.ms}ms${outcome.ok ? '' : ` (${outcome.error?.message})`}`,
    );
    this.routeMetric(routeKey, outcome, status);
    if (!outcome.ok) {
      this.reply(connection, {
        message: 'Internal server error',
        connectionId: connection.id,
        requestId: event.requestContext.requestId,
      });
    }
  }

  private async disconnected(connection: Connection, code: number, reason: string): Promise<void> {
    clearTimeout(connection.idleTimer);
    clearTimeout(connection.lifeTimer);
    this.connections.delete(connection.id);
    this.options.meter?.disconnected(Date.now() - connection.connectedAt);
    const fn = this.options.routes.get('$disconnect');
    // On shutdown the stores are going away too; API Gateway itself is what stops here.
    if (!fn || this.stopping) return;
    this.options.meter?.routeEvent();
    const event = {
      requestContext: {
        ...this.baseContext(connection, '$disconnect', 'DISCONNECT'),
        disconnectStatusCode: code,
        disconnectReason: reason,
      },
      isBase64Encoded: false,
    };
    const outcome = await this.options.host.invoke(fn, event);
    this.routeMetric('$disconnect', outcome);
    this.options.log(
      `[ws] $disconnect ${connection.id} (${code}) -> ${fn.logicalId} ${outcome.ok ? 200 : 500} ${outcome.ms}ms`,
    );
  }

  async stop(): Promise<void> {
    this.stopping = true;
    for (const connection of this.connections.values()) {
      clearTimeout(connection.idleTimer);
      clearTimeout(connection.lifeTimer);
      connection.socket.terminate();
    }
    this.connections.clear();
    this.wss?.close();
    if (this.server) await close(this.server);
  }
}

const UPGRADE_REASONS: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  429: 'Too Many Requests',
};

/** Answers an upgrade request with a bare status line, as API Gateway refuses a handshake. */
function refuseUpgrade(socket: Duplex, status: number): void {
  socket.end(
    `HTTP/1.1 ${status} ${UPGRADE_REASONS[status] ?? 'Error'}\r\nconnection: close\r\ncontent-length: 0\r\n\r\n`,
  );
}
