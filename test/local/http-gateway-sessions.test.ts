import { arnMatches } from '../../local/host-sign-in-model';
import { compileRoute, HttpGateway } from '../../local/http-gateway';
import type { InvokeResult, LambdaHost, LocalFunction } from '../../local/lambda-host';
import type { SessionCredentials } from '../../local/sigv4';
import { freeBasePort, signedFetch, stubFunction } from './harness';

/**
 * The HTTP API's IAM check for temporary credentials: a role's credentials reach exactly the
 * routes its policy's `execute-api:Invoke` resources match, as IAM answers, and nothing more.
 */
const ROOT = { accessKeyId: 'LOCALROOT', secretAccessKey: 'root-secret' };
const session: SessionCredentials = {
  accessKeyId: 'ASIATEST',
  secretAccessKey: 'session-secret',
  sessionToken: 'token-1',
  expiresAt: Date.now() + 3600_000,
  principalArn: 'arn:aws:sts::000000000000:assumed-role/HostRole/CognitoIdentityCredentials',
  invokeArns: ['arn:aws:execute-api:us-east-1:000000000000:api1/$default/POST/quizzes'],
};

describe('arnMatches', () => {
  it('reads * as any run of characters (slashes too) and ? as one, nothing else as a pattern', () => {
    const route = 'arn:aws:execute-api:us-east-1:1:api/$default/GET/quizzes/*';
    expect(arnMatches(route, 'arn:aws:execute-api:us-east-1:1:api/$default/GET/quizzes/q1')).toBe(true);
    expect(arnMatches(route, 'arn:aws:execute-api:us-east-1:1:api/$default/GET/quizzes/q1/x')).toBe(true);
    expect(arnMatches(route, 'arn:aws:execute-api:us-east-1:1:api/$default/POST/quizzes/q1')).toBe(false);
    expect(arnMatches('a?c', 'abc')).toBe(true);
    expect(arnMatches('a.c', 'abc')).toBe(false);
    expect(arnMatches('arn:x', 'arn:x/more')).toBe(false);
  });
});

describe('when temporary credentials call the HTTP API', () => {
  let gateway: HttpGateway;
  let url: string;
  const invoked: string[] = [];
  beforeAll(async () => {
    const port = await freeBasePort(1);
    const host = {
      invoke: async (f: LocalFunction): Promise<InvokeResult> => {
        invoked.push(f.logicalId);
        return { ok: true, result: { statusCode: 200, body: '{}' }, ms: 1 };
      },
    } as unknown as LambdaHost;
    const route = (routeKey: string) => ({
      routeKey,
      ...compileRoute(routeKey),
      authorizationType: 'AWS_IAM',
      fn: stubFunction(routeKey),
    });
    gateway = new HttpGateway({
      port,
      apiId: 'api1',
      routes: [route('POST /quizzes'), route('GET /quizzes/{quizId}')],
      host,
      signing: {
        region: 'us-east-1',
        credentials: ROOT,
        sessions: new Map([[session.accessKeyId, session]]),
      },
      accountId: '000000000000',
      corsAllowOrigins: [],
      log: () => undefined,
    });
    await gateway.start();
    url = `http://127.0.0.1:${port}`;
  });
  afterAll(() => gateway.stop());

  const call = (method: string, path: string, credentials: object) =>
    signedFetch(
      `${url}${path}`,
      { method, body: method === 'POST' ? '{}' : undefined },
      {
        service: 'execute-api',
        region: 'us-east-1',
        credentials: credentials as typeof ROOT,
      },
    );

  it('lets them call what the role allows', async () => {
    const reply = await call('POST', '/quizzes', session);
    expect(reply.status).toBe(200);
    expect(invoked).toEqual(['POST /quizzes']);
  });

  it('refuses, in IAM words, a route the role does not allow, and never invokes it', async () => {
    const reply = await call('GET', '/quizzes/q1', session);
    expect(reply.status).toBe(403);
    expect((await reply.json()).Message).toBe(
      `User: ${session.principalArn} is not authorized to perform: execute-api:Invoke on resource: arn:aws:execute-api:us-east-1:000000000000:api1/$default/GET/quizzes/q1`,
    );
    expect(invoked).not.toContain('GET /quizzes/{quizId}');
    // The runtime's own credentials are not a role: they may call it.
    expect((await call('GET', '/quizzes/q1', ROOT)).status).toBe(200);
  });

  it('refuses a session signed with the wrong secret, and the root key with a session token', async () => {
    const wrong = await call('POST', '/quizzes', { ...session, secretAccessKey: 'guess' });
    expect(wrong.status).toBe(403);
    const rootWithToken = await call('POST', '/quizzes', { ...ROOT, sessionToken: 'token-1' });
    expect(rootWithToken.status).toBe(403);
  });
});
