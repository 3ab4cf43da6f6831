import type { APIGatewayProxyResultV2, APIGatewayProxyWebsocketEventV2, Context } from 'aws-lambda';
import { parsePushVersion } from '../../client/wire';
import { logger } from '../clients/logger';
import { count, flushMetrics } from '../clients/metrics';
import { loadConfig } from '../config';
import { METRIC } from '../metric-names';
import { connectionStoreFor } from '../services/wiring';
import { viewerIdOf } from '../ws/viewer-identity';

const connections = connectionStoreFor(loadConfig(['connectionsTable']));

/**
 * `$connect`: records the connection, who is behind it and the pushes' version it asked for with
 * `?v=` (idempotent). Nothing can be posted to a connection during its own `$connect`, so this
 * replies only through the status code: an unknown version is refused with 400.
 */
export const handler = async (
  event: APIGatewayProxyWebsocketEventV2,
  context: Context,
): Promise<APIGatewayProxyResultV2> => {
  logger.addContext(context);
  const { connectionId } = event.requestContext;
  const now = new Date(event.requestContext.requestTimeEpoch);
  const query = (event as { queryStringParameters?: Record<string, string | undefined> })
    .queryStringParameters;
  const pushVersion = parsePushVersion(query?.v);
  if (pushVersion === undefined) {
    logger.info('connection refused: unknown pushes version', { v: query?.v });
    return { statusCode: 400, body: 'v: must be 1 or 2' };
  }
  await connections.put(
    {
      connectionId,
      viewerId: viewerIdOf(event),
      connectedAt: now.toISOString(),
      ...(pushVersion === 2 ? { pushVersion } : {}),
    },
    now,
  );
  count(METRIC.connectionsOpened);
  flushMetrics();
  return { statusCode: 200 };
};
