import * as path from 'node:path';
import { oauthCall } from '../../client/cognito-calls';
import { CloudAssembly } from '../../local/assembly';
import type { LocalRuntime } from '../../local/runtime';
import { readStackModel } from '../../local/stack-model';
import { bootTestRuntime, callApi, signedFetch, sleep } from './harness';
import {
  authorizeUrl,
  codeOf,
  identityCall,
  loginsFor,
  pkce,
  postLogin,
  type SignInSetup,
  signInForCredentials,
  signInSetup,
  tokenCall,
} from './sign-in-client';

/**
 * Host sign-in against the local Cognito stand-in, attacked as a hostile caller would: wrong
 * passwords, forged, reused and stolen codes, forged tokens, expired credentials, and the
 * credentials aimed at what the host role does not allow.
 *
 * Two runtimes, booted side by side: one whose credentials last the host role's hour, so no test
 * races their expiry however slow the machine, and one whose credentials last
 * {@link CREDENTIAL_SECONDS} s (a documented runtime option), to watch them expire.
 */
const CREDENTIAL_SECONDS = 3;
let runtime: LocalRuntime;
let expiring: LocalRuntime;
let setup: SignInSetup;
const user = (of = runtime) => of.config.hostUser as { username: string; password: string };
const quiz = { question: 'Signed in?', choices: ['Yes', 'No'], correctIndex: 0, durationSeconds: 10 };

beforeAll(async () => {
  // One container per function: nothing here runs side by side, and a boot then starts one
  // fan-out container for its four segments instead of four.
  [runtime, expiring] = await Promise.all([
    bootTestRuntime({ containersPerFunction: 1 }),
    bootTestRuntime({ hostCredentialsSeconds: CREDENTIAL_SECONDS, containersPerFunction: 1 }),
  ]);
  setup = await signInSetup(runtime.config.hostUrl as string);
}, 120_000);
afterAll(() => Promise.all([runtime?.stop(), expiring?.stop()]));

describe('the local configuration', () => {
  it('gives the console sign-in settings on the stand-in, and no credentials to either page', async () => {
    const { cognitoEndpoint, hostUser, viewerUrl, hostUrl } = runtime.config;
    expect(hostUser?.username).toMatch(/@/);
    expect(hostUser?.password.length).toBeGreaterThanOrEqual(12);
    const host = await (await fetch(`${hostUrl}config.json`)).json();
    expect(host.credentials).toBeUndefined();
    expect(host.signIn).toMatchObject({
      domain: cognitoEndpoint,
      identityEndpoint: cognitoEndpoint,
      region: 'us-east-1',
    });
    const viewer = await (await fetch(`${viewerUrl}config.json`)).json();
    expect(viewer.credentials).toBeUndefined();
    expect(viewer.signIn).toBeUndefined();
  });

  it("gives the host role exactly the template's five host routes", () => {
    const model = readStackModel(new CloudAssembly(path.join(__dirname, '..', '..', 'cdk.out')), {
      region: 'us-east-1',
      httpApiBase: 'http://127.0.0.1:1',
      webSocketBase: 'ws://127.0.0.1:2',
      sqsBase: 'http://127.0.0.1:3',
      playbackUrl: () => 'http://127.0.0.1:4/playlist.m3u8',
      pagesHost: '127.0.0.1:5',
      cognitoBase: 'http://127.0.0.1:9',
      functionEnv: {},
    });
    const routes = model.hostSignIn?.invokeArns.map((arn) => arn.split(`:${model.httpApi.apiId}/`)[1]).sort();
    expect(routes).toEqual([
      '$default/GET/quizzes/*',
      '$default/GET/show',
      '$default/POST/events',
      '$default/POST/quizzes',
      '$default/POST/quizzes/*/reveal',
    ]);
    expect(model.hostSignIn).toMatchObject({
      allowUnauthenticated: false,
      callbackUrls: ['http://127.0.0.1:5/host/'],
      logoutUrls: ['http://127.0.0.1:5/host/'],
      sessionSeconds: 3600,
      idTokenSeconds: 3600,
    });
  });
});

