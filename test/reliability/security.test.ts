import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { signViewerToken } from '../../lambda/domain/viewer-token';
import type { LocalRuntime } from '../../local/runtime';
import { bootTestRuntime, callApi, callApiPatiently, Viewer } from '../local/harness';

/**
 * Reliability R4 (security), through the local runtime booted from the viewer-auth variant of
 * the stack (`-c viewerAuth=true`, synthesized by test/global-setup.ts): the authorizer, the
 * token route and the Secrets Manager stand-in all come from that template.
 */
let runtime: LocalRuntime;
const viewers: Viewer[] = [];

const connect = async (token?: string) => {
  const url = new URL(runtime.config.webSocketUrl);
  if (token !== undefined) url.searchParams.set('token', token);
  const viewer = await Viewer.connect(url.toString());
  viewers.push(viewer);
  return viewer;
};
const issueToken = async (body?: unknown) => {
  const reply = await callApi(runtime.config, 'POST', '/viewer-token', body, { sign: false });
  expect(reply.status).toBe(201);
  return reply.body as { token: string; viewerId: string; expiresAt: string };
};
const cueCount = async () =>
  ((await (await fetch(`${runtime.config.ivsEndpoint}/_local/metadata`)).json()) as unknown[]).length;
/** The key as an operator (or a function granted read) would fetch it: through the SDK. */
const signingKey = async () => {
  const client = new SecretsManagerClient({
    endpoint: runtime.config.secretsManagerEndpoint,
    region: runtime.config.region,
    credentials: runtime.config.credentials,
  });
  const [arn] = runtime.secretsManager?.secretArns() ?? [];
  const { SecretString } = await client.send(new GetSecretValueCommand({ SecretId: arn }));
  return Buffer.from(SecretString ?? '', 'utf8');
};
const createQuiz = () =>
  callApiPatiently(runtime.config, 'POST', '/quizzes', {
    question: 'Which planet is the largest?',
    choices: ['Mars', 'Jupiter', 'Venus'],
    correctIndex: 1,
    durationSeconds: 60,
  });

beforeAll(async () => {
  runtime = await bootTestRuntime({ viewerAuth: true });
}, 180_000);

afterEach(async () => {
  await Promise.all(viewers.splice(0).map((v) => v.close()));
});

afterAll(async () => {
  await runtime?.stop();
});

describe('when the stack is booted with viewer auth', () => {
  it('says so in its config and serves the key only from the Secrets Manager stand-in', async () => {
    expect(runtime.config.viewerAuth).toBe(true);
    const key = await signingKey();
    expect(key.length).toBe(64);
    expect(runtime.secretsManager?.reads).toBeGreaterThanOrEqual(1);
  });
});

describe('when a viewer connects without a valid token', () => {
  it('refuses the upgrade with 401 when the token is absent or empty', async () => {
    await expect(connect()).rejects.toThrow('upgrade refused: 401');
    await expect(connect('')).rejects.toThrow('upgrade refused: 401');
  });

  it('refuses a forged token with 401: a payload edited after signing, or signed with another key', async () => {
    const { token } = await issueToken();
    const [version, payload, mac] = token.split('.');
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
    const edited = Buffer.from(JSON.stringify({ ...claims, sub: 'someone-else' })).toString('base64url');
    await expect(connect(`${version}.${edited}.${mac}`)).rejects.toThrow('upgrade refused: 401');

    const otherKey = Buffer.alloc(64, 7);
    const forged = signViewerToken(otherKey, 'someone-else', new Date()).token;
    await expect(connect(forged)).rejects.toThrow('upgrade refused: 401');
    await expect(connect('not-a-token')).rejects.toThrow('upgrade refused: 401');
  });

  it('refuses an expired token with 401, though its signature is right', async () => {
    const key = await signingKey();
    const issuedLongAgo = new Date(Date.now() - 2 * 60 * 60 * 1000);
    const expired = signViewerToken(key, 'late-viewer', issuedLongAgo, 60 * 60).token;
    await expect(connect(expired)).rejects.toThrow('upgrade refused: 401');
    // The same key and viewer, still in date, gets in: the refusal above was the expiry.
    await (await connect(signViewerToken(key, 'late-viewer', new Date(), 60 * 60).token)).close();
  });
});

