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
import { RecentLines, waitUntil } from '../support/wait';

/** The last lines each test runtime logged, for the message of a wait that times out. */
const recentLogs = new WeakMap<LocalRuntime, RecentLines>();
/** The same lines by the runtime's WebSocket URL, so a {@link Viewer}'s timeout can show them. */
const recentLogsByUrl = new Map<string, RecentLines>();
/** The recent log of the runtime whose WebSocket URL `url` opens (its query may carry a token). */
const logAt = (url: string): string =>
  [...recentLogsByUrl].find(([base]) => url.startsWith(base))?.[1].toString() ?? '(none kept)';

/**
 * The local runtime as every integration suite boots it: free loopback ports, the cdk.out that
 * test/global-setup.ts synthesized once, a throwaway state file, and quiet logs (with
 * CUECAST_TEST_LOG=FILE, every runtime's log is appended to FILE, for chasing a failure). The
 * last lines are kept either way ({@link recentLog}), and still go to a `log` option's function.
 */
export async function bootTestRuntime(options: LocalRuntimeOptions = {}): Promise<LocalRuntime> {
  const logFile = process.env.CUECAST_TEST_LOG;
  const recent = new RecentLines(60);
  const boot = async () =>
    startLocalRuntime({
      basePort: await freeBasePort(),
      synth: false,
      stateFile: tempStateFile(),
      ...options,
      log: (line) => {
        recent.push(line);
        if (logFile) fs.appendFileSync(logFile, `${line}\n`);
        options.log?.(line);
      },
    });
  // Another jest worker's runtime may take a port between the check and the listen: the boot then
  // fails cleanly (nothing left running), and a fresh range is tried.
  for (let attempt = 1; ; attempt++) {
    try {
      const runtime = await boot();
      recentLogs.set(runtime, recent);
      recentLogsByUrl.set(runtime.config.webSocketUrl, recent);
      return runtime;
    } catch (error) {
      const taken = /is already in use/.test((error as Error).message);
      if (!taken || options.basePort !== undefined || attempt === 3) throw error;
    }
  }
}

/** What a runtime booted by {@link bootTestRuntime} logged last: for a timeout's message. */
export const recentLog = (runtime: LocalRuntime): string =>
  `recent runtime log:\n${recentLogs.get(runtime)?.toString() ?? '(none kept)'}`;

/** Functions with an invocation queued or running, by logical id, with how many. */
export function busyFunctions(runtime: LocalRuntime): Record<string, number> {
  const busy: Record<string, number> = {};
  for (const fn of runtime.host.all()) {
    const running = runtime.host.running(fn.logicalId);
    if (running > 0) busy[fn.logicalId] = running;
  }
  return busy;
}

/**
 * Waits until no function has an invocation queued or running. Every link of the stack's chains
 * starts its next one before it finishes (an API call's function invokes the fan-out before it
 * answers; a stream switch hands its event to the function before `POST /_local/stream` answers),
 * so once nothing runs, the work of everything a test did before has finished. It cannot see an
 * asynchronous retry waiting for its delay, nor a message still on its way to the gateway.
 *
 * Connect viewers whose pushes a test awaits only on an idle runtime: a fan-out still running
 * (the boot's stream push, an earlier test's reveal) that posts to a viewer whose `$connect` has
 * not finished gets 410 from `@connections`, as on AWS, and deletes the viewer's record as gone;
 * that viewer then gets no push at all.
 */
export function waitForIdle(runtime: LocalRuntime, what = 'every function to finish', timeoutMs = 20_000) {
  return waitUntil(what, () => Object.keys(busyFunctions(runtime)).length === 0, {
    timeoutMs,
    describe: () => `still running: ${JSON.stringify(busyFunctions(runtime))}\n${recentLog(runtime)}`,
  });
}

let stateFiles = 0;
/** A state file of its own for each runtime, even two booted in the same millisecond. */
export const tempStateFile = () =>
  path.join(os.tmpdir(), `cuecast-local-${process.pid}-${Date.now()}-${++stateFiles}.json`);

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
    // The protocol, not a guess: a client backs off and sends again while the stage's bucket
    // refills (it refills continuously, so a short pause suffices; 200 of them give up).
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
    // The protocol, not a guess: a client waits out the Retry-After the API gave it.
    await sleep(1000 * Number(reply.headers.get('retry-after') ?? 1));
  }
  throw new Error(`${method} ${route}: rate limited 10 times in a row`);
}

/** A viewer: a real `ws` client that records every frame it receives. */
export class Viewer {
  readonly frames: any[] = [];
  private waiters: Array<{ test: (f: any) => boolean; resolve: (f: any) => void }> = [];
  closeCode?: number;

  private constructor(
    readonly socket: WebSocket,
    private readonly url: string,
  ) {
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
    // A reset connection (a runtime stopping under it) closes it; it must not throw out of the test.
    socket.on('error', () => undefined);
  }

