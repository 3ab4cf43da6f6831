import type { IncomingMessage, Server, ServerResponse } from 'node:http';

/** A failure to answer with its own status: a 4xx names what the client sent wrong. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** The whole request body; one over `limitBytes` is a 413. */
export async function readBody(req: IncomingMessage, limitBytes = 10 * 1024 * 1024): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limitBytes) throw new HttpError(413, 'request body too large');
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

/** The request's URL; a target no URL parser accepts is a 400, as API Gateway answers it. */
export function requestUrl(req: IncomingMessage): URL {
  try {
    return new URL(req.url ?? '/', 'http://127.0.0.1');
  } catch {
    throw new HttpError(400, 'Bad Request');
  }
}

/** `decodeURIComponent`, with a malformed `%` escape as a 400 instead of a URIError. */
export function decodeUriPart(part: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    throw new HttpError(400, 'Bad Request');
  }
}

/**
 * Wraps a request handler so that no request can stop the runtime: whatever the handler throws
 * or rejects with is answered through `reply` (an `HttpError`'s own status, else 500), or, once
 * a reply has started, ends the connection.
 */
export function guarded(
  handler: (req: IncomingMessage, res: ServerResponse) => unknown,
  reply: (res: ServerResponse, status: number, message: string) => void,
): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    const fail = (error: unknown) => {
      if (res.headersSent) return void res.destroy();
      const status = error instanceof HttpError ? error.status : 500;
      reply(res, status, error instanceof Error ? error.message : String(error));
    };
    try {
      Promise.resolve(handler(req, res)).catch(fail);
    } catch (error) {
      fail(error);
    }
  };
}

export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = body === undefined ? '' : JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
    ...headers,
  });
  res.end(text);
}

/** API Gateway's own error reply, `{"message": …}`, which tells nothing of a 500's cause. */
export function sendGatewayError(res: ServerResponse, status: number, message: string): void {
  sendJson(res, status, { message: status < 500 ? message : 'Internal Server Error' });
}

/** An AWS JSON-protocol error, as the SDK v3 parses it (`x-amzn-errortype` names the exception). */
export function sendAwsError(res: ServerResponse, status: number, type: string, message: string): void {
  sendJson(res, status, { message, exceptionMessage: message }, { 'x-amzn-errortype': type });
}

/** A `guarded` reply as an AWS service's error: `clientType` names a 4xx, `serverType` the rest. */
export function awsErrorReply(
  clientType: string,
  serverType: string,
): (res: ServerResponse, status: number, message: string) => void {
  return (res, status, message) => sendAwsError(res, status, status < 500 ? clientType : serverType, message);
}

/** Listens on 127.0.0.1 only; a taken port becomes a readable error. */
export function listen(server: Server, port: number, what: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException) => {
      reject(
        error.code === 'EADDRINUSE'
          ? new Error(
              `port ${port} (${what}) is already in use: stop the other process or set CUECAST_LOCAL_PORT`,
            )
          : error,
      );
    };
    server.once('error', onError);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', onError);
      resolve();
    });
  });
}

export function close(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.closeAllConnections?.();
    server.close(() => resolve());
  });
}

/**
 * An AWS JSON protocol request's body: the object it holds (an empty body is `{}`), or undefined
 * when it is not JSON, or JSON but not an object (`null`, an array, a string), which AWS refuses
 * with 400 `SerializationException` rather than failing on.
 */
export function jsonObject(body: Buffer): Record<string, unknown> | undefined {
  try {
    const parsed: unknown = JSON.parse(body.toString('utf8') || '{}');
    return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)
      ? (parsed as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}
