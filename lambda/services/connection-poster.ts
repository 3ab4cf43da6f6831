import {
  type ApiGatewayManagementApiClient,
  PostToConnectionCommand,
} from '@aws-sdk/client-apigatewaymanagementapi';
import { logger } from '../clients/logger';

export type PostOutcome = 'delivered' | 'gone' | 'failed';

/** Sends one JSON message to one connection and says what happened; never throws. */
export class ConnectionPoster {
  constructor(private readonly api: ApiGatewayManagementApiClient) {}

  async post(connectionId: string, message: object): Promise<PostOutcome> {
    try {
      await this.api.send(
        new PostToConnectionCommand({ ConnectionId: connectionId, Data: JSON.stringify(message) }),
      );
      return 'delivered';
    } catch (error) {
      // SDK v3 errors carry `name`, not v2's `statusCode`.
      if ((error as { name?: string }).name === 'GoneException') return 'gone';
      logger.warn('post to connection failed', { connectionId, error: error as Error });
      return 'failed';
    }
  }
}
