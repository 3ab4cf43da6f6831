import { LambdaClient } from '@aws-sdk/client-lambda';

/** One Lambda client per container, for handing fan-out work to other invocations. */
export const lambdaClient = new LambdaClient({});
