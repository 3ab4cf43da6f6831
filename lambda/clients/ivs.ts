import { IvsClient } from '@aws-sdk/client-ivs';

/**
 * One IVS client per container. `maxAttempts: 1` because the SDK's own retries would be
 * PutMetadata calls our 5-per-second guard never admitted; a throttled call becomes a 429 instead.
 */
// PURE: a handler that never sends a cue drops this client from its bundle (and its cold start).
export const ivs = /* @__PURE__ */ new IvsClient({ maxAttempts: 1 });
