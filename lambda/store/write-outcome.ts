/** What became of a DynamoDB write, for every store: applied, refused, or worth retrying. */
import { setTimeout as sleep } from 'node:timers/promises';
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';

/**
 * DynamoDB's throttling errors. The SDK already retried them (3 attempts, backing off from 500 ms
 * on throttling) before one reaches our code, except from a one-attempt request (`dynamoOnce`),
 * whose caller retries it.
 */
const THROTTLING_ERRORS = new Set([
  'ProvisionedThroughputExceededException',
  'ThrottlingException',
  'RequestLimitExceeded',
]);

/** True when DynamoDB refused the request for throttling: it was not applied, so retrying is safe. */
export const isThrottling = (error: unknown): boolean =>
  THROTTLING_ERRORS.has((error as { name?: string } | null)?.name ?? '');

/**
 * True when DynamoDB answered with a 4xx (throttling, a failed condition, validation): the
 * request was refused, not applied. A 5xx or a network error leaves that unknown.
 */
export const wasNotApplied = (error: unknown): boolean => {
  const status = (error as { $metadata?: { httpStatusCode?: number } } | null)?.$metadata?.httpStatusCode;
  return isThrottling(error) || (status !== undefined && status >= 400 && status < 500);
};

/**
 * Runs a write that must not be lost because something irreversible already happened (a cue went
 * out): retries it after throttling, with backoff, a bounded number of times on top of the SDK's own.
 */
export async function retryThrottled<T>(write: () => Promise<T>, rounds = 3, baseMs = 100): Promise<T> {
  for (let round = 1; ; round++) {
    try {
      return await write();
    } catch (error) {
      if (round >= rounds || !isThrottling(error)) throw error;
      await sleep(baseMs * 2 ** round * (0.5 + Math.random() / 2));
    }
  }
}

/** A conditional write: true when applied, false when its condition failed. */
export async function conditional(write: Promise<unknown>): Promise<boolean> {
  try {
    await write;
    return true;
  } catch (error) {
    if (error instanceof ConditionalCheckFailedException) return false;
    throw error;
  }
}
