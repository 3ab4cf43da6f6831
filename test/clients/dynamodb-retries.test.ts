import { retriesButNotThrottling } from '../../lambda/clients/dynamodb';

/**
 * The tally count's client (`dynamoOnce`): the SDK's standard retries for a transient error (a
 * reset keep-alive socket, a 5xx), none for throttling, which the count retries on another shard.
 */
describe('retries but not after throttling', () => {
  it('gives up at once on a throttled request', async () => {
    const strategy = retriesButNotThrottling();
    const token = await strategy.acquireInitialRetryToken('dynamodb');
    await expect(strategy.refreshRetryTokenForRetry(token, { errorType: 'THROTTLING' })).rejects.toThrow(
      /throttled: the caller retries elsewhere/,
    );
  });

  it('retries a transient error (a reset socket, a timeout), up to the standard strategy’s attempts', async () => {
    const strategy = retriesButNotThrottling();
    let token = await strategy.acquireInitialRetryToken('dynamodb');
    const retries: number[] = [];
    for (;;) {
      const next = await strategy
        .refreshRetryTokenForRetry(token, { errorType: 'TRANSIENT' })
        .catch(() => undefined);
      if (!next) break;
      retries.push(next.getRetryCount());
      token = next;
    }
    // DynamoDB's standard mode: 4 attempts, so 3 retries.
    expect(retries).toEqual([1, 2, 3]);
  });
});