  /** Opens a connection; fails if the upgrade is refused, or not answered within `timeoutMs`. */
  static connect(url: string, timeoutMs = 30_000): Promise<Viewer> {
    return new Promise((resolve, reject) => {
      const socket = new WebSocket(url);
      const timer = setTimeout(() => {
        socket.terminate();
        reject(new Error(`no answer to the WebSocket upgrade of ${url} in ${timeoutMs} ms`));
      }, timeoutMs);
      const settle = (settled: () => void) => {
        clearTimeout(timer);
        settled();
      };
      socket.once('open', () => settle(() => resolve(new Viewer(socket, url))));
      socket.once('error', (error) => settle(() => reject(error)));
      socket.once('unexpected-response', (_req, res) =>
        settle(() => reject(new Error(`upgrade refused: ${res.statusCode}`))),
      );
    });
  }

  send(message: unknown): void {
    this.socket.send(typeof message === 'string' ? message : JSON.stringify(message));
  }

  /**
   * Resolves with the first frame (already received or to come) that passes `test`. At the
   * deadline the error names what it waited for (`what`, or the test's own source) and every
   * frame received.
   */
  waitFor(test: (frame: any) => boolean, timeoutMs = 10_000, what?: string): Promise<any> {
    const seen = this.frames.find(test);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const waiter = {
        test,
        resolve: (frame: any) => {
          clearTimeout(timer);
          resolve(frame);
        },
      };
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        const state = this.closeCode === undefined ? 'open' : `closed with ${this.closeCode}`;
        reject(
          new Error(
            `no frame matching ${what ?? String(test)} in ${timeoutMs} ms (connection ${state}); got ${JSON.stringify(this.frames).slice(-4000)}\nrecent runtime log:\n${logAt(this.url)}`,
          ),
        );
      }, timeoutMs);
      this.waiters.push(waiter);
    });
  }

  /** Sends and waits for the next frame of one of `types`. */
  async request(message: unknown, types: string[], timeoutMs?: number): Promise<any> {
    const before = this.frames.length;
    const sent = (typeof message === 'string' ? message : JSON.stringify(message)).slice(0, 200);
    this.send(message);
    // API Gateway's own frame when the route's function failed (an error, a timeout): no reply
    // will follow, so it ends the wait at once, with the runtime's log that says why.
    const failed = (f: any) => f.type === undefined && f.message === 'Internal server error';
    const reply = await this.waitFor(
      (f) => this.frames.indexOf(f) >= before && (types.includes(f.type) || failed(f)),
      timeoutMs,
      `a reply of type ${types.join(' or ')} to ${sent}`,
    );
    if (failed(reply))
      throw new Error(
        `the function behind ${sent} failed: ${JSON.stringify(reply)}\nrecent runtime log:\n${logAt(this.url)}`,
      );
    return reply;
  }

  /**
   * Resolves once every frame the stack sent this viewer before now has arrived: a ping's pong
   * goes out through `@connections` after them, on the same connection, so it arrives after
   * them. Use it after the work that would send a frame has finished ({@link waitForIdle}), to
   * check that a frame did not come, without sleeping.
   */
  async caughtUp(): Promise<void> {
    await this.request({ action: 'ping' }, ['pong']);
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      if (this.socket.readyState === WebSocket.CLOSED) return resolve();
      this.socket.once('close', () => resolve());
      this.socket.close();
    });
  }
}

/** The status of a refused WebSocket upgrade; fails if it is accepted, or not answered in 5 s. */
export function refusedUpgrade(url: string): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    const client = new WebSocket(url);
    const timer = setTimeout(() => {
      client.terminate();
      reject(new Error(`no answer to the upgrade of ${url} in 5000 ms`));
    }, 5000);
    client.on('unexpected-response', (_req, res) => {
      clearTimeout(timer);
      resolve(res.statusCode ?? 0);
    });
    client.on('open', () => {
      clearTimeout(timer);
      client.close();
      reject(new Error('the upgrade was accepted'));
    });
    client.on('error', () => undefined);
  });
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

/**
 * Resolves with the arguments of `emitter`'s next `event`; at the deadline, fails naming `what`.
 * For the events a test awaits on a socket or a child process, which may otherwise never come.
 */
export function nextEvent(
  emitter: NodeJS.EventEmitter,
  event: string,
  what: string,
  timeoutMs = 10_000,
): Promise<unknown[]> {
  return new Promise((resolve, reject) => {
    const listener = (...args: unknown[]) => {
      clearTimeout(timer);
      resolve(args);
    };
    const timer = setTimeout(() => {
      emitter.off(event, listener);
      reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what} (the ${event} event)`));
    }, timeoutMs);
    emitter.once(event, listener);
  });
}

/**
 * The platform's sleep, for the suites that import it from here. A wait for something to happen
 * is `waitUntil` (test/support/wait.ts); a sleep is only for a wait whose length is the subject.
 */
export { freeBasePort, sleep, waitUntil };
