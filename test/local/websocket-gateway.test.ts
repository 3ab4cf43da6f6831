import WebSocket from 'ws';
import type { InvokeResult, LambdaHost, LocalFunction } from '../../local/lambda-host';
import { WebSocketGateway } from '../../local/websocket-gateway';
import {
  freeBasePort,
  nextEvent,
  refusedUpgrade,
  type Signing,
  signedFetch,
  stubFunction,
  waitUntil,
} from './harness';

/** The gateway on its own, with a fake function host: what AWS does at the edges. */
const signing = {
  region: 'us-east-1',
  credentials: { accessKeyId: 'LOCALTEST', secretAccessKey: 'local-test-secret' },
};
const manager: Signing = { service: 'execute-api', ...signing };

function gateway(port: number, reply: (route: string, event: any) => unknown, limits = {}) {
  const invocations: Array<{ route: string; event: any }> = [];
  const host = {
    invoke: async (f: LocalFunction, event: any): Promise<InvokeResult> => {
      invocations.push({ route: f.logicalId, event });
      return { ok: true, result: reply(f.logicalId, event), ms: 1 };
    },
  } as unknown as LambdaHost;
  const routes = new Map(['$connect', '$disconnect', '$default', 'answer'].map((r) => [r, stubFunction(r)]));
  const ws = new WebSocketGateway({
    port,
    apiId: 'abc',
    stage: 'live',
    routes,
    routeSelectionExpression: '$request.body.action',
    host,
    log: () => undefined,
    limits,
    signing,
  });
  return { ws, invocations };
}

describe('when $connect answers with a non-2xx status', () => {
  it('refuses the upgrade with that status', async () => {
    const port = await freeBasePort(1);
    const { ws } = gateway(port, (route) => ({ statusCode: route === '$connect' ? 401 : 200 }));
    await ws.start();
    try {
      const status = await refusedUpgrade(`ws://127.0.0.1:${port}/?token=bad`);
      expect(status).toBe(401);
      expect(ws.size).toBe(0);
    } finally {
      await ws.stop();
    }
  });
});

describe('when frames arrive', () => {
  it('routes by $request.body.action and sends everything else to $default', async () => {
    const port = await freeBasePort(1);
    const { ws, invocations } = gateway(port, () => ({ statusCode: 200 }));
    await ws.start();
    try {
      expect(ws.routeFor('{"action":"answer"}')).toBe('answer');
      expect(ws.routeFor('{"action":"dance"}')).toBe('$default');
      expect(ws.routeFor('{"action":"$connect"}')).toBe('$default');
      expect(ws.routeFor('not json')).toBe('$default');
      expect(ws.routeFor('{"action":7}')).toBe('$default');

      const client = new WebSocket(`ws://127.0.0.1:${port}/?x=1`);
      await nextEvent(client, 'open', 'the connection to open');
      client.send('{"action":"answer","quizId":"q"}');
      await waitUntil('the answer route’s invocation', () => invocations.some((i) => i.route === 'answer'), {
        timeoutMs: 5000,
        describe: () => invocations.map((i) => i.route),
      });
      const connect = invocations.find((i) => i.route === '$connect')?.event;
      const answer = invocations.find((i) => i.route === 'answer')?.event;
      expect(connect.queryStringParameters).toEqual({ x: '1' });
      expect(connect.requestContext).toMatchObject({
        routeKey: '$connect',
        eventType: 'CONNECT',
        stage: 'live',
        apiId: 'abc',
      });
      expect(answer.requestContext).toMatchObject({
        routeKey: 'answer',
        eventType: 'MESSAGE',
        connectionId: connect.requestContext.connectionId,
        requestTimeEpoch: expect.any(Number),
      });
      expect(answer.body).toBe('{"action":"answer","quizId":"q"}');

      const closed = nextEvent(client, 'close', 'the connection to close');
      client.close(1000);
      await closed;
      await waitUntil(
        'the $disconnect route’s invocation',
        () => invocations.some((i) => i.route === '$disconnect'),
        {
          timeoutMs: 5000,
          describe: () => invocations.map((i) => i.route),
        },
      );
      expect(invocations.find((i) => i.route === '$disconnect')?.event.requestContext).toMatchObject({
        eventType: 'DISCONNECT',
        connectionId: connect.requestContext.connectionId,
      });
    } finally {
      await ws.stop();
    }
  });

  it('closes an idle connection after the idle limit', async () => {
    const port = await freeBasePort(1);
    const { ws } = gateway(port, () => ({ statusCode: 200 }), { idleMs: 200 });
    await ws.start();
    try {
      const client = new WebSocket(`ws://127.0.0.1:${port}`);
      client.on('error', () => undefined);
      const [code] = await nextEvent(client, 'close', 'the gateway to close the idle connection', 5000);
      expect(code).toBe(1001);
    } finally {
      await ws.stop();
    }
  });
});

describe('when the management API is called', () => {
  it('posts to a live connection, describes it, deletes it, then answers 410 GoneException', async () => {
    const port = await freeBasePort(1);
    const { ws, invocations } = gateway(port, () => ({ statusCode: 200 }));
    await ws.start();
    try {
      const client = new WebSocket(`ws://127.0.0.1:${port}`);
      const received: string[] = [];
      client.on('message', (d) => received.push(d.toString()));
      await nextEvent(client, 'open', 'the connection to open');
      const id = invocations[0].event.requestContext.connectionId as string;
      const at = `${ws.managementUrl}/@connections/${encodeURIComponent(id)}`;

      expect((await signedFetch(at, { method: 'POST', body: '{"hello":1}' }, manager)).status).toBe(200);
      const info = await (await signedFetch(at, {}, manager)).json();
      expect(info).toMatchObject({
        ConnectedAt: expect.any(String),
        Identity: { SourceIp: expect.any(String) },
      });
      const tooLarge = { method: 'POST', body: 'x'.repeat(128 * 1024 + 1) };
      expect((await signedFetch(at, tooLarge, manager)).status).toBe(413);
      const closed = nextEvent(client, 'close', 'the deleted connection to close');
      expect((await signedFetch(at, { method: 'DELETE' }, manager)).status).toBe(204);
      await closed;
      await waitUntil('the gateway to forget the connection', () => ws.size === 0, { timeoutMs: 5000 });
      const gone = await signedFetch(at, { method: 'POST', body: '{}' }, manager);
      expect(gone.status).toBe(410);
      expect(gone.headers.get('x-amzn-errortype')).toBe('GoneException');
      expect(received).toEqual(['{"hello":1}']);
    } finally {
      await ws.stop();
    }
  });
});
