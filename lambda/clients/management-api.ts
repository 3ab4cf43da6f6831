import { ApiGatewayManagementApiClient } from '@aws-sdk/client-apigatewaymanagementapi';

/**
 * The SDK's HTTP handler allows 50 sockets per client by default, which silently capped a
 * fan-out configured for more posts in flight (`npm run bench`, P2, showed the queue). Our
 * worker pool already bounds concurrency, so the agent must not add a second, hidden limit.
 */
const MAX_SOCKETS = 1000;

/**
 * The @connections API of our WebSocket stage. The endpoint is the stage's callback URL,
 * which the construct passes in; call this once per container, at module scope.
 */
export const createManagementApi = (callbackUrl: string): ApiGatewayManagementApiClient =>
  new ApiGatewayManagementApiClient({
    endpoint: callbackUrl,
    requestHandler: {
      httpAgent: { keepAlive: true, maxSockets: MAX_SOCKETS },
      httpsAgent: { keepAlive: true, maxSockets: MAX_SOCKETS },
    },
  });
