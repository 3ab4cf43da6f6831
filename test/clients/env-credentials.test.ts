import { defaultProvider } from '../../lambda/clients/env-credentials';

const KEYS = ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN', 'AWS_CREDENTIAL_EXPIRATION'];
let saved: Record<string, string | undefined>;

beforeEach(() => {
  saved = Object.fromEntries(KEYS.map((key) => [key, process.env[key]]));
  for (const key of KEYS) delete process.env[key];
  process.env.AWS_ACCESS_KEY_ID = 'AKIDFIRST';
  process.env.AWS_SECRET_ACCESS_KEY = 'secret-first';
});

afterEach(() => {
  for (const key of KEYS) {
    if (saved[key] === undefined) delete process.env[key];
    else process.env[key] = saved[key];
  }
});

describe('the bundled default credential provider', () => {
  it('reads the credentials from the environment', async () => {
    await expect(defaultProvider()()).resolves.toMatchObject({
      accessKeyId: 'AKIDFIRST',
      secretAccessKey: 'secret-first',
    });
  });

  it('reads the environment once and answers later requests from memory', async () => {
    const provider = defaultProvider();
    await provider();
    process.env.AWS_ACCESS_KEY_ID = 'AKIDSECOND';

    await expect(provider()).resolves.toMatchObject({ accessKeyId: 'AKIDFIRST' });
  });

  it('reads the environment again once the credentials have expired', async () => {
    process.env.AWS_SESSION_TOKEN = 'token';
    process.env.AWS_CREDENTIAL_EXPIRATION = new Date(Date.now() - 1000).toISOString();
    const provider = defaultProvider();
    await provider();
    process.env.AWS_ACCESS_KEY_ID = 'AKIDSECOND';

    await expect(provider()).resolves.toMatchObject({ accessKeyId: 'AKIDSECOND' });
  });

  it('does not remember a failure: credentials that appear later are found', async () => {
    delete process.env.AWS_ACCESS_KEY_ID;
    const provider = defaultProvider();
    await expect(provider()).rejects.toThrow();
    process.env.AWS_ACCESS_KEY_ID = 'AKIDLATE';

    await expect(provider()).resolves.toMatchObject({ accessKeyId: 'AKIDLATE' });
  });
});
