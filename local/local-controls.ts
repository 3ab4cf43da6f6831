/**
 * What the IVS stand-in offers besides IVS: its `/_local/` controls are for the local pages and
 * the tools, so only the pages' origin may read them cross-origin, and a state change needs the
 * header `X-Cuecast-Local: 1`, which a browser sends cross-site only after a preflight that is
 * refused for any other origin. The cue feed is the viewer page's Server-Sent Events stream.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { sendJson } from './http-util';

export const LOCAL_CONTROL_HEADER = 'x-cuecast-local';

/** CORS headers for the local pages' origin only; any other origin gets none. */
export function localCors(req: IncomingMessage, pagesOrigin: string | undefined): Record<string, string> {
  if (!pagesOrigin || req.headers.origin !== pagesOrigin) return { vary: 'origin' };
  return { 'access-control-allow-origin': pagesOrigin, vary: 'origin' };
}

/** Answers a preflight: 204 for the local pages' origin only, 403 for any other. */
export function answerPreflight(
  req: IncomingMessage,
  res: ServerResponse,
  pagesOrigin: string | undefined,
): void {
  const cors = localCors(req, pagesOrigin);
  if (!cors['access-control-allow-origin']) {
    const message = `origin ${req.headers.origin ?? '(none)'} may not call this`;
    return sendJson(res, 403, { error: { code: 'FORBIDDEN', message } }, cors);
  }
  res.writeHead(204, {
    ...cors,
    'access-control-allow-methods': 'GET, POST',
    'access-control-allow-headers': `content-type, ${LOCAL_CONTROL_HEADER}`,
    'access-control-max-age': '600',
  });
  res.end();
}

/** Server-Sent Events: every accepted cue, for the viewer page's local cue source. */
export class CueFeed {
  private readonly listeners = new Set<ServerResponse>();

  subscribe(req: IncomingMessage, res: ServerResponse, cors: Record<string, string>): void {
    res.writeHead(200, {
      'content-type': 'text/event-stream',
      'cache-control': 'no-store',
      connection: 'keep-alive',
      ...cors,
    });
    res.write(': cuecast local metadata\n\n');
    this.listeners.add(res);
    req.on('close', () => this.listeners.delete(res));
  }

  publish(event: unknown): void {
    const frame = `data: ${JSON.stringify(event)}\n\n`;
    for (const listener of this.listeners) listener.write(frame);
  }

  close(): void {
    for (const listener of this.listeners) listener.end();
    this.listeners.clear();
  }
}
