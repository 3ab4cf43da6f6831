import { LambdaClient } from '@aws-sdk/client-lambda';

/** One Lambda client per container, for handing fan-out work to other invocations. */
// PURE: a handler that never dispatches a fan-out drops this client from its bundle.
export const lambdaClient = /* @__PURE__ */ new LambdaClient({});
