import type { APIGatewayProxyResultV2, APIGatewayProxyWebsocketEventV2, Context } from 'aws-lambda';
import type { ErrorMessage, ServerMessage } from '../../client/wire';
import { logger } from '../clients/logger';
import { flushMetrics } from '../clients/metrics';
import { DomainError } from '../domain/errors';
import type { ConnectionPoster } from '../services/connection-poster';
import type { ConnectionStore } from '../store/connection-store';
import { throttlingAsRateLimited } from '../transport/error-mapping';

/** A viewer action: returns the reply to send back to the sender. */
export type WsRoute = (event: APIGatewayProxyWebsocketEventV2) => Promise<ServerMessage>;

/**
 * The one skeleton of every viewer action: run it, send its reply (or an error frame) back
 * to the sender through the @connections API, delete the sender's record if it turned out to
 * be gone, and always answer API Gateway with 200 so a bad frame never drops the connection.
 */
export function wsHandler(
  poster: ConnectionPoster,
  connections: ConnectionStore,
  route: WsRoute,
  /** Told of each reply (or error frame) and the route's time, for its metrics. @default none */
  observe?: (reply: ServerMessage, ms: number) => void,
) {
  return async (
    event: APIGatewayProxyWebsocketEventV2,
    context: Context,
  ): Promise<APIGatewayProxyResultV2> => {
    logger.addContext(context);
    const { connectionId, routeKey } = event.requestContext;
    const started = Date.now();
    let message: ServerMessage;
    try {
      message = await route(event);
    } catch (error) {
      message = errorFrame(throttlingAsRateLimited(error), context.awsRequestId);
    }
    const outcome = await poster.post(connectionId, message);
    observe?.(message, Date.now() - started);
    flushMetrics();
    if (outcome !== 'delivered') logger.info('reply not delivered', { connectionId, routeKey, outcome });
    // A post to a gone connection means its record is stale (docs/protocol.md §2): delete it now.
    if (outcome === 'gone')
      await connections
        .delete(connectionId)
        .catch((error: Error) => logger.warn('could not delete a gone connection', { connectionId, error }));
    return { statusCode: 200 };
  };
}

function errorFrame(error: unknown, requestId: string): ErrorMessage {
  if (error instanceof DomainError) {
    const quizId = (error as { quizId?: string }).quizId;
    return { type: 'error', code: error.code, message: error.message, ...(quizId ? { quizId } : {}) };
  }
  logger.error('unexpected failure', error as Error);
  return {
    type: 'error',
    code: 'INTERNAL_ERROR',
    message: `unexpected failure; quote request id ${requestId}`,
  };
}
