import type { APIGatewayProxyWebsocketEventV2 } from 'aws-lambda';

/**
 * Who is behind a WebSocket event (docs/protocol.md §5): the viewer id the `$connect` authorizer
 * verified when viewer auth is on, otherwise the connection itself. Only API Gateway sets
 * `requestContext.authorizer`; a client cannot.
 */
export function viewerIdOf(event: APIGatewayProxyWebsocketEventV2): string {
  const { connectionId } = event.requestContext;
  const authorizer = (event.requestContext as { authorizer?: { viewerId?: unknown } }).authorizer;
  return typeof authorizer?.viewerId === 'string' && authorizer.viewerId !== ''
    ? authorizer.viewerId
    : connectionId;
}
