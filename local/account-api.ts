import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { close, guarded, jsonObject, listen, readBody, sendJson } from './http-util';
import { serviceQuotasCall } from './service-quotas';
import { type LocalSigning, type SigV4Refusal, SigV4Verifier, sendSignatureError } from './sigv4';
import type { LocalSns } from './sns';
import { snsCall, snsError } from './sns-api';
import { LOCAL_ACCOUNT_ID } from './stack-model';

const QUOTAS_TARGET = 'ServiceQuotasV20190624.';
/** How SNS's query protocol names a refused signature (its codes differ from the JSON services'). */
const SNS_SIGNATURE_CODES: Record<SigV4Refusal['code'], string> = {
  MissingAuthenticationToken: 'MissingAuthenticationToken',
  IncompleteSignature: 'IncompleteSignature',
  UnrecognizedClient: 'InvalidClientTokenId',
  ExpiredToken: 'ExpiredToken',
  InvalidSignature: 'SignatureDoesNotMatch',
};

export interface AccountApiOptions {
  readonly port: number;
  readonly signing: LocalSigning;
  /** The template's topics (the alarm topic), as the alarms publish to them. */
  readonly sns: LocalSns;
  readonly log: (line: string) => void;
}

/**
 * The account-level APIs `npm run host -- preflight` reads, on one loopback port, each in its own
 * wire protocol and checked for a SigV4 signature scoped to its own service: Service Quotas (AWS
 * JSON 1.1, `X-Amz-Target: ServiceQuotasV20190624.*`, service `servicequotas`) and SNS (the query
 * protocol, a form body with `Action`, service `sns`).
 */
export class AccountApi {
  private server?: Server;
  readonly endpoint: string;
  private readonly quotasVerifier: SigV4Verifier;
  private readonly snsVerifier: SigV4Verifier;

  constructor(private readonly options: AccountApiOptions) {
    this.endpoint = `http://127.0.0.1:${options.port}`;
    this.quotasVerifier = new SigV4Verifier('servicequotas', options.signing);
    this.snsVerifier = new SigV4Verifier('sns', options.signing);
  }

  async start(): Promise<void> {
    this.server = createServer(
      guarded(
        (req, res) => this.handle(req, res),
        (res, status, message) => sendJson(res, status, { __type: 'ServiceException', message }),
      ),
    );
    await listen(this.server, this.options.port, 'account APIs (Service Quotas, SNS)');
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await readBody(req, 256 * 1024);
    const target = String(req.headers['x-amz-target'] ?? '');
    if (req.method === 'POST' && target.startsWith(QUOTAS_TARGET)) return this.quotas(req, res, body, target);
    if (
      req.method === 'POST' &&
      String(req.headers['content-type']).startsWith('application/x-www-form-urlencoded')
    )
      return this.topics(req, res, body);
    sendJson(res, 404, { __type: 'UnknownOperationException', message: `no ${req.method} ${req.url} here` });
  }

  private quotas(req: IncomingMessage, res: ServerResponse, body: Buffer, target: string): void {
    const verdict = this.quotasVerifier.verify(req, body);
    if (!verdict.ok) return sendSignatureError(res, verdict, 'json');
    const input = jsonObject(body);
    if (!input)
      return sendJson(res, 400, {
        __type: 'SerializationException',
        message: 'The body is not a JSON object',
      });
    const operation = target.slice(QUOTAS_TARGET.length);
    const reply = serviceQuotasCall(operation, input, this.options.signing.region, LOCAL_ACCOUNT_ID);
    this.options.log(
      `[service-quotas] ${operation} ${String(input.ServiceCode)} -> ${reply.ok ? 200 : reply.type}`,
    );
    if (reply.ok) return sendJson(res, 200, reply.body, { 'content-type': 'application/x-amz-json-1.1' });
    sendJson(res, 400, { __type: reply.type, message: reply.message }, { 'x-amzn-errortype': reply.type });
  }

  private topics(req: IncomingMessage, res: ServerResponse, body: Buffer): void {
    const verdict = this.snsVerifier.verify(req, body);
    const form = new URLSearchParams(body.toString('utf8'));
    const reply = verdict.ok
      ? snsCall(form, this.options.sns.topics, LOCAL_ACCOUNT_ID)
      : snsError(403, SNS_SIGNATURE_CODES[verdict.code], verdict.message);
    this.options.log(`[sns] ${form.get('Action') ?? '(no action)'} -> ${reply.status}`);
    res.writeHead(reply.status, {
      'content-type': 'text/xml',
      'content-length': Buffer.byteLength(reply.xml),
    });
    res.end(reply.xml);
  }

  /** Its fields of `.cuecast/local.json` (docs/protocol.md §6.1): both endpoints, and the alarm topic. */
  localConfig(): { serviceQuotasEndpoint: string; snsEndpoint: string; alarmTopicArn?: string } {
    const alarmTopicArn = this.options.sns.topics[0]?.arn;
    return { serviceQuotasEndpoint: this.endpoint, snsEndpoint: this.endpoint, alarmTopicArn };
  }

  async stop(): Promise<void> {
    if (this.server) await close(this.server);
  }
}