describe('when a viewer with a valid token answers and reconnects', () => {
  it('counts the viewer once, however often the same viewer id reconnects', async () => {
    const created = await createQuiz();
    expect(created.status).toBe(201);
    const quizId = created.body.quizId;
    const { token, viewerId, expiresAt } = await issueToken();

    const first = await connect(token);
    const accepted = await first.request({ action: 'answer', quizId, choiceIndex: 1 }, ['answer', 'error']);
    expect(accepted).toMatchObject({ type: 'answer', status: 'accepted', quizId });
    await first.close();

    // A new connection (new connection id) with the same token, and one with a renewed token.
    const again = await connect(token);
    const repeat = await again.request({ action: 'answer', quizId, choiceIndex: 0 }, ['answer', 'error']);
    expect(repeat).toMatchObject({ type: 'error', code: 'ALREADY_ANSWERED', quizId });

    const renewed = await issueToken({ token });
    expect(renewed.viewerId).toBe(viewerId);
    // Renewed within the same second, the token may be byte-identical; it never expires sooner.
    expect(Date.parse(renewed.expiresAt)).toBeGreaterThanOrEqual(Date.parse(expiresAt));
    const third = await connect(renewed.token);
    const repeatRenewed = await third.request({ action: 'answer', quizId, choiceIndex: 2 }, [
      'answer',
      'error',
    ]);
    expect(repeatRenewed).toMatchObject({ type: 'error', code: 'ALREADY_ANSWERED', quizId });

    // Two open connections at once under one token: still one vote.
    const twin = await connect(token);
    const twinReply = await twin.request({ action: 'answer', quizId, choiceIndex: 0 }, ['answer', 'error']);
    expect(twinReply).toMatchObject({ code: 'ALREADY_ANSWERED' });

    const described = await callApi(runtime.config, 'GET', `/quizzes/${quizId}`);
    expect(described.body).toMatchObject({ counts: [0, 1, 0], total: 1 });

    // A different viewer still counts.
    const other = await connect((await issueToken()).token);
    const otherReply = await other.request({ action: 'answer', quizId, choiceIndex: 0 }, ['answer', 'error']);
    expect(otherReply).toMatchObject({ status: 'accepted' });
    const after = await callApi(runtime.config, 'GET', `/quizzes/${quizId}`);
    expect(after.body).toMatchObject({ counts: [1, 1, 0], total: 2 });
  });

  it('refuses to renew a forged token with 401 and a message', async () => {
    const forged = signViewerToken(Buffer.alloc(64, 9), 'someone-else', new Date()).token;
    const reply = await callApi(runtime.config, 'POST', '/viewer-token', { token: forged }, { sign: false });
    expect(reply.status).toBe(401);
    expect(reply.body.error).toMatchObject({ code: 'UNAUTHORIZED' });
    expect(reply.body.error.message).toMatch(/viewer token/);
  });
});

describe('when a host call is unsigned or signed with the wrong key', () => {
  const routes: Array<[string, string, unknown]> = [
    ['POST', '/events', { type: 'poll', data: { question: 'Tea or coffee?' } }],
    ['POST', '/quizzes', { question: 'Q?', choices: ['a', 'b'], correctIndex: 0, durationSeconds: 30 }],
    ['POST', '/quizzes/anything/reveal', undefined],
  ];

  it('never reaches PutMetadata: 403 FORBIDDEN, and the IVS stand-in sees no cue', async () => {
    const before = await cueCount();
    const wrongKey = { ...runtime.config.credentials, secretAccessKey: 'not-the-secret-key-0123456789' };
    const unknownKey = { accessKeyId: 'AKIAUNKNOWN000000000', secretAccessKey: 'whatever-0123456789' };
    for (const [method, route, body] of routes) {
      for (const [how, options] of [
        ['unsigned', { sign: false }],
        ['wrong secret key', { credentials: wrongKey }],
        ['unknown access key', { credentials: unknownKey }],
      ] as const) {
        const reply = await callApi(runtime.config, method, route, body, options);
        expect({ route, how, status: reply.status, code: reply.body?.error?.code }).toEqual({
          route,
          how,
          status: 403,
          code: 'FORBIDDEN',
        });
      }
    }
    expect(await cueCount()).toBe(before);
    // The check can fail: a properly signed event does reach the stand-in.
    const signed = await callApi(runtime.config, 'POST', '/events', routes[0][2]);
    expect(signed.status).toBe(200);
    expect(await cueCount()).toBe(before + 1);
  });
});
