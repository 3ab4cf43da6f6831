import type { APIGatewayAuthorizerResult, APIGatewayRequestAuthorizerEvent, Context } from 'aws-lambda';
import { logger } from '../clients/logger';
import { count, flushMetrics } from '../clients/metrics';
import { loadConfig } from '../config';
import { UnauthorizedError } from '../domain/errors';
import { METRIC } from '../metric-names';
import { tokenServiceFor, VIEWER_AUTH_SETTINGS } from '../services/wiring';

const tokens = tokenServiceFor(loadConfig(VIEWER_AUTH_SETTINGS));

/**
 * The `$connect` Lambda REQUEST authorizer (viewer auth). A valid `?token=` is allowed, and its
 * viewer id travels to every route of the connection as `requestContext.authorizer.viewerId`.
 * Anything else throws `Unauthorized`, which API Gateway answers with 401 (docs/protocol.md §5),
 * and counts `ViewersRefused`: the throw is a Lambda error, but an expected one.
 */
export const handler = async (
  event: APIGatewayRequestAuthorizerEvent,
  context: Context,
): Promise<APIGatewayAuthorizerResult> => {
  logger.addContext(context);
  try {
    const claims = await tokens.verify(event.queryStringParameters?.token);
    return {
      principalId: claims.sub,
      policyDocument: {
        Version: '2012-10-17',
        Statement: [{ Action: 'execute-api:Invoke', Effect: 'Allow', Resource: event.methodArn }],
      },
      context: { viewerId: claims.sub, tokenExpiresAt: claims.exp },
    };
  } catch (error) {
    if (!(error instanceof UnauthorizedError)) throw error;
    logger.info('viewer refused at $connect', {
      reason: error.reason,
      sourceIp: event.requestContext.identity?.sourceIp,
    });
    // An expected refusal, counted so the authorizer's alarm leaves it out (docs/operations.md).
    count(METRIC.viewersRefused);
    flushMetrics();
    // The exact message API Gateway turns into a 401.
    throw new Error('Unauthorized');
  }
};
