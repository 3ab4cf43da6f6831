import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';

/** One Secrets Manager client per container (viewer auth only). */
// PURE: only the functions that read the signing key keep this client in their bundle.
export const secrets = /* @__PURE__ */ new SecretsManagerClient({});