describe('the managed login', () => {
  it('refuses a wrong password with a clear message and no code', async () => {
    const { challenge } = pkce();
    const reply = await postLogin(setup, challenge, user().username, `${user().password}x`);
    expect(reply.status).toBe(400);
    expect(reply.headers.get('location')).toBeNull();
    const page = await reply.text();
    expect(page).toContain('role="alert">Incorrect username or password.');
    // The form comes back with the username kept and the labelled fields.
    expect(page).toContain(`value="${user().username}"`);
    expect(page).toMatch(/<label for="password">Password<\/label>/);
    const stranger = await postLogin(setup, challenge, 'someone@else.example', user().password);
    expect(stranger.status).toBe(400);
  });

  it('shows a hostile username back as text, never as markup', async () => {
    const reply = await postLogin(setup, pkce().challenge, '"><script>alert(1)</script>', 'x');
    const page = await reply.text();
    expect(page).not.toContain('<script>');
    expect(page).toContain('value="&#34;&#62;&#60;script&#62;alert(1)&#60;/script&#62;"');
    expect(reply.headers.get('content-security-policy')).toContain("default-src 'none'");
  });

  it('signs out only to a registered sign-out URL', async () => {
    const logout = (uri: string) =>
      fetch(
        new URL(
          `/logout?${new URLSearchParams({ client_id: setup.signIn.clientId, logout_uri: uri })}`,
          setup.signIn.domain,
        ),
        { redirect: 'manual' },
      );
    const evil = await logout('https://evil.example/');
    expect(evil.status).toBe(400);
    expect(evil.headers.get('location')).toBeNull();
    const ours = await logout(setup.consoleUrl);
    expect(ours.status).toBe(302);
    expect(ours.headers.get('location')).toBe(setup.consoleUrl);
  });

  it('never sends a code to a redirect URI the client does not register', async () => {
    const url = authorizeUrl(setup, pkce().challenge);
    url.searchParams.set('redirect_uri', 'https://evil.example/host/');
    const reply = await fetch(url, { redirect: 'manual' });
    expect(reply.status).toBe(400);
    expect(reply.headers.get('location')).toBeNull();
    expect((await reply.json()).error_description).toMatch(/redirect_mismatch/);
  });

  it('refuses a made-up code, a reused code, another redirect and a wrong PKCE verifier', async () => {
    const redeem = (code: string, verifier: string, redirect = setup.consoleUrl) =>
      tokenCall(setup, {
        grant_type: 'authorization_code',
        code,
        redirect_uri: redirect,
        code_verifier: verifier,
      });
    const made = await redeem('00000000-0000-0000-0000-000000000000', 'x');
    expect(made).toMatchObject({ status: 400, body: expect.objectContaining({ error: 'invalid_grant' }) });

    const first = pkce();
    const code = codeOf(await postLogin(setup, first.challenge, user().username, user().password));
    expect((await redeem(code, first.verifier)).status).toBe(200);
    const again = await redeem(code, first.verifier);
    expect(again).toMatchObject({ status: 400, body: expect.objectContaining({ error: 'invalid_grant' }) });

    const second = pkce();
    const stolen = codeOf(await postLogin(setup, second.challenge, user().username, user().password));
    // A code stolen from the address bar is useless without the verifier that stayed in the tab.
    expect((await redeem(stolen, pkce().verifier)).body.error).toBe('invalid_grant');
    // And it was spent by that try: the right verifier is too late now.
    expect((await redeem(stolen, second.verifier)).body.error).toBe('invalid_grant');

    const third = pkce();
    const other = codeOf(await postLogin(setup, third.challenge, user().username, user().password));
    expect((await redeem(other, third.verifier, 'http://127.0.0.1:1/host/')).body.error).toBe(
      'invalid_grant',
    );
  });

  it('renews with the refresh token until it is revoked', async () => {
    const { tokens } = await signInForCredentials(setup, user());
    const renewed = await tokenCall(setup, {
      grant_type: 'refresh_token',
      refresh_token: tokens.refresh_token,
    });
    expect(renewed.status).toBe(200);
    expect(renewed.body.id_token).toEqual(expect.any(String));
    const revoke = await oauthCall(
      setup.signIn.domain,
      { token: tokens.refresh_token, client_id: setup.signIn.clientId },
      '/oauth2/revoke',
    );
    expect(revoke.status).toBe(200);
    const after = await tokenCall(setup, {
      grant_type: 'refresh_token',
      refresh_token: tokens.refresh_token,
    });
    expect(after).toMatchObject({ status: 400, body: expect.objectContaining({ error: 'invalid_grant' }) });
  });
});

