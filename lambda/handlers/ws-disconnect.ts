import type { APIGatewayProxyResultV2, APIGatewayProxyWebsocketEventV2, Context } from 'aws-lambda';
import { logger } from '../clients/logger';
import { loadConfig } from '../config';
import { connectionStoreFor } from '../services/wiring';

const connections = connectionStoreFor(loadConfig(['connectionsTable']));

/** `$disconnect`: deletes the connection record; a missing record is not an error. */
export const handler = async (
  event: APIGatewayProxyWebsocketEventV2,
  context: Context,
): Promise<APIGatewayProxyResultV2> => {
  logger.addContext(context);
  await connections.delete(event.requestContext.connectionId);
  return { statusCode: 200 };
};
