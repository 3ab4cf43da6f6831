import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { SignatureV4 } from '@smithy/signature-v4';
import WebSocket from 'ws';
import { NodeSha256 } from '../../client/sha256-node';
import type { LocalFunction } from '../../local/lambda-host';
import { freeBasePort } from '../../local/ports';
import {
  type LocalConfig,
  type LocalRuntime,
  type LocalRuntimeOptions,
  startLocalRuntime,
} from '../../local/runtime';

/**
 * The local runtime as every integration suite boots it: free loopback ports, the cdk.out that
 * test/global-setup.ts synthesized once, a throwaway state file, and quiet logs (with
 * CUECAST_TEST_LOG=FILE, every runtime's log is appended to FILE, for chasing a failure).
 */
export async function bootTestRuntime(options: LocalRuntimeOptions = {}): Promise<LocalRuntime> {
  const logFile = process.env.CUECAST_TEST_LOG;
  return startLocalRuntime({
    basePort: await freeBasePort(),
    synth: false,
    stateFile: tempStateFile(),
    log: logFile ? (line) => fs.appendFileSync(logFile, `${line}\n`) : () => undefined,
    ...options,
  });
}

export const tempStateFile = () => path.join(os.tmpdir(), `cuecast-local-${process.pid}-${Date.now()}.json`);

export interface HttpReply {
  status: number;
  headers: Headers;
  body: any;
}

/** The body of API Gateway's own 429, when a stage's token bucket is empty. */
const STAGE_THROTTLED = '{"message":"Too Many Requests"}';

/**
 * Calls the HTTP API, signed with the AWS SDK's SigV4 signer unless `sign` is false. A body goes
 * as `application/json` unless `contentType` says otherwise (null: no content type at all).
 * API Gateway's own throttling (`429 {"message":"Too Many Requests"}`) is waited out and the call
 * sent again, as AWS advises clients, so fast suites stay within the stage limits of the template.
 */
export async function callApi(
  config: LocalConfig,
  method: string,
  route: string,
  body?: unknown,
  {
    sign = true,
    credentials = config.credentials,
    contentType = 'application/json',
  }: { sign?: boolean; credentials?: Signing['credentials']; contentType?: string | null } = {},
): Promise<HttpReply> {
  const url = new URL(route.replace(/^\//, ''), config.httpApiUrl);
  const text = body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body);
  let headers: Record<string, string> = {
    host: url.host,
    ...(text && contentType !== null ? { 'content-type': contentType } : {}),
  };
  if (sign) {
    const signing = { service: 'execute-api', region: config.region, credentials };
    headers = { host: url.host, ...(await signHeaders(url, method, headers, text, signing)) };
  }
  const { host: _host, ...sendable } = headers;
  // Bytes, not a string: fetch would add `content-type: text/plain` to a string body.
  const send = () =>
    fetch(url, { method, headers: sendable, body: text === undefined ? undefined : Buffer.from(text) });
  let res = await send();
  let raw = await res.text();
  for (let waits = 0; res.status === 429 && raw === STAGE_THROTTLED && waits < 200; waits++) {
    await sleep(50);
    res = await send();
    raw = await res.text();
  }
  let parsed: unknown = raw;
  try {
    parsed = raw ? JSON.parse(raw) : undefined;
  } catch {
    // not JSON: keep the text
  }
  return { status: res.status, headers: res.headers, body: parsed };
}

/** What an SDK client signs with: the service's signing name, a region and credentials. */
export interface Signing {
  readonly service: string;
  readonly region: string;
  readonly credentials: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
}

/**
 * The headers (without `host`, which fetch sets) that an SDK client of `signing.service` sends
 * with this request: SigV4 from the AWS SDK's own signer.
 */
export async function signHeaders(
  url: URL,
  method: string,
  headers: Record<string, string>,
  body: string | undefined,
  signing: Signing,
): Promise<Record<string, string>> {
  const signer = new SignatureV4({
    ...signing,
    sha256: NodeSha256 as unknown as ConstructorParameters<typeof SignatureV4>[0]['sha256'],
  });
  const signed = await signer.sign({
    method,
    protocol: url.protocol,
    hostname: url.hostname,
    port: Number(url.port),
    path: url.pathname,
    query: queryBag(url.searchParams),
    headers: { ...headers, host: url.host },
    body,
  });
  const { host: _host, ...sendable } = signed.headers as Record<string, string>;
  return sendable;
}

/** The query as the signer takes it: a repeated parameter keeps every value, so it is signed too. */
function queryBag(params: URLSearchParams): Record<string, string | string[]> {
  const bag: Record<string, string | string[]> = {};
  for (const name of new Set(params.keys())) {
    const values = params.getAll(name);
    bag[name] = values.length === 1 ? values[0] : values;
  }
  return bag;
}

/** `fetch` signed as an SDK client of `signing.service` signs: for a stand-in's own API. */
export async function signedFetch(
  url: string,
  init: { method?: string; headers?: Record<string, string>; body?: string },
  signing: Signing,
): Promise<Response> {
  const target = new URL(url);
  const method = init.method ?? 'GET';
  const headers = await signHeaders(target, method, init.headers ?? {}, init.body, signing);
  // Bytes, not a string: fetch would add `content-type: text/plain` to a string body.
  return fetch(target, {
    method,
    headers,
    body: init.body === undefined ? undefined : Buffer.from(init.body),
  });
}

/**
 * Switches the IVS stand-in's stream (`POST /_local/stream`), with the `X-Cuecast-Local: 1`
 * header every state-changing local control needs.
 */
export function setStream(config: LocalConfig, state: string): Promise<Response> {
  return fetch(`${config.ivsEndpoint}/_local/stream`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-cuecast-local': '1' },
    body: JSON.stringify({ state }),
  });
}

