/**
 * Bundled in place of `@aws-sdk/credential-provider-node` (see AppFunction's esbuild alias).
 * Lambda always hands a function its credentials in the environment, and so does the local
 * runtime, so the SDK's default chain (SSO, INI files, process, web identity, and the STS and
 * SSO clients they carry) is dead weight: about 115 KB of every bundle and its cold start.
 */
export { fromEnv as defaultProvider } from '@aws-sdk/credential-provider-env';
