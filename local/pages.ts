import * as fs from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import * as path from 'node:path';
import type { HostPageConfig, PageConfig } from '../web/src/config';
import { cloudFrontQuerystring, type ViewerRequest, type ViewerRequestOutcome } from './cloudfront-function';
import { close, decodeUriPart, guarded, listen, requestUrl, sendGatewayError, sendJson } from './http-util';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.wasm': 'application/wasm',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
};

/** The two `config.json`s: the viewer's never carries credentials; the host console's may. */
export interface PageConfigs {
  /** Served at `/config.json`. */
  readonly viewer: () => PageConfig;
  /** Served at `/host/config.json`. */
  readonly host: () => HostPageConfig;
}

/** True when `file` is `root` or below it (a shared name prefix, like `dist-ssr`, is not). */
function isInside(root: string, file: string): boolean {
  const relative = path.relative(root, file);
  return !path.isAbsolute(relative) && relative.split(path.sep)[0] !== '..';
}

/**
 * Serves the built viewer and host console, with their `config.json`s made from the running
 * runtime, and the security headers CloudFront adds to every answer.
 */
export class PagesServer {
  private server?: Server;
  readonly url: string;

  constructor(
    private readonly port: number,
    private readonly dir: string,
    private readonly configs: PageConfigs,
    /** Sent with every page and file: the distribution's security headers. @default none */
    private readonly headers: Readonly<Record<string, string>> = {},
    /**
     * The distribution's viewer-request CloudFront Function (local/cloudfront-function.ts): it
     * may rewrite the path or answer (a redirect) before the bucket is read. @default none
     */
    private readonly viewerRequest?: (request: ViewerRequest) => ViewerRequestOutcome,
  ) {
    this.url = `http://127.0.0.1:${port}`;
  }

  async start(): Promise<void> {
    const root = path.resolve(this.dir);
    this.server = createServer(guarded((req, res) => this.serve(root, req, res), sendGatewayError));
    await listen(this.server, this.port, 'web pages');
  }

  private serve(root: string, req: IncomingMessage, res: ServerResponse): void {
    const url = requestUrl(req);
    for (const [name, value] of Object.entries(this.headers)) res.setHeader(name, value);
    // A malformed escape is refused (400) before any function runs, as CloudFront refuses it.
    let pathname = decodeUriPart(url.pathname);
    if (this.viewerRequest) {
      const outcome = this.viewerRequest({
        uri: url.pathname,
        querystring: cloudFrontQuerystring(url.searchParams),
      });
      if ('response' in outcome) {
        res.writeHead(outcome.response.statusCode, outcome.response.headers);
        res.end();
        return;
      }
      if (outcome.request.uri !== url.pathname) pathname = decodeUriPart(outcome.request.uri);
    }
    if (pathname === '/config.json')
      return sendJson(res, 200, this.configs.viewer(), { 'cache-control': 'no-store' });
    if (pathname === '/host/config.json')
      return sendJson(res, 200, this.configs.host(), { 'cache-control': 'no-store' });
    let file = path.resolve(root, `.${pathname}`);
    if (!isInside(root, file)) return sendJson(res, 403, { message: 'Forbidden' });
    if (fs.existsSync(file) && fs.statSync(file).isDirectory()) file = path.join(file, 'index.html');
    if (!fs.existsSync(file) || !fs.statSync(file).isFile())
      return sendJson(res, 404, { message: 'Not Found' });
    res.writeHead(200, { 'content-type': TYPES[path.extname(file)] ?? 'application/octet-stream' });
    // A file that vanishes or cannot be read after the headers went out ends the connection.
    fs.createReadStream(file)
      .on('error', () => res.destroy())
      .pipe(res);
  }

  async stop(): Promise<void> {
    if (this.server) await close(this.server);
  }
}
