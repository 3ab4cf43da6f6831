import type { IncomingMessage, ServerResponse } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import type { WebSocket } from 'ws';
import { FaultPlan } from './faults';
import { decodeUriPart, readBody, requestUrl, sendAwsError, sendJson } from './http-util';
import { type LocalSigning, SigV4Verifier, sendSignatureError } from './sigv4';
import type { UsageMeter } from './usage';

/** A `@connections` call, as fault rules see it. */
export interface ManagementRequest {
  readonly method: string;
  readonly connectionId: string;
}

/** What an injected `@connections` fault does: answer 410 GoneException or a 500, or never answer. */
export type ManagementFault = { readonly status: 410 | 500 } | 'hang';

/** What the management API sees of a client connection. */
export interface ManagedConnection {
  readonly socket: WebSocket;
  readonly connectedAt: number;
  readonly lastActiveAt: number;
  readonly sourceIp: string;
  readonly userAgent: string;
}

export interface ConnectionsApiOptions {
  readonly stage: string;
  readonly signing: LocalSigning;
  /** The largest message a POST may carry (128 KB on AWS). */
  readonly messageBytes: number;
  /** Added to every call: a model of an in-region AWS round trip. @default 0 */
  readonly latencyMs?: number;
  /** The open connection with this id, if any. */
  readonly lookup: (connectionId: string) => ManagedConnection | undefined;
  readonly log: (line: string) => void;
  /** Counts each message sent. @default none */
  readonly meter?: UsageMeter;
  /** Each post delivered to a client (API Gateway's `MessageCount` counts them). @default none */
  readonly onMessageOut?: () => void;
}

/**
 * The stage's `@connections` management API: `{stage}/@connections/{id}`, where POST sends, GET
 * describes and DELETE closes, with a real 410 GoneException for a closed or unknown connection.
 * Every call must be SigV4-signed for `execute-api` with the local credentials, as on AWS.
 */
export class ConnectionsApi {
  /** Injected faults (tests only; nothing is armed by default). */
  readonly faults = new FaultPlan<ManagementRequest, ManagementFault>();
  private readonly verifier: SigV4Verifier;
  private readonly path: RegExp;

  constructor(private readonly options: ConnectionsApiOptions) {
    this.verifier = new SigV4Verifier('execute-api', options.signing);
    this.path = new RegExp(`^/${options.stage}/@connections/([^/]+)$`);
  }

  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = requestUrl(req);
    const body = await readBody(req, this.options.messageBytes + 1);
    const verdict = this.verifier.verify(req, body);
    if (!verdict.ok) {
      this.options.log(`[ws] ${req.method} ${url.pathname} -> 403 (${verdict.message})`);
      return sendSignatureError(res, verdict, 'rest');
    }
    const match = this.path.exec(url.pathname);
    if (!match) return sendAwsError(res, 404, 'NotFoundException', `no route ${req.method} ${url.pathname}`);
    if (this.options.latencyMs) await sleep(this.options.latencyMs);
    const connectionId = decodeUriPart(match[1]);
    const fault = this.faults.take({ method: req.method ?? '', connectionId });
    if (fault === 'hang') return; // held until the caller gives up or crashes; nothing is delivered
    if (fault?.status === 410)
      return sendAwsError(res, 410, 'GoneException', `connection ${match[1]} is gone`);
    if (fault?.status === 500)
      return sendAwsError(res, 500, 'InternalServerErrorException', 'internal server error (injected fault)');
    const connection = this.options.lookup(connectionId);
    if (!connection || connection.socket.readyState !== connection.socket.OPEN) {
      return sendAwsError(res, 410, 'GoneException', `connection ${match[1]} is gone`);
    }
    switch (req.method) {
      case 'POST':
        if (body.length > this.options.messageBytes) {
          return sendAwsError(res, 413, 'PayloadTooLargeException', 'message exceeds 128 KB');
        }
        connection.socket.send(body.toString('utf8'));
        this.options.meter?.messageOut(body.length);
        this.options.onMessageOut?.();
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
}
