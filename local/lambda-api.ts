import { createServer, type Server } from 'node:http';
import { close, listen, readBody, sendAwsError, sendJson } from './http-util';
import type { LambdaHost } from './lambda-host';

/**
 * The Lambda Invoke API on loopback (`AWS_ENDPOINT_URL_LAMBDA`): `InvocationType: Event`
 * answers 202 and runs in the background, as Lambda's async invoke does; RequestResponse
 * answers with the function's result.
 */
export class LambdaApi {
  private server?: Server;
  readonly endpoint: string;

  constructor(
    private readonly port: number,
    private readonly host: LambdaHost,
    private readonly log: (line: string) => void,
  ) {
    this.endpoint = `http://127.0.0.1:${port}`;
  }

  async start(): Promise<void> {
    this.server = createServer(async (req, res) => {
      const match = /^\/2015-03-31\/functions\/([^/]+)\/invocations$/.exec(
        new URL(req.url ?? '/', this.endpoint).pathname,
      );
      if (req.method !== 'POST' || !match)
        return sendAwsError(res, 404, 'ResourceNotFoundException', 'unknown API');
      const name = decodeURIComponent(match[1]);
      const fn = this.host.find(name);
      if (!fn) return sendAwsError(res, 404, 'ResourceNotFoundException', `Function not found: ${name}`);
      const payload = (await readBody(req, 6 * 1024 * 1024)).toString('utf8');
      let event: unknown;
      try {
        event = payload ? JSON.parse(payload) : {};
      } catch {
        return sendAwsError(
          res,
          400,
          'InvalidRequestContentException',
          'Could not parse request body into json',
        );
      }
      if (req.headers['x-amz-invocation-type'] === 'Event') {
        res.writeHead(202).end();
        void this.host.invoke(fn, event).then((outcome) => {
          this.log(
            `[lambda] async ${fn.logicalId} ${outcome.ok ? 'ok' : `failed (${outcome.error?.message})`} ${outcome.ms}ms ${outcome.ok ? JSON.stringify(outcome.result ?? null).slice(0, 120) : ''}`,
          );
        });
        return;
      }
      const outcome = await this.host.invoke(fn, event);
      this.log(`[lambda] ${fn.logicalId} ${outcome.ok ? 'ok' : 'failed'} ${outcome.ms}ms`);
      if (!outcome.ok) {
        return sendJson(
          res,
          200,
          { errorType: outcome.error?.name, errorMessage: outcome.error?.message },
          { 'x-amz-function-error': 'Unhandled' },
        );
      }
      sendJson(res, 200, outcome.result ?? null);
    });
    await listen(this.server, this.port, 'Lambda API');
  }

  async stop(): Promise<void> {
    if (this.server) await close(this.server);
  }
}
