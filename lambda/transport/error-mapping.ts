import { RateLimitedError } from '../domain/errors';
import { isThrottling } from '../store/write-outcome';

/**
 * The transport's view of a failure, shared by both handler skeletons (HTTP and WebSocket): when
 * DynamoDB throttling outlasted the SDK's retries, the caller is told `RATE_LIMITED` with
 * `Retry-After: 1` (nothing was applied, so a retry is safe), so no route answers throttling
 * with a 500. Any other error passes through unchanged.
 */
export const throttlingAsRateLimited = (error: unknown): unknown =>
  isThrottling(error)
    ? new RateLimitedError(1, "the show's tables are throttling requests right now; retry in 1 s")
    : error;
