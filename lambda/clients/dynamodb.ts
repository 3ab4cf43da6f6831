import { DynamoDBClient, type DynamoDBClientConfig } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

/** One DynamoDB document client per container; the endpoint comes from the SDK's usual settings. */
export const dynamo = DynamoDBDocumentClient.from(new DynamoDBClient({}), {
  marshallOptions: { removeUndefinedValues: true },
});

type RetryStrategy = Extract<NonNullable<DynamoDBClientConfig['retryStrategy']>, { recordSuccess: unknown }>;

/**
 * The SDK's standard retries, but none after throttling: a connection reset or a 5xx is retried
 * as by `dynamo`, while a throttled request fails at once with its throttling error, for a
 * caller that retries it itself elsewhere (the SDK rethrows the request's own error).
 */
export function retriesButNotThrottling(): RetryStrategy {
  const standard = (dynamo.config as { retryStrategy: () => Promise<RetryStrategy> }).retryStrategy;
  return {
    acquireInitialRetryToken: async (scope) => (await standard()).acquireInitialRetryToken(scope),
    refreshRetryTokenForRetry: async (token, error) => {
      if (error.errorType === 'THROTTLING') throw new Error('throttled: the caller retries elsewhere');
      return (await standard()).refreshRetryTokenForRetry(token, error);
    },
    recordSuccess: async (token) => (await standard()).recordSuccess(token),
  };
}

/**
 * The same, with no retry after throttling: for a write whose caller retries it itself within its
 * own time budget (a tally count moves to another shard), where the SDK's throttling backoff (from
 * 500 ms, over 3 attempts) would spend that budget on one partition. Transient errors (a reset
 * keep-alive socket) are still retried by the SDK, as every other write's are.
 */
export const dynamoOnce = DynamoDBDocumentClient.from(
  new DynamoDBClient({ retryStrategy: retriesButNotThrottling() }),
  { marshallOptions: { removeUndefinedValues: true } },
);
