import { GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { handler } from '../../lambda/handlers/viewer-token';
import { mockAws } from '../aws-mocks';
import { expectErrorReply, httpEvent, invoke } from './events';

const { secrets: secretsMock } = mockAws();

beforeEach(() => {
  secretsMock.on(GetSecretValueCommand).resolves({ SecretString: 'S'.repeat(64) });
});

describe('when POST /viewer-token carries a body not declared application/json', () => {
  it('answers 415 UNSUPPORTED_MEDIA_TYPE and issues nothing', async () => {
    const event = httpEvent('POST /viewer-token', {
      body: { token: 'x' },
      headers: { 'content-type': 'text/plain' },
    });
    const message = expectErrorReply(await invoke(handler, event), 415, 'UNSUPPORTED_MEDIA_TYPE');
    expect(message).toBe('content-type: must be application/json, got "text/plain"');
    expect(secretsMock.commandCalls(GetSecretValueCommand)).toHaveLength(0);
  });

  it('issues a token for an empty body, which needs no content type', async () => {
    const reply = await invoke(handler, httpEvent('POST /viewer-token', { headers: {} }));
    expect(reply.statusCode).toBe(201);
  });
});
