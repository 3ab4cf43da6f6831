import * as path from 'node:path';
import WebSocket from 'ws';
import { CloudAssembly } from '../../local/assembly';
import type { InvokeResult, LambdaHost, LocalFunction } from '../../local/lambda-host';
import { StageThrottle, stageThrottleOf } from '../../local/stage-throttle';
import { WebSocketGateway } from '../../local/websocket-gateway';
import { freeBasePort, nextEvent, refusedUpgrade, stubFunction, waitUntil } from './harness';

/** The stages' throttling: the token bucket, its settings from the template, and the WebSocket gateway's use of it. */
describe('when requests draw on a stage token bucket', () => {
  const clock = () => {
    let ms = 0;
    return { now: () => ms, advance: (by: number) => (ms += by) };
  };

  it('starts full, admits the burst at once, then refuses', () => {
    const time = clock();
    const bucket = new StageThrottle({ rateLimit: 200, burstLimit: 400 }, time.now);
    const admitted = Array.from({ length: 500 }, () => bucket.tryTake()).filter(Boolean).length;
    expect(admitted).toBe(400);
  });

  it('refills at the rate, and never beyond the burst however long it rests', () => {
    const time = clock();
    const bucket = new StageThrottle({ rateLimit: 200, burstLimit: 400 }, time.now);
    while (bucket.tryTake());
    time.advance(100);
    expect(Array.from({ length: 50 }, () => bucket.tryTake()).filter(Boolean).length).toBe(20);
    time.advance(60_000);
    expect(Array.from({ length: 1000 }, () => bucket.tryTake()).filter(Boolean).length).toBe(400);
  });
});

describe('when the throttling is read from the template', () => {
  const stage = (api: string, settings?: Record<string, unknown>) => ({
    Type: 'AWS::ApiGatewayV2::Stage',
    Properties: { ApiId: { Ref: api }, StageName: 'live', DefaultRouteSettings: settings },
  });

  it("takes each stage's DefaultRouteSettings, by the API it belongs to", () => {
    const resources = {
      A: stage('HttpApi', { ThrottlingRateLimit: 200, ThrottlingBurstLimit: 400 }),
      B: stage('WsApi', { ThrottlingRateLimit: 2000, ThrottlingBurstLimit: 5000 }),
    };
    expect(stageThrottleOf(resources, 'HttpApi')).toEqual({ rateLimit: 200, burstLimit: 400 });
    expect(stageThrottleOf(resources, 'WsApi')).toEqual({ rateLimit: 2000, burstLimit: 5000 });
  });

  it("leaves a stage without limits unthrottled, and fills a missing one with the account's", () => {
    expect(stageThrottleOf({ A: stage('Api') }, 'Api')).toBeUndefined();
    expect(stageThrottleOf({}, 'Api')).toBeUndefined();
    expect(stageThrottleOf({ A: stage('Api', { ThrottlingRateLimit: 50 }) }, 'Api')).toEqual({
      rateLimit: 50,
      burstLimit: 5000,
    });
  });

  it("reads the synthesized stack's limits: 200/s and 400 on the host API, 2,000/s and 5,000 on the viewers'", () => {
    const { template } = new CloudAssembly(path.join(__dirname, '..', '..', 'cdk.out')).stack();
    const apis = Object.entries(template.Resources).filter(([, r]) => r.Type === 'AWS::ApiGatewayV2::Api');
    const byProtocol = (protocol: string) =>
      stageThrottleOf(
        template.Resources,
        apis.find(([, r]) => r.Properties?.ProtocolType === protocol)?.[0] ?? '',
      );
    expect(byProtocol('HTTP')).toEqual({ rateLimit: 200, burstLimit: 400 });
    expect(byProtocol('WEBSOCKET')).toEqual({ rateLimit: 2000, burstLimit: 5000 });
  });
});

describe('when a WebSocket stage runs out of tokens (burst 2, 1 per second)', () => {
  it('answers a throttled message with a Too Many Requests frame without running its route, then refuses $connect with 429', async () => {
    const port = await freeBasePort(1);
    const invoked: string[] = [];
    const host = {
      invoke: async (f: LocalFunction): Promise<InvokeResult> => {
        invoked.push(f.logicalId);
        return { ok: true, result: { statusCode: 200 }, ms: 1 };
      },
    } as unknown as LambdaHost;
    const ws = new WebSocketGateway({
      port,
      apiId: 'abc',
      stage: 'live',
      routes: new Map(['$connect', '$disconnect', '$default', 'answer'].map((r) => [r, stubFunction(r)])),
      routeSelectionExpression: '$request.body.action',
      host,
      log: () => undefined,
      signing: { region: 'us-east-1', credentials: { accessKeyId: 'LOCALTEST', secretAccessKey: 'secret' } },
      throttle: { rateLimit: 1, burstLimit: 2 },
    });
    await ws.start();
    try {
      const client = new WebSocket(`ws://127.0.0.1:${port}`);
      const frames: any[] = [];
      client.on('message', (data) => frames.push(JSON.parse(data.toString())));
      await nextEvent(client, 'open', 'the connection to open');
      client.send('{"action":"answer"}');
      client.send('{"action":"answer"}');
      // The gateway handles frames in order: once the second one's refusal is here, the first one's
      // route has been invoked, and the second one's would have been.
      await waitUntil('the second message’s refusal', () => frames.length > 0, {
        timeoutMs: 5000,
        describe: () => ({ invoked, frames }),
      });
      expect(invoked).toEqual(['$connect', 'answer']);
      expect(frames).toEqual([
        { message: 'Too Many Requests', connectionId: expect.any(String), requestId: expect.any(String) },
      ]);
      expect(client.readyState).toBe(WebSocket.OPEN);

      const status = await refusedUpgrade(`ws://127.0.0.1:${port}`);
      expect(status).toBe(429);
      expect(invoked).toEqual(['$connect', 'answer']);
      client.close();
    } finally {
      await ws.stop();
    }
  });
});