describe('the identity pool', () => {
  it('answers a body that is not JSON with a 400, and an unknown call by name', async () => {
    const bad = await fetch(setup.signIn.identityEndpoint, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-amz-json-1.1',
        'x-amz-target': 'AWSCognitoIdentityService.GetId',
      },
      body: '{"IdentityPoolId":',
    });
    expect(bad.status).toBe(400);
    expect((await bad.json()).__type).toBe('SerializationException');
    // JSON, but not an object: refused as AWS refuses it, never a 500 that quotes an exception.
    for (const body of ['null', '[]', '"GetId"', '7']) {
      const notObject = await fetch(setup.signIn.identityEndpoint, {
        method: 'POST',
        headers: {
          'content-type': 'application/x-amz-json-1.1',
          'x-amz-target': 'AWSCognitoIdentityService.GetId',
        },
        body,
      });
      expect({ body, status: notObject.status, reply: await notObject.json() }).toEqual({
        body,
        status: 400,
        reply: { __type: 'SerializationException', message: 'The body is not a JSON object' },
      });
    }
    const unknown = await identityCall(setup, 'DeleteIdentityPool', {
      IdentityPoolId: setup.signIn.identityPoolId,
    });
    expect(unknown).toMatchObject({ status: 400, body: { __type: 'UnknownOperationException' } });
  });

  it('refuses unauthenticated identities and forged ID tokens', async () => {
    const bare = await identityCall(setup, 'GetId', { IdentityPoolId: setup.signIn.identityPoolId });
    expect(bare).toMatchObject({
      status: 400,
      body: expect.objectContaining({ __type: 'NotAuthorizedException' }),
    });
    const { tokens } = await signInForCredentials(setup, user());
    const [head, body] = tokens.id_token.split('.');
    const claims = JSON.parse(Buffer.from(body, 'base64url').toString('utf8'));
    const forgedBody = Buffer.from(JSON.stringify({ ...claims, sub: 'someone-else' })).toString('base64url');
    const forged = `${head}.${forgedBody}.${tokens.id_token.split('.')[2]}`;
    const reply = await identityCall(setup, 'GetId', {
      IdentityPoolId: setup.signIn.identityPoolId,
      Logins: loginsFor(setup, forged),
    });
    expect(reply.status).toBe(400);
    expect(reply.body.__type).toBe('NotAuthorizedException');
    const wrongPool = await identityCall(setup, 'GetId', {
      IdentityPoolId: 'us-east-1:00000000-0000-0000-0000-000000000000',
      Logins: loginsFor(setup, tokens.id_token),
    });
    expect(wrongPool.body.__type).toBe('ResourceNotFoundException');
  });
});

