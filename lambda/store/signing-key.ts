import { GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { secrets } from '../clients/secrets';
import { MIN_KEY_BYTES } from '../domain/viewer-token';

/**
 * The viewer-token signing key, read from Secrets Manager once per container and kept in
 * memory: a crowd joining at once costs one GetSecretValue per container, not one per viewer.
 * A failed read is not cached, so the next invocation tries again.
 */
export function signingKeyLoader(secretId: string): () => Promise<Buffer> {
  let cached: Promise<Buffer> | undefined;
  const load = async (): Promise<Buffer> => {
    const { SecretString } = await secrets.send(new GetSecretValueCommand({ SecretId: secretId }));
    const key = Buffer.from(SecretString ?? '', 'utf8');
    if (key.length < MIN_KEY_BYTES) {
      throw new Error(`secret ${secretId} holds ${key.length} bytes; a signing key needs ${MIN_KEY_BYTES}`);
    }
    return key;
  };
  return () => {
    cached ??= load().catch((error: unknown) => {
      cached = undefined;
      throw error;
    });
    return cached;
  };
}
