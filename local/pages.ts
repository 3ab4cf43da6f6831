import * as fs from 'node:fs';
import { createServer, type Server } from 'node:http';
import * as path from 'node:path';
import { close, listen, sendJson } from './http-util';

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

/** Serves the built viewer and host console, with `config.json` made from the running runtime. */
export class PagesServer {
  private server?: Server;
  readonly url: string;

  constructor(
    private readonly port: number,
    private readonly dir: string,
    private readonly pageConfig: () => Record<string, unknown>,
  ) {
    this.url = `http://127.0.0.1:${port}`;
  }

  async start(): Promise<void> {
    const root = path.resolve(this.dir);
    this.server = createServer((req, res) => {
      const pathname = decodeURIComponent(new URL(req.url ?? '/', this.url).pathname);
      if (pathname === '/config.json' || pathname === '/host/config.json') {
        return sendJson(res, 200, this.pageConfig(), { 'cache-control': 'no-store' });
      }
      let file = path.resolve(root, `.${pathname}`);
      if (!file.startsWith(root)) return sendJson(res, 403, { message: 'Forbidden' });
      if (fs.existsSync(file) && fs.statSync(file).isDirectory()) file = path.join(file, 'index.html');
      if (!fs.existsSync(file)) return sendJson(res, 404, { message: 'Not Found' });
      res.writeHead(200, { 'content-type': TYPES[path.extname(file)] ?? 'application/octet-stream' });
      fs.createReadStream(file).pipe(res);
    });
    await listen(this.server, this.port, 'web pages');
  }

  async stop(): Promise<void> {
    if (this.server) await close(this.server);
  }
}
