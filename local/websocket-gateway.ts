import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { type WebSocket, WebSocketServer } from 'ws';
import { flatHeaders } from './http-gateway';
import { close, listen, readBody, sendAwsError, sendJson } from './http-util';
import type { LambdaHost, LocalFunction } from './lambda-host';

/** API Gateway WebSocket limits (DESIGN.md §2). */
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
}

interface Connection {
  readonly id: string;
  readonly socket: WebSocket;
  readonly connectedAt: number;
  lastActiveAt: number;
  readonly sourceIp: string;
  readonly userAgent: string;
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

  constructor(private readonly options: WebSocketGatewayOptions) {
    this.path = selectionPath(options.routeSelectionExpression);
    this.limits = { ...WS_LIMITS, ...options.limits };
    this.url = `ws://127.0.0.1:${options.port}`;
    this.managementUrl = `http://127.0.0.1:${options.port}/${options.stage}`;
  }

  get size(): number {
    return this.connections.size;
  }

  async start(): Promise<void> {
    // maxPayload: a larger frame closes the socket with 1009, as API Gateway does.
    this.wss = new WebSocketServer({ noServer: true, maxPayload: this.limits.frameBytes });
    this.server = createServer((req, res) => {
      this.management(req, res).catch((error: Error) => {
        if (!res.headersSent) sendAwsError(res, 500, 'InternalServerErrorException', error.message);
      });
    });
    this.server.on('upgrade', (req, socket, head) => void this.upgrade(req, socket, head));
    await listen(this.server, this.options.port, 'WebSocket API');
  }

  private baseContext(
    connection: { id: string; connectedAt: number; sourceIp: string; userAgent: string },
    routeKey: string,
    eventType: string,
  ) {
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
    };
  }

  private async upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    const started = Date.now();
    const id = randomBytes(12).toString('base64').replace(/\//g, '_');
    const url = new URL(req.url ?? '/', 'http://local');
    const headers = flatHeaders(req);
    const meta = {
      id,
      connectedAt: started,
      sourceIp: req.socket.remoteAddress ?? '127.0.0.1',
      userAgent: headers['user-agent'] ?? '',
    };
    const connect = this.options.routes.get('$connect');
    if (connect) {
      const event = {
        headers,
        multiValueHeaders: Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, [v]])),
        queryStringParameters: url.search ? Object.fromEntries(url.searchParams) : undefined,
        requestContext: this.baseContext(meta, '$connect', 'CONNECT'),
        isBase64Encoded: false,
      };
      const outcome = await this.options.host.invoke(connect, event);
      const status = outcome.ok
        ? Number((outcome.result as { statusCode?: number } | undefined)?.statusCode ?? 200)
        : 500;
      this.options.log(`[ws] $connect ${id} -> ${connect.logicalId} ${status} ${outcome.ms}ms`);
      if (status < 200 || status > 299) {
        socket.end(
          `HTTP/1.1 ${status} ${status === 401 ? 'Unauthorized' : status === 403 ? 'Forbidden' : 'Error'}\r\nconnection: close\r\ncontent-length: 0\r\n\r\n`,
        );
        return;
      }
    }
    this.wss?.handleUpgrade(req, socket, head, (ws) => this.accept(ws, meta));
  }

  private accept(
    socket: WebSocket,
    meta: { id: string; connectedAt: number; sourceIp: string; userAgent: string },
  ): void {
    const connection: Connection = { ...meta, socket, lastActiveAt: Date.now() };
    this.connections.set(meta.id, connection);
    this.touch(connection);
    connection.lifeTimer = setTimeout(
      () => socket.close(1001, 'Going away: connection duration limit'),
      this.limits.lifetimeMs,
    );
    connection.lifeTimer.unref();
    socket.on('message', (data, isBinary) => {
      this.touch(connection);
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

  private async message(connection: Connection, body: string): Promise<void> {
    const routeKey = this.routeFor(body);
    const fn = this.options.routes.get(routeKey);
    if (!fn) {
      connection.socket.send(
        JSON.stringify({ message: 'Forbidden', connectionId: connection.id, requestId: randomUUID() }),
      );
      return;
    }
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
    if (!outcome.ok) {
      connection.socket.send(
        JSON.stringify({
          message: 'Internal server error',
          connectionId: connection.id,
          requestId: event.requestContext.requestId,
        }),
      );
    }
  }

  private async disconnected(connection: Connection, code: number, reason: string): Promise<void> {
    clearTimeout(connection.idleTimer);
    clearTimeout(connection.lifeTimer);
    this.connections.delete(connection.id);
    const fn = this.options.routes.get('$disconnect');
    // On shutdown the stores are going away too; API Gateway itself is what stops here.
    if (!fn || this.stopping) return;
    const event = {
      requestContext: {
        ...this.baseContext(connection, '$disconnect', 'DISCONNECT'),
        disconnectStatusCode: code,
        disconnectReason: reason,
      },
      isBase64Encoded: false,
    };
    const outcome = await this.options.host.invoke(fn, event);
    this.options.log(
      `[ws] $disconnect ${connection.id} (${code}) -> ${fn.logicalId} ${outcome.ok ? 200 : 500} ${outcome.ms}ms`,
    );
  }

  /** `{stage}/@connections/{id}`: POST sends, GET describes, DELETE closes. */
  private async management(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://local');
    const match = new RegExp(`^/${this.options.stage}/@connections/([^/]+)$`).exec(url.pathname);
    if (!match) return sendAwsError(res, 404, 'NotFoundException', `no route ${req.method} ${url.pathname}`);
    const latency = this.options.managementLatencyMs ?? 0;
    if (latency > 0) await new Promise((resolve) => setTimeout(resolve, latency));
    const connection = this.connections.get(decodeURIComponent(match[1]));
    const body = req.method === 'POST' ? await readBody(req, this.limits.messageBytes + 1) : Buffer.alloc(0);
    if (!connection || connection.socket.readyState !== connection.socket.OPEN) {
      return sendAwsError(res, 410, 'GoneException', `connection ${match[1]} is gone`);
    }
    switch (req.method) {
      case 'POST':
        if (body.length > this.limits.messageBytes) {
          return sendAwsError(res, 413, 'PayloadTooLargeException', 'message exceeds 128 KB');
        }
        connection.socket.send(body.toString('utf8'));
        res.writeHead(200).end();
        return;
      case 'GET':
        return sendJson(res, 200, {
          ConnectedAt: new Date(connection.connectedAt).toISOString(),
          LastActiveAt: new Date(connection.lastActiveAt).toISOString(),
          Identity: { SourceIp: connection.sourceIp, UserAgent: connection.userAgent },
        });
      case 'DELETE':
        connection.socket.close(1000);
        res.writeHead(204).end();
        return;
      default:
        return sendAwsError(res, 405, 'BadRequestException', `${req.method} is not supported`);
    }
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