/**
 * `callApi` that waits out `429` as a host would, by its `Retry-After`: the rate guard allows 5
 * cues per rolling second, and suites that send many must not fail on it.
 */
export async function callApiPatiently(
  config: LocalConfig,
  method: string,
  route: string,
  body?: unknown,
): Promise<HttpReply> {
  for (let attempt = 0; attempt < 10; attempt++) {
    const reply = await callApi(config, method, route, body);
    if (reply.status !== 429) return reply;
    await sleep(1000 * Number(reply.headers.get('retry-after') ?? 1));
  }
  throw new Error(`${method} ${route}: rate limited 10 times in a row`);
}

/** A viewer: a real `ws` client that records every frame it receives. */
export class Viewer {
  readonly frames: any[] = [];
  private waiters: Array<{ test: (f: any) => boolean; resolve: (f: any) => void }> = [];
  closeCode?: number;

  private constructor(readonly socket: WebSocket) {
    socket.on('message', (data) => {
      let frame: unknown;
      try {
        frame = JSON.parse(data.toString());
      } catch {
        frame = { unparsable: data.toString() };
      }
      this.frames.push(frame);
      this.waiters = this.waiters.filter((w) => {
        if (!w.test(frame)) return true;
        w.resolve(frame);
        return false;
      });
    });
    socket.on('close', (code) => {
      this.closeCode = code;
    });
  }

  static connect(url: string): Promise<Viewer> {
    return new Promise((resolve, reject) => {
      const socket = new WebSocket(url);
      socket.once('open', () => resolve(new Viewer(socket)));
      socket.once('error', reject);
      socket.once('unexpected-response', (_req, res) =>
        reject(new Error(`upgrade refused: ${res.statusCode}`)),
      );
    });
  }

  send(message: unknown): void {
    this.socket.send(typeof message === 'string' ? message : JSON.stringify(message));
  }

  /** Resolves with the first frame (already received or to come) that passes `test`. */
  waitFor(test: (frame: any) => boolean, timeoutMs = 10_000): Promise<any> {
    const seen = this.frames.find(test);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`no matching frame in ${timeoutMs} ms; got ${JSON.stringify(this.frames)}`)),
        timeoutMs,
      );
      this.waiters.push({
        test,
        resolve: (frame) => {
          clearTimeout(timer);
          resolve(frame);
        },
      });
    });
  }

  /** Sends and waits for the next frame of one of `types`. */
  async request(message: unknown, types: string[], timeoutMs?: number): Promise<any> {
    const before = this.frames.length;
    this.send(message);
    return this.waitFor((f) => this.frames.indexOf(f) >= before && types.includes(f.type), timeoutMs);
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      if (this.socket.readyState === WebSocket.CLOSED) return resolve();
      this.socket.once('close', () => resolve());
      this.socket.close();
    });
  }
}

/** A function record for gateway tests that stub the Lambda host: it names a route's target. */
export const stubFunction = (logicalId: string): LocalFunction => ({
  logicalId,
  name: logicalId,
  arn: `arn:aws:lambda:us-east-1:000000000000:function:${logicalId}`,
  entry: '',
  handlerName: 'handler',
  env: {},
  timeoutMs: 1000,
  memorySize: 128,
});

/** The platform's sleep, for the suites that import it from here. */
export { freeBasePort, sleep };
