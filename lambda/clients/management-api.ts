import { ApiGatewayManagementApiClient } from '@aws-sdk/client-apigatewaymanagementapi';

/**
 * The @connections API of our WebSocket stage. The endpoint is the stage's callback URL,
 * which the construct passes in; call this once per container, at module scope.
 */
export const createManagementApi = (callbackUrl: string): ApiGatewayManagementApiClient =>
  new ApiGatewayManagementApiClient({ endpoint: callbackUrl });
