import { type FromEnvInit, fromEnv } from '@aws-sdk/credential-provider-env';

type Provider = ReturnType<typeof fromEnv>;

/**
 * Bundled in place of `@aws-sdk/credential-provider-node` (see AppFunction's esbuild alias).
 * Lambda always hands a function its credentials in the environment, and so does the local
 * runtime, so the SDK's default chain (SSO, INI files, process, web identity, and the STS and
 * SSO clients they carry) is dead weight: about 115 KB of every bundle and its cold start.
 *
 * Memoized as the chain it replaces is: the SDK marks a default provider as memoized without
 * wrapping it, so a bare `fromEnv` was read again for every request (a fan-out's CPU profile
 * showed it, npm run bench P2). Environment credentials carry no expiry unless
 * AWS_CREDENTIAL_EXPIRATION is set; then they are read again once it has passed.
 */
export const defaultProvider = (init?: FromEnvInit): Provider => {
  const read = fromEnv(init);
  let cached: ReturnType<Provider> | undefined;
  let expiresAt = Number.POSITIVE_INFINITY;
  return () => {
    if (!cached || Date.now() >= expiresAt) {
      cached = read().then(
        (credentials) => {
          expiresAt = credentials.expiration?.getTime() ?? Number.POSITIVE_INFINITY;
          return credentials;
        },
        (error: unknown) => {
          cached = undefined;
          throw error;
        },
      );
    }
    return cached;
  };
};