describe("a signed-in host's credentials", () => {
  it('run the show: open a quiz, read it, send an event, reveal, and read the cockpit', async () => {
    const { credentials } = await signInForCredentials(setup, user());
    const created = await callApi(runtime.config, 'POST', '/quizzes', quiz, { credentials });
    expect(created.status).toBe(201);
    const { quizId } = created.body;
    expect(
      (await callApi(runtime.config, 'GET', `/quizzes/${quizId}`, undefined, { credentials })).status,
    ).toBe(200);
    const event = await callApi(
      runtime.config,
      'POST',
      '/events',
      { type: 'note', data: {} },
      { credentials },
    );
    expect(event.status).toBe(200);
    const reveal = await callApi(runtime.config, 'POST', `/quizzes/${quizId}/reveal?force=true`, undefined, {
      credentials,
    });
    expect(reveal.status).toBe(200);
    // The cockpit: IVS's stream (live, nobody playing video here) and the quiz, revealed.
    const show = await callApi(runtime.config, 'GET', '/show', undefined, { credentials });
    expect(show.status).toBe(200);
    expect(show.body.stream).toEqual({
      state: 'live',
      viewerCount: 0,
      startTime: expect.any(String),
      health: 'HEALTHY',
    });
    expect(show.body.currentQuizId).toBe(quizId);
    expect(show.body.quizzes[0]).toMatchObject({ quizId, state: 'revealed', question: quiz.question });
  });

  it('need their session token, and a changed one is refused', async () => {
    const { credentials } = await signInForCredentials(setup, user());
    const { sessionToken: _token, ...withoutToken } = credentials;
    const bare = await callApi(runtime.config, 'POST', '/quizzes', quiz, { credentials: withoutToken });
    expect(bare.status).toBe(403);
    const tampered = { ...credentials, sessionToken: `${credentials.sessionToken.slice(0, -4)}AAAA` };
    const changed = await callApi(runtime.config, 'POST', '/quizzes', quiz, { credentials: tampered });
    expect(changed.status).toBe(403);
    expect(changed.body.message).toBe('The security token included in the request is invalid.');
  });

  it('call no other AWS service: DynamoDB, Lambda and IVS do not know them', async () => {
    const { credentials } = await signInForCredentials(setup, user());
    const signing = (service: string) => ({ service, region: 'us-east-1', credentials });
    const dynamo = await signedFetch(
      runtime.config.dynamoDbEndpoint,
      {
        method: 'POST',
        headers: {
          'content-type': 'application/x-amz-json-1.0',
          'x-amz-target': 'DynamoDB_20120810.ListTables',
        },
        body: '{}',
      },
      signing('dynamodb'),
    );
    expect(dynamo.status).toBe(400);
    expect(await dynamo.text()).toContain('UnrecognizedClientException');
    const lambda = await signedFetch(
      `${runtime.config.lambdaEndpoint}/2015-03-31/functions`,
      {},
      signing('lambda'),
    );
    expect(lambda.status).toBe(403);
    const ivs = await signedFetch(
      `${runtime.config.ivsEndpoint}/GetChannel`,
      {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ arn: runtime.config.channelArn }),
      },
      signing('ivs'),
    );
    expect(ivs.status).toBe(403);
  });

  it('are refused once they expire', async () => {
    // The function warm first (with the runtime's own keys), so the credentials' first call is
    // answered well within their seconds of life, however slow the machine.
    expect((await callApi(expiring.config, 'POST', '/quizzes', quiz)).status).toBe(201);
    const signIn = await signInSetup(expiring.config.hostUrl as string);
    const { credentials, expiration } = await signInForCredentials(signIn, user(expiring));
    expect(expiration * 1000 - Date.now()).toBeLessThanOrEqual(CREDENTIAL_SECONDS * 1000);
    expect((await callApi(expiring.config, 'POST', '/quizzes', quiz, { credentials })).status).toBe(201);
    // The wait is the subject: until just past the moment the credentials expire.
    await sleep(expiration * 1000 - Date.now() + 50);
    const late = await callApi(expiring.config, 'POST', '/quizzes', quiz, { credentials });
    expect(late.status).toBe(403);
    expect(late.body.message).toBe('The security token included in the request is expired');
  }, 20_000);
});
