import * as fs from 'node:fs';
import * as http from 'node:http';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { ApiGatewayManagementApiClient, GetConnectionCommand } from '@aws-sdk/client-apigatewaymanagementapi';
import { DynamoDBClient, ListTablesCommand, ScanCommand } from '@aws-sdk/client-dynamodb';
import { GetStreamKeyCommand, IvsClient } from '@aws-sdk/client-ivs';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { LocalConfig, LocalRuntime } from '../../local/runtime';
import {
  bootTestRuntime,
  callApi,
  type Signing,
  setStream,
  signedFetch,
  signHeaders,
  Viewer,
} from '../local/harness';
import { waitUntil } from '../support/wait';

/**
 * The local runtime against hostile requests: `npm run dev` listens on loopback only, but any
 * local process, or any web page the developer opens, can reach it. No request may stop it,
 * every stand-in checks SigV4 as the AWS service it stands for does, and the local controls and
 * page configs give nothing away. One runtime for the file, booted with viewer auth (so the
 * Secrets Manager stand-in runs) and serving pages from a throwaway folder with a sibling
 * folder beside it.
 */
let runtime: LocalRuntime;
let config: LocalConfig;
let tmp: string;
const viewers: Viewer[] = [];

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cuecast-hardening-'));
  const site = path.join(tmp, 'dist');
  fs.mkdirSync(site);
  fs.writeFileSync(path.join(site, 'index.html'), '<!doctype html><title>viewer</title>');
  // A sibling whose name starts with the served folder's: a prefix check lets it through.
  fs.mkdirSync(`${site}-ssr`);
  fs.writeFileSync(path.join(`${site}-ssr`, 'secret.txt'), 'sibling secret');
  runtime = await bootTestRuntime({ viewerAuth: true, webDir: site });
  config = runtime.config;
}, 180_000);

