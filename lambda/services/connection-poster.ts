import {
  type ApiGatewayManagementApiClient,
  PostToConnectionCommand,
} from '@aws-sdk/client-apigatewaymanagementapi';
import { logger } from '../clients/logger';

export type PostOutcome = 'delivered' | 'gone' | 'failed';

/**
 * Rounds of posting one message. Each round is the SDK's own attempts (3 by default, retrying
 * 5xx and throttling after a few tens of ms); one more round after a pause rides out a burst of
 * 500s longer than that, or an SDK whose retry quota a wide outage has drained. Bounded, so a
 * dead API costs a broadcast at most twice the calls, never a hang.
 */
export const POST_ROUNDS = 2;
const PAUSE_MS = 100;

const RETRYABLE_NAMES = new Set(['LimitExceededException', 'InternalServerErrorException', 'TimeoutError']);
const NETWORK_CODES = new Set(['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT']);

/** 5xx, throttling (429, LimitExceededException) and network errors may pass; any other 4xx will not. */
function isRetryable(error: unknown): boolean {
  const { name, code, $metadata } = (error ?? {}) as {
    name?: string;
    code?: string;
    $metadata?: { httpStatusCode?: number };
  };
  const status = $metadata?.httpStatusCode ?? 0;
  return RETRYABLE_NAMES.has(name ?? '') || NETWORK_CODES.has(code ?? '') || status === 429 || status >= 500;
}

/** Sends one JSON message to one connection and says what happened; never throws. */
export class ConnectionPoster {
  constructor(private readonly api: ApiGatewayManagementApiClient) {}

  async post(connectionId: string, message: object): Promise<PostOutcome> {
    const data = JSON.stringify(message);
    for (let round = 1; ; round++) {
      try {
        await this.api.send(new PostToConnectionCommand({ ConnectionId: connectionId, Data: data }));
        return 'delivered';
      } catch (error) {
        // SDK v3 errors carry `name`, not v2's `statusCode`.
        if ((error as { name?: string }).name === 'GoneException') return 'gone';
        if (round < POST_ROUNDS && isRetryable(error)) {
          await new Promise((resolve) => setTimeout(resolve, PAUSE_MS * round * (0.5 + Math.random())));
          continue;
        }
        logger.warn('post to connection failed', { connectionId, rounds: round, error: error as Error });
        return 'failed';
      }
    }
  }
}
