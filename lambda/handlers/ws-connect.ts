import type { APIGatewayProxyResultV2, APIGatewayProxyWebsocketEventV2, Context } from 'aws-lambda';
import { logger } from '../clients/logger';
import { loadConfig } from '../config';
import { connectionStoreFor } from '../services/wiring';
import { viewerIdOf } from '../ws/viewer-identity';

const connections = connectionStoreFor(loadConfig(['connectionsTable']));

/**
 * `$connect`: records the connection and who is behind it (idempotent). Nothing can be posted to a connection
 * during its own `$connect`, so this replies only through the status code.
 */
export const handler = async (
  event: APIGatewayProxyWebsocketEventV2,
  context: Context,
): Promise<APIGatewayProxyResultV2> => {
  logger.addContext(context);
  const { connectionId } = event.requestContext;
  const now = new Date(event.requestContext.requestTimeEpoch);
  await connections.put({ connectionId, viewerId: viewerIdOf(event), connectedAt: now.toISOString() }, now);
  return { statusCode: 200 };
};