afterAll(async () => {
  if (!runtime) return;
  const disconnect = fnName('RealtimeApiDisconnect');
  const disconnected = runtime.host.outcomes(disconnect).length + viewers.length;
  await Promise.all(viewers.map((v) => v.close()));
  // Every $disconnect has run before the runtime stops, so none is cut off halfway.
  await waitUntil(
    `${disconnected} $disconnect invocations`,
    () => runtime.host.outcomes(disconnect).length >= disconnected,
    {
      timeoutMs: 10_000,
      describe: () => runtime.host.outcomes(disconnect).length,
    },
  );
  await runtime.stop();
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

const SIGNATURE_ERRORS = [
  'MissingAuthenticationTokenException',
  'IncompleteSignatureException',
  'InvalidSignatureException',
  'UnrecognizedClientException',
];
const fnName = (logicalIdPrefix: string): string => {
  const fn = runtime.host.all().find((f) => f.logicalId.startsWith(logicalIdPrefix));
  if (!fn) throw new Error(`no function ${logicalIdPrefix}`);
  return fn.name;
};
const table = (part: string): string => {
  const name = runtime.dynamoDb.tableNames().find((t) => t.includes(part));
  if (!name) throw new Error(`no ${part} table`);
  return name;
};
const signingFor = (service: string, overrides: Partial<Signing> = {}): Signing => ({
  service,
  region: config.region,
  credentials: config.credentials,
  ...overrides,
});

interface RawReply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** One HTTP request with exactly these headers, repeated ones as separate lines, and the path as is. */
function rawHttp(
  url: string,
  method: string,
  headers: Record<string, string | string[]>,
  body?: string,
): Promise<RawReply> {
  const target = new URL(url);
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: target.hostname, port: target.port, method, path: url.slice(target.origin.length), headers },
      (res) => {
        let text = '';
        res.on('data', (d) => (text += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/**
 * Writes raw bytes to a port and resolves with the reply's status (0: closed without one).
 * `reset` drops the connection with a TCP reset shortly after, as a client that dies mid-request.
 */
function rawExchange(port: number, bytes: string, { reset = false } = {}): Promise<number> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    let reply = '';
    socket.on('data', (d) => {
      reply += d;
      // The status line is all we look at: a connection kept alive need not be waited out.
      if (/^HTTP\/1\.1 \d{3}/.test(reply)) socket.destroy();
    });
    socket.on('error', () => undefined);
    socket.on('close', () => resolve(Number(/^HTTP\/1\.1 (\d{3})/.exec(reply)?.[1] ?? 0)));
    socket.setTimeout(5000, () => socket.destroy());
    socket.write(bytes);
    if (reset) setTimeout(() => socket.resetAndDestroy(), 50);
  });
}

// ---- No request stops the runtime ------------------------------------------------------------

/** Each port with a request target its service reads a body for. */
const PORTS: Array<[string, () => string, () => string]> = [
  ['HTTP API', () => config.httpApiUrl, () => '/quizzes'],
  ['WebSocket and @connections', () => config.managementUrl, () => '/live/@connections/bm9wZQ=='],
  ['IVS', () => config.ivsEndpoint, () => '/PutMetadata'],
  ['DynamoDB', () => config.dynamoDbEndpoint, () => '/'],
  [
    'Lambda',
    () => config.lambdaEndpoint,
    () => `/2015-03-31/functions/${fnName('HostApiCreateQuiz')}/invocations`,
  ],
  ['pages', () => config.viewerUrl ?? '', () => '/'],
  ['Secrets Manager', () => config.secretsManagerEndpoint ?? '', () => '/'],
];
const portOf = (url: string) => Number(new URL(url).port);

describe('when a request to any local port is malformed or cut short', () => {
  it.each(PORTS)('%s answers each below 500 and keeps serving', async (_name, endpoint, bodyPath) => {
    const port = portOf(endpoint());
    const close = 'Host: 127.0.0.1\r\nConnection: close\r\n';
    const statuses = [
      await rawExchange(port, `GET /%E0%A4%A HTTP/1.1\r\n${close}\r\n`),
      await rawExchange(
        port,
        `POST /live/@connections/%E0%A4%A HTTP/1.1\r\n${close}Content-Length: 0\r\n\r\n`,
      ),
      await rawExchange(
        port,
        `POST /2015-03-31/functions/%E0%A4%A/invocations HTTP/1.1\r\n${close}Content-Length: 0\r\n\r\n`,
      ),
      await rawExchange(port, `GET http://[/ HTTP/1.1\r\n${close}\r\n`),
      await rawExchange(
        port,
        `GET http://[/ HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n`,
      ),
    ];
    for (const status of statuses) {
      expect(status).toBeGreaterThanOrEqual(200);
      expect(status).toBeLessThan(500);
    }
    // Half a body, then a reset: nothing to answer, and nothing may throw.
    await rawExchange(
      port,
      `POST ${bodyPath()} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 100\r\n\r\n{"a":`,
      {
        reset: true,
      },
    );
    // The subject under test: the reset reaches the server before it is asked again.
    await new Promise((resolve) => setTimeout(resolve, 100));
    const after = await rawExchange(port, `GET / HTTP/1.1\r\n${close}\r\n`);
    expect(after).toBeGreaterThanOrEqual(200);
    expect((await callApi(config, 'GET', '/state', undefined, { sign: false })).status).toBe(200);
  });

  it('survives a WebSocket client that resets while $connect is being decided', async () => {
    const port = portOf(config.webSocketUrl);
    const authorizer = fnName('ViewerAuthAuthorize');
    const decided = runtime.host.outcomes(authorizer).length;
    await rawExchange(
      port,
      'GET /?token=forged HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
        'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n',
      { reset: true },
    );
    // The authorizer answers after the reset; refusing the gone socket must not throw.
    await waitUntil('the authorizer to decide', () => runtime.host.outcomes(authorizer).length > decided);
    expect((await callApi(config, 'GET', '/state', undefined, { sign: false })).status).toBe(200);
  });

  it.each(['%E0%A4%A', '%zz'])(
    'answers a malformed %% escape in a path to the pages (%s) with 400 Bad Request and the security headers',
    async (malformed) => {
      const page = await rawHttp(config.viewerUrl ?? '', 'GET', {});
      const reply = await rawHttp(`${config.viewerUrl}${malformed}`, 'GET', {});
      expect(reply.status).toBe(400);
      expect(JSON.parse(reply.body)).toEqual({ message: 'Bad Request' });
      // The distribution's response headers policy applies to every answer, a refusal too.
      for (const name of ['content-security-policy', 'x-content-type-options', 'x-frame-options']) {
        expect(page.headers[name]).toEqual(expect.any(String));
        expect(reply.headers[name]).toBe(page.headers[name]);
      }
    },
  );

  it('answers a malformed % escape in an HTTP API path parameter with 400 before any auth check', async () => {
    const reply = await rawHttp(`${config.httpApiUrl}quizzes/%E0%A4%A`, 'GET', {});
    expect(reply.status).toBe(400);
    expect(JSON.parse(reply.body)).toEqual({ message: 'Bad Request' });
  });
});

describe('when a path climbs out of the pages folder', () => {
  it('serves nothing from a sibling folder whose name starts the same', async () => {
    const reply = await rawHttp(`${config.viewerUrl}..%2Fdist-ssr%2Fsecret.txt`, 'GET', {});
    expect([403, 404]).toContain(reply.status);
    expect(reply.body).not.toContain('sibling secret');
    expect((await rawHttp(`${config.viewerUrl}index.html`, 'GET', {})).status).toBe(200);
  });
});

// ---- The HTTP API's SigV4 --------------------------------------------------------------------

describe('when a host API call is signed in a way AWS refuses', () => {
  const quizUrl = () => `${config.httpApiUrl}quizzes/not-a-quiz`;

  it('lets the correctly signed call through (the baseline for the refusals below)', async () => {
    expect((await signedFetch(quizUrl(), {}, signingFor('execute-api'))).status).toBe(404);
  });

  it('refuses a credential scope in another region with 403', async () => {
    const reply = await signedFetch(quizUrl(), {}, signingFor('execute-api', { region: 'eu-west-1' }));
    expect(reply.status).toBe(403);
    expect(await reply.text()).toMatch(/region/);
  });

  it('refuses x-amz-content-sha256: UNSIGNED-PAYLOAD, so a body changed after signing never goes on air', async () => {
    const url = new URL('events', config.httpApiUrl);
    const signed = await signHeaders(
      url,
      'POST',
      { 'content-type': 'application/json', 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' },
      JSON.stringify({ type: 'drop', data: { sku: 'signed' } }),
      signingFor('execute-api'),
    );
    const cues = runtime.ivs.metadata().length;
    const reply = await rawHttp(
      url.toString(),
      'POST',
      signed,
      JSON.stringify({ type: 'drop', data: { sku: 'forged' } }),
    );
    expect(reply.status).toBe(403);
    expect(reply.body).toMatch(/UNSIGNED-PAYLOAD/);
    expect(runtime.ivs.metadata().length).toBe(cues);
  });

  it('refuses a made-up session token with the static local credentials', async () => {
    const credentials = { ...config.credentials, sessionToken: 'made-up' };
    expect((await signedFetch(quizUrl(), {}, signingFor('execute-api', { credentials }))).status).toBe(403);
  });

  it.each(['x-amz-date', 'authorization'])('refuses a second %s header', async (name) => {
    const url = new URL(quizUrl());
    const signed = await signHeaders(url, 'GET', {}, undefined, signingFor('execute-api'));
    const second =
      name === 'x-amz-date' ? '20200101T000000Z' : signed.authorization.replace(/.{8}$/, '00000000');
    const reply = await rawHttp(url.toString(), 'GET', { ...signed, [name]: [signed[name], second] });
    expect(reply.status).toBe(403);
  });
});

// ---- Every stand-in checks SigV4 -------------------------------------------------------------

interface ClientSettings {
  endpoint: string;
  region: string;
  credentials: Signing['credentials'];
  maxAttempts: number;
}

interface StandIn {
  readonly endpoint: () => string;
  readonly client: (settings: ClientSettings) => { send(command: any): Promise<unknown>; destroy(): void };
  /** A call a correctly signed client makes; it may fail, but never on its signature. */
  readonly command: () => any;
  /** What the SDK sends, unsigned, as raw fetch arguments. */
  readonly unsigned: () => [string, RequestInit];
  /** 403 for REST services, 400 for JSON-protocol ones, as each AWS service answers. */
  readonly refusedStatus: number;
}

const json = (target?: string): Record<string, string> => ({
  'content-type': target ? 'application/x-amz-json-1.1' : 'application/json',
  ...(target ? { 'x-amz-target': target } : {}),
});
const secretId = () => runtime.secretsManager?.secretArns()[0];

const STAND_INS: Record<string, StandIn> = {
  Lambda: {
    endpoint: () => config.lambdaEndpoint,
    client: (settings) => new LambdaClient(settings),
    command: () => new InvokeCommand({ FunctionName: 'not-a-function' }),
    unsigned: () => [
      `${config.lambdaEndpoint}/2015-03-31/functions/not-a-function/invocations`,
      { method: 'POST', body: '{}' },
    ],
    refusedStatus: 403,
  },
  DynamoDB: {
    endpoint: () => config.dynamoDbEndpoint,
    client: (settings) => new DynamoDBClient(settings),
    command: () => new ListTablesCommand({}),
    unsigned: () => [
      config.dynamoDbEndpoint,
      { method: 'POST', headers: json('DynamoDB_20120810.ListTables'), body: '{}' },
    ],
    refusedStatus: 400,
  },
  IVS: {
    endpoint: () => config.ivsEndpoint,
    client: (settings) => new IvsClient(settings),
    command: () => new GetStreamKeyCommand({ arn: config.streamKeyArn }),
    unsigned: () => [
      `${config.ivsEndpoint}/GetStreamKey`,
      { method: 'POST', headers: json(), body: JSON.stringify({ arn: config.streamKeyArn }) },
    ],
    refusedStatus: 403,
  },
  'Secrets Manager': {
    endpoint: () => config.secretsManagerEndpoint ?? '',
    client: (settings) => new SecretsManagerClient(settings),
    command: () => new GetSecretValueCommand({ SecretId: secretId() }),
    unsigned: () => [
      config.secretsManagerEndpoint ?? '',
      {
        method: 'POST',
        headers: json('secretsmanager.GetSecretValue'),
        body: JSON.stringify({ SecretId: secretId() }),
      },
    ],
    refusedStatus: 400,
  },
  '@connections': {
    endpoint: () => config.managementUrl,
    client: (settings) => new ApiGatewayManagementApiClient(settings),
    command: () => new GetConnectionCommand({ ConnectionId: 'bm9wZQ==' }),
    unsigned: () => [`${config.managementUrl}/@connections/bm9wZQ==`, { method: 'GET' }],
    refusedStatus: 403,
  },
};
const NAMES = Object.keys(STAND_INS);

/** How an SDK call signed with these credentials and region went: the error's name and status, or `ok`. */
const outcomeOf = async (
  name: string,
  credentials: Signing['credentials'] = config.credentials,
  region = config.region,
): Promise<{ name: string; status?: number }> => {
  const standIn = STAND_INS[name];
  // One attempt: the SDK retries InvalidSignatureException as a possible clock skew.
  const client = standIn.client({ endpoint: standIn.endpoint(), region, credentials, maxAttempts: 1 });
  try {
    await client.send(standIn.command());
    return { name: 'ok' };
  } catch (error) {
    const e = error as { name: string; $metadata?: { httpStatusCode?: number } };
    return { name: e.name, status: e.$metadata?.httpStatusCode };
  } finally {
    client.destroy();
  }
};

describe('when a stand-in gets a call the AWS service would refuse', () => {
  it.each(NAMES)('%s lets the SDK through with the local credentials', async (name) => {
    expect(SIGNATURE_ERRORS).not.toContain((await outcomeOf(name)).name);
  });

  it.each(NAMES)('%s refuses an unsigned call with MissingAuthenticationTokenException', async (name) => {
    const [url, init] = STAND_INS[name].unsigned();
    const res = await fetch(url, init);
    expect(res.status).toBe(STAND_INS[name].refusedStatus);
    expect(res.headers.get('x-amzn-errortype')).toBe('MissingAuthenticationTokenException');
  });

  it.each(NAMES)(
    '%s refuses a wrong secret key with InvalidSignatureException the SDK parses',
    async (name) => {
      const credentials = { ...config.credentials, secretAccessKey: 'not-the-secret' };
      expect(await outcomeOf(name, credentials)).toEqual({
        name: 'InvalidSignatureException',
        status: STAND_INS[name].refusedStatus,
      });
    },
  );

  it.each(NAMES)('%s refuses a signature scoped to another region', async (name) => {
    expect(await outcomeOf(name, config.credentials, 'eu-west-1')).toEqual({
      name: 'InvalidSignatureException',
      status: STAND_INS[name].refusedStatus,
    });
  });

  it.each(NAMES)(
    '%s refuses an unknown key and a made-up session token as UnrecognizedClient',
    async (name) => {
      const unrecognized = { name: 'UnrecognizedClientException', status: STAND_INS[name].refusedStatus };
      expect(await outcomeOf(name, { ...config.credentials, accessKeyId: 'AKIAFORGED' })).toEqual(
        unrecognized,
      );
      expect(await outcomeOf(name, { ...config.credentials, sessionToken: 'made-up' })).toEqual(unrecognized);
    },
  );
});

describe('when an unsigned caller tries what the adversarial pass did', () => {
  it.each(['HostApiCreateQuiz', 'RealtimeApiAnswer'])(
    'an unsigned Invoke of %s runs nothing',
    async (prefix) => {
      const name = fnName(prefix);
      const runs = runtime.host.outcomes(name).length;
      const cues = runtime.ivs.metadata().length;
      const forged = {
        requestContext: {
          routeKey: 'answer',
          connectionId: 'forged=',
          requestTimeEpoch: Date.now() - 3_600_000,
        },
        body: JSON.stringify({ action: 'answer', quizId: 'q', choiceIndex: 0 }),
      };
      const res = await fetch(`${config.lambdaEndpoint}/2015-03-31/functions/${name}/invocations`, {
        method: 'POST',
        body: JSON.stringify(forged),
      });
      expect(res.status).toBe(403);
      expect(runtime.host.outcomes(name).length).toBe(runs);
      expect(runtime.ivs.metadata().length).toBe(cues);
    },
  );

  it('a DynamoDB Scan with a junk signature reads no item', async () => {
    const scan = JSON.stringify({ TableName: table('Quizzes') });
    const junk = await signHeaders(
      new URL(config.dynamoDbEndpoint),
      'POST',
      { 'content-type': 'application/x-amz-json-1.0', 'x-amz-target': 'DynamoDB_20120810.Scan' },
      scan,
      signingFor('dynamodb', { credentials: { ...config.credentials, secretAccessKey: 'junk' } }),
    );
    const reply = await rawHttp(config.dynamoDbEndpoint, 'POST', junk, scan);
    expect(reply.status).toBe(400);
    expect(JSON.parse(reply.body)).not.toHaveProperty('Items');
    // The same Scan signed properly goes through.
    const client = new DynamoDBClient({
      endpoint: config.dynamoDbEndpoint,
      region: config.region,
      credentials: config.credentials,
    });
    await expect(client.send(new ScanCommand({ TableName: table('Quizzes') }))).resolves.toHaveProperty(
      'Items',
    );
    client.destroy();
  });

  it('an unsigned @connections POST or DELETE neither reaches nor drops a viewer', async () => {
    const issued = await callApi(config, 'POST', '/viewer-token', undefined, { sign: false });
    const url = new URL(config.webSocketUrl);
    url.searchParams.set('token', issued.body.token);
    const viewer = await Viewer.connect(url.toString());
    viewers.push(viewer);
    const dynamo = new DynamoDBClient({
      endpoint: config.dynamoDbEndpoint,
      region: config.region,
      credentials: config.credentials,
    });
    const { Items = [] } = await dynamo.send(new ScanCommand({ TableName: table('Connections') }));
    dynamo.destroy();
    const record = Items.find((item) => item.viewerId?.S === issued.body.viewerId);
    const at = `${config.managementUrl}/@connections/${encodeURIComponent(String(record?.connectionId?.S))}`;

    const forged = JSON.stringify({ v: 1, type: 'result', quizId: 'forged', correctIndex: 0 });
    expect((await fetch(at, { method: 'POST', body: forged })).status).toBe(403);
    expect((await fetch(at, { method: 'DELETE' })).status).toBe(403);
    // Frames arrive in order: once this one is in, a delivered forgery would be too.
    const marker = JSON.stringify({ type: 'marker' });
    expect((await signedFetch(at, { method: 'POST', body: marker }, signingFor('execute-api'))).status).toBe(
      200,
    );
    await viewer.waitFor((f) => f.type === 'marker');
    expect(viewer.frames.filter((f) => f.quizId === 'forged')).toEqual([]);
    expect(viewer.closeCode).toBeUndefined();
  });

  it('an unsigned IVS GetStreamKey gets no key, and an unsigned text/plain PutMetadata puts no cue on air', async () => {
    const key = await fetch(`${config.ivsEndpoint}/GetStreamKey`, {
      method: 'POST',
      body: JSON.stringify({ arn: config.streamKeyArn }),
    });
    expect(key.status).toBe(403);
    expect(await key.text()).not.toContain('sk_local_');
    const cues = runtime.ivs.metadata().length;
    const put = await fetch(`${config.ivsEndpoint}/PutMetadata`, {
      method: 'POST',
      headers: { 'content-type': 'text/plain' },
      body: JSON.stringify({ channelArn: config.channelArn, metadata: '{"v":1,"type":"forged"}' }),
    });
    expect(put.status).toBe(403);
    expect(runtime.ivs.metadata().length).toBe(cues);
  });

  it('an unsigned GetSecretValue reads no key', async () => {
    const reads = runtime.secretsManager?.reads;
    const [url, init] = STAND_INS['Secrets Manager'].unsigned();
    const reply = await fetch(url, init);
    expect(reply.status).toBe(400);
    expect(await reply.text()).not.toContain('SecretString');
    expect(runtime.secretsManager?.reads).toBe(reads);
  });
});

// ---- Local controls and page configs ---------------------------------------------------------

describe('when another web page calls the IVS stand-in local controls', () => {
  const control = () => `${config.ivsEndpoint}/_local/stream`;
  const pagesOrigin = () => new URL(config.viewerUrl ?? '').origin;
  const preflight = (origin: string) =>
    fetch(control(), {
      method: 'OPTIONS',
      headers: {
        origin,
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'content-type,x-cuecast-local',
      },
    });

  it('refuses a preflight from any origin but the local pages', async () => {
    const evil = await preflight('http://evil.example');
    expect(evil.status).toBe(403);
    expect(evil.headers.get('access-control-allow-origin')).toBeNull();
    const pages = await preflight(pagesOrigin());
    expect(pages.status).toBe(204);
    expect(pages.headers.get('access-control-allow-origin')).toBe(pagesOrigin());
    expect(pages.headers.get('access-control-allow-headers')).toMatch(/x-cuecast-local/);
  });

  it('lets no other origin read the controls or the cue feed', async () => {
    for (const route of ['/_local/stream', '/_local/metadata']) {
      const evil = await fetch(`${config.ivsEndpoint}${route}`, {
        headers: { origin: 'http://evil.example' },
      });
      expect(evil.headers.get('access-control-allow-origin')).toBeNull();
      const pages = await fetch(`${config.ivsEndpoint}${route}`, { headers: { origin: pagesOrigin() } });
      expect(pages.headers.get('access-control-allow-origin')).toBe(pagesOrigin());
    }
  });

  it('refuses POST /_local/stream without X-Cuecast-Local: 1, and switches the stream with it', async () => {
    const simple = await fetch(control(), {
      method: 'POST',
      headers: { 'content-type': 'text/plain', origin: 'http://evil.example' },
      body: JSON.stringify({ state: 'offline' }),
    });
    expect(simple.status).toBe(403);
    expect(await simple.text()).toMatch(/X-Cuecast-Local: 1/);
    const states = (await (await fetch(control())).json()) as Array<{ state: string }>;
    expect(states.map((s) => s.state)).toEqual(['live']);
    expect((await setStream(config, 'live')).status).toBe(200);
  });

  it('keeps the cue feed a plain GET, as EventSource reads it', async () => {
    const abort = new AbortController();
    const feed = await fetch(`${config.ivsEndpoint}/_local/metadata/events`, {
      headers: { origin: pagesOrigin() },
      signal: abort.signal,
    });
    expect(feed.status).toBe(200);
    expect(feed.headers.get('content-type')).toBe('text/event-stream');
    expect(feed.headers.get('access-control-allow-origin')).toBe(pagesOrigin());
    abort.abort();
  });
});

describe('when the pages serve config.json', () => {
  it("gives neither page the runtime's keys: the host console signs its host in", async () => {
    const viewer = await (await fetch(`${config.viewerUrl}config.json`)).text();
    expect(JSON.parse(viewer)).not.toHaveProperty('credentials');
    expect(viewer).not.toContain(config.credentials.secretAccessKey);
    const text = await (await fetch(`${config.viewerUrl}host/config.json`)).text();
    expect(text).not.toContain(config.credentials.secretAccessKey);
    const host = JSON.parse(text);
    expect(host).not.toHaveProperty('credentials');
    expect(host.signIn).toMatchObject({ domain: config.cognitoEndpoint });
    expect(host).toMatchObject(JSON.parse(viewer));
  });
});
