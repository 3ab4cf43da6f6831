import { GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import type { APIGatewayRequestAuthorizerEvent } from 'aws-lambda';
import { signViewerToken } from '../../lambda/domain/viewer-token';
import { handler as issue } from '../../lambda/handlers/viewer-token';
import { handler as authorize } from '../../lambda/handlers/ws-authorize';
import { handler as connect } from '../../lambda/handlers/ws-connect';
import { signingKeyLoader } from '../../lambda/store/signing-key';
import { viewerIdOf } from '../../lambda/ws/viewer-identity';
import { mockAws } from '../aws-mocks';
import { expectErrorReply, httpEvent, invoke, lambdaContext } from '../handlers/events';
import { TEST_ENV } from '../setup-env';
import { CONNECTIONS_TABLE, wsEvent } from './ws-events';

const { secrets: secretsMock, ddb: ddbMock } = mockAws();

const SECRET = 'S'.repeat(64);
const KEY = Buffer.from(SECRET);
const TTL = Number(TEST_ENV.CUECAST_VIEWER_TOKEN_TTL_SECONDS);
const METHOD_ARN = 'arn:aws:execute-api:eu-west-1:123456789012:abc123/live/$connect';

const issueEvent = (body?: string | object) => httpEvent('POST /viewer-token', { body });

const authorizerEvent = (token?: string): APIGatewayRequestAuthorizerEvent =>
  ({
    type: 'REQUEST',
    methodArn: METHOD_ARN,
    headers: {},
    queryStringParameters: token === undefined ? {} : { token },
    requestContext: { identity: { sourceIp: '203.0.113.7' } },
  }) as unknown as APIGatewayRequestAuthorizerEvent;

beforeEach(() => {
  secretsMock.on(GetSecretValueCommand).resolves({ SecretString: SECRET });
  ddbMock.on(PutCommand).resolves({});
});

describe('when a viewer asks POST /viewer-token', () => {
  it('gives a new viewer a fresh id and a token signed with the stack key, expiring after the TTL', async () => {
    const before = Date.now();
    const reply = await invoke(issue, issueEvent());

    expect(reply.statusCode).toBe(201);
    const body = reply.body as { token: string; viewerId: string; expiresAt: string };
    expect(Object.keys(body).sort()).toStrictEqual(['expiresAt', 'token', 'viewerId']);
    expect(body.viewerId).toMatch(/^[A-Za-z0-9_-]{16}$/);
    const expires = Date.parse(body.expiresAt);
    expect(expires).toBeGreaterThanOrEqual(Math.floor(before / 1000) * 1000 + TTL * 1000);
    expect(expires).toBeLessThanOrEqual(Date.now() + TTL * 1000);
    const allowed = await authorize(authorizerEvent(body.token), lambdaContext());
    expect(allowed.context?.viewerId).toBe(body.viewerId);
    expect(secretsMock.commandCalls(GetSecretValueCommand)[0].args[0].input).toStrictEqual({
      SecretId: TEST_ENV.CUECAST_VIEWER_TOKEN_SECRET,
    });
  });

  it('gives two requests two different viewers', async () => {
    const a = (await invoke(issue, issueEvent())).body as { viewerId: string };
    const b = (await invoke(issue, issueEvent({}))).body as { viewerId: string };
    expect(a.viewerId).not.toBe(b.viewerId);
  });

  it('renews a valid token for the same viewer', async () => {
    const { token } = signViewerToken(KEY, 'returning-viewer', new Date(Date.now() - 60_000), TTL);
    const reply = await invoke(issue, issueEvent({ token }));

    expect(reply.statusCode).toBe(201);
    expect((reply.body as { viewerId: string }).viewerId).toBe('returning-viewer');
  });

  it.each([
    ['forged with another key', signViewerToken(Buffer.from('x'.repeat(64)), 'someone', new Date()).token],
    ['expired', signViewerToken(KEY, 'late-viewer', new Date(Date.now() - (TTL + 1) * 1000), TTL).token],
    ['garbage', 'not-a-token'],
  ])('answers 401 UNAUTHORIZED to renewing a token that is %s', async (_name, token) => {
    const message = expectErrorReply(await invoke(issue, issueEvent({ token })), 401, 'UNAUTHORIZED');
    expect(message).toMatch(/POST \/viewer-token/);
  });

  it.each([
    ['bad JSON', '{"token":', /not valid JSON/],
    ['an unknown field', { viewerId: 'pick-me' }, /unknown field "viewerId"/],
    ['a token that is not a string', { token: 7 }, /token: must be a string/],
    ['a token over 512 characters', { token: 'a'.repeat(513) }, /at most 512/],
    ['an array', [], /must be a JSON object/],
  ])('answers 400 BAD_REQUEST to %s', async (_name, body, pattern) => {
    expect(expectErrorReply(await invoke(issue, issueEvent(body)), 400, 'BAD_REQUEST')).toMatch(pattern);
  });
});

describe('when a viewer connects with viewer auth on', () => {
  it('allows a valid token: the policy names this $connect, and the viewer id travels on', async () => {
    const { token } = signViewerToken(KEY, 'viewer-42', new Date(), TTL);
    const result = await authorize(authorizerEvent(token), lambdaContext());

    expect(result).toStrictEqual({
      principalId: 'viewer-42',
      policyDocument: {
        Version: '2012-10-17',
        Statement: [{ Action: 'execute-api:Invoke', Effect: 'Allow', Resource: METHOD_ARN }],
      },
      context: { viewerId: 'viewer-42', tokenExpiresAt: expect.any(Number) },
    });
  });

  it.each([
    ['absent', undefined],
    ['forged', signViewerToken(Buffer.from('x'.repeat(64)), 'viewer-42', new Date()).token],
    ['expired', signViewerToken(KEY, 'viewer-42', new Date(Date.now() - (TTL + 5) * 1000), TTL).token],
    ['malformed', 'v1.abc'],
  ])('refuses a token that is %s with "Unauthorized" (API Gateway: 401)', async (_name, token) => {
    await expect(authorize(authorizerEvent(token), lambdaContext())).rejects.toThrow(/^Unauthorized$/);
  });

  it('stores the verified viewer id, not the connection id, on $connect', async () => {
    const event = wsEvent('$connect', { connectionId: 'conn-1' });
    (event.requestContext as unknown as Record<string, unknown>).authorizer = {
      principalId: 'viewer-42',
      viewerId: 'viewer-42',
    };
    await connect(event, lambdaContext());

    const item = ddbMock.commandCalls(PutCommand)[0].args[0].input;
    expect(item.TableName).toBe(CONNECTIONS_TABLE);
    expect(item.Item).toMatchObject({ connectionId: 'conn-1', viewerId: 'viewer-42' });
  });

  it('falls back to the connection when there is no authorizer context', () => {
    expect(viewerIdOf(wsEvent('answer', { connectionId: 'conn-9' }))).toBe('conn-9');
    const event = wsEvent('answer', { connectionId: 'conn-9' });
    (event.requestContext as unknown as Record<string, unknown>).authorizer = { viewerId: '' };
    expect(viewerIdOf(event)).toBe('conn-9');
  });
});

describe('when the signing key cannot be read', () => {
  it('fails that call, reads again on the next, and then keeps the key for the container', async () => {
    secretsMock.reset();
    secretsMock
      .on(GetSecretValueCommand)
      .rejectsOnce(new Error('service unavailable'))
      .resolves({ SecretString: SECRET });
    const key = signingKeyLoader('arn:test-secret');

    await expect(key()).rejects.toThrow('service unavailable');
    await expect(key()).resolves.toStrictEqual(KEY);
    await expect(key()).resolves.toStrictEqual(KEY);
    expect(secretsMock.commandCalls(GetSecretValueCommand)).toHaveLength(2);
  });

  it('refuses a secret shorter than a signing key needs', async () => {
    secretsMock.on(GetSecretValueCommand).resolves({ SecretString: 'short' });
    await expect(signingKeyLoader('arn:test-secret')()).rejects.toThrow(
      /holds 5 bytes; a signing key needs 32/,
    );
  });

  it('reads the key once for many tokens in one container', async () => {
    const calls = secretsMock.commandCalls(GetSecretValueCommand).length;
    for (let i = 0; i < 5; i++) expect((await invoke(issue, issueEvent())).statusCode).toBe(201);
    // Read at most once (zero times when an earlier test already warmed this container).
    expect(secretsMock.commandCalls(GetSecretValueCommand).length - calls).toBeLessThanOrEqual(1);
  });
});
