import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AsyncInvoker } from './async-invoke';
import {
  close,
  decodeUriPart,
  guarded,
  listen,
  readBody,
  requestUrl,
  sendAwsError,
  sendJson,
} from './http-util';
import type { LambdaHost } from './lambda-host';
import { type LocalSigning, SigV4Verifier, sendSignatureError } from './sigv4';

/** Lambda's own names for what a request can get wrong. */
const LAMBDA_ERRORS: Record<number, string> = {
  400: 'InvalidRequestContentException',
  413: 'RequestTooLargeException',
};

/**
 * What `GetAccountSettings` answers: AWS's default quotas for an account (docs/local-runtime.md).
 * The template reserves no concurrency, so all of it is unreserved.
 */
const LOCAL_ACCOUNT_SETTINGS = {
  AccountLimit: {
    TotalCodeSize: 80_530_636_800,
    CodeSizeUnzipped: 262_144_000,
    CodeSizeZipped: 52_428_800,
    ConcurrentExecutions: 1000,
    UnreservedConcurrentExecutions: 1000,
  },
} as const;

/**
 * The Lambda Invoke API on loopback (`AWS_ENDPOINT_URL_LAMBDA`): `InvocationType: Event`
 * answers 202 and runs in the background, as Lambda's async invoke does; RequestResponse
 * answers with the function's result; `GetAccountSettings` answers AWS's default quotas. Every call must be SigV4-signed for `lambda` with the
 * local credentials, as Lambda requires.
 */
export class LambdaApi {
  private server?: Server;
  private readonly verifier: SigV4Verifier;
  readonly endpoint: string;

  constructor(
    private readonly port: number,
    private readonly host: LambdaHost,
    private readonly asyncInvoker: AsyncInvoker,
    private readonly log: (line: string) => void,
    signing: LocalSigning,
  ) {
    this.endpoint = `http://127.0.0.1:${port}`;
    this.verifier = new SigV4Verifier('lambda', signing);
  }

  async start(): Promise<void> {
    this.server = createServer(
      guarded(
        (req, res) => this.handle(req, res),
        (res, status, message) =>
          sendAwsError(res, status, LAMBDA_ERRORS[status] ?? 'ServiceException', message),
      ),
    );
    await listen(this.server, this.port, 'Lambda API');
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const pathname = requestUrl(req).pathname;
    const body = await readBody(req, 6 * 1024 * 1024);
    const verdict = this.verifier.verify(req, body);
    if (!verdict.ok) {
      this.log(`[lambda] ${req.method} ${pathname} -> 403 (${verdict.message})`);
      return sendSignatureError(res, verdict, 'rest');
    }
    if (req.method === 'GET' && /^\/2016-08-19\/account-settings\/?$/.test(pathname))
      return sendJson(res, 200, LOCAL_ACCOUNT_SETTINGS);
    const match = /^\/2015-03-31\/functions\/([^/]+)\/invocations$/.exec(pathname);
    if (req.method !== 'POST' || !match)
      return sendAwsError(res, 404, 'ResourceNotFoundException', 'unknown API');
    const name = decodeUriPart(match[1]);
    const fn = this.host.find(name);
    if (!fn) return sendAwsError(res, 404, 'ResourceNotFoundException', `Function not found: ${name}`);
    const payload = body.toString('utf8');
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
      this.asyncInvoker.invoke(fn, event);
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
  }

  async stop(): Promise<void> {
    if (this.server) await close(this.server);
  }
}
