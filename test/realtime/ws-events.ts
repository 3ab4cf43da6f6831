import {
  type ApiGatewayManagementApiClient,
  GoneException,
  PostToConnectionCommand,
} from '@aws-sdk/client-apigatewaymanagementapi';
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { APIGatewayProxyResultV2, APIGatewayProxyWebsocketEventV2, Context } from 'aws-lambda';
import type { AwsClientStub } from 'aws-sdk-client-mock';
import { TEST_ENV } from '../setup-env';

export type ManagementMock = AwsClientStub<ApiGatewayManagementApiClient>;
export type DynamoMock = AwsClientStub<DynamoDBDocumentClient>;

export const CONNECTIONS_TABLE = TEST_ENV.CUECAST_CONNECTIONS_TABLE;
export const ANSWERS_TABLE = TEST_ENV.CUECAST_ANSWERS_TABLE;
export const TALLY_TABLE = TEST_ENV.CUECAST_TALLY_TABLE;
export const QUIZZES_TABLE = TEST_ENV.CUECAST_QUIZZES_TABLE;
export const CONTROL_TABLE = TEST_ENV.CUECAST_CONTROL_TABLE;

export type WsEventType = APIGatewayProxyWebsocketEventV2['requestContext']['eventType'];

export interface WsEventOptions {
  readonly connectionId?: string;
  /** Sent as is; an object is serialized to JSON first. */
  readonly body?: string | object;
  /** When API Gateway received the frame, in epoch ms; defaults to now. */
  readonly requestTimeEpoch?: number;
  readonly eventType?: WsEventType;
}

const EVENT_TYPE_BY_ROUTE: Record<string, WsEventType> = { $connect: 'CONNECT', $disconnect: 'DISCONNECT' };

/** An API Gateway WebSocket event for `routeKey`, as the gateway would send it. */
export function wsEvent(routeKey: string, options: WsEventOptions = {}): APIGatewayProxyWebsocketEventV2 {
  const requestTimeEpoch = options.requestTimeEpoch ?? Date.now();
  const body = typeof options.body === 'object' ? JSON.stringify(options.body) : options.body;
  return {
    requestContext: {
      routeKey,
      messageId: 'message-id',
      eventType: options.eventType ?? EVENT_TYPE_BY_ROUTE[routeKey] ?? 'MESSAGE',
      extendedRequestId: 'extended-request-id',
      requestTime: new Date(requestTimeEpoch).toUTCString(),
      messageDirection: 'IN',
      stage: 'live',
      connectedAt: requestTimeEpoch - 60_000,
      requestTimeEpoch,
      requestId: 'gateway-request-id',
      domainName: 'abc123.execute-api.eu-west-1.amazonaws.com',
      connectionId: options.connectionId ?? 'conn-sender=',
      apiId: 'abc123',
    },
    body,
    isBase64Encoded: false,
  };
}

export type WsLambda = (
  event: APIGatewayProxyWebsocketEventV2,
  context: Context,
) => Promise<APIGatewayProxyResultV2>;

/** A frame the server posted through the @connections API, decoded. */
export interface SentFrame {
  readonly connectionId: string;
  readonly frame: Record<string, unknown>;
}

/** `Data` may be a string or bytes depending on the caller; both are UTF-8 JSON. */
export function decodeData(data: unknown): Record<string, unknown> {
  if (typeof data === 'string') return JSON.parse(data);
  if (data instanceof Uint8Array) return JSON.parse(Buffer.from(data).toString('utf8'));
  throw new Error(`PostToConnection Data is neither a string nor bytes: ${String(data)}`);
}

/** Every PostToConnection call, in order, decoded. */
export function sentFrames(mgmtMock: ManagementMock): SentFrame[] {
  return mgmtMock.commandCalls(PostToConnectionCommand).map((call) => {
    const { ConnectionId, Data } = call.args[0].input;
    return { connectionId: String(ConnectionId), frame: decodeData(Data) };
  });
}

/** The frames posted to one connection, in order. */
export const framesTo = (mgmtMock: ManagementMock, connectionId: string): Record<string, unknown>[] =>
  sentFrames(mgmtMock)
    .filter((sent) => sent.connectionId === connectionId)
    .map((sent) => sent.frame);

/** Asserts exactly one frame went out, to `connectionId`, and returns it. */
export function onlyFrameTo(mgmtMock: ManagementMock, connectionId: string): Record<string, unknown> {
  const sent = sentFrames(mgmtMock);
  expect(sent.map((s) => s.connectionId)).toEqual([connectionId]);
  return sent[0].frame;
}

/** The contract's error frame: `{"type":"error","code","message"}` plus `quizId` when given. */
export function errorFrame(code: string, quizId?: string): Record<string, unknown> {
  return {
    type: 'error',
    code,
    message: expect.stringMatching(/\S/),
    ...(quizId === undefined ? {} : { quizId }),
  };
}

export const goneException = () => new GoneException({ message: 'gone', $metadata: {} });

export const conditionFailed = () =>
  new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: {} });

/** Names of the DynamoDB commands sent, in order, e.g. `['GetCommand', 'PutCommand']`. */
export const dynamoCommandNames = (ddbMock: DynamoMock): string[] =>
  ddbMock.calls().map((call) => (call.args[0] as object).constructor.name);

/** Every DynamoDB command input, for checks that must hold across all of them. */
export const dynamoInputs = (ddbMock: DynamoMock): Record<string, unknown>[] =>
  ddbMock.calls().map((call) => (call.args[0] as { input: Record<string, unknown> }).input);

export const WRITE_COMMANDS = [
  'PutCommand',
  'UpdateCommand',
  'DeleteCommand',
  'BatchWriteCommand',
  'TransactWriteCommand',
] as const;

/** How many DynamoDB write requests were sent. */
export const dynamoWrites = (ddbMock: DynamoMock): string[] =>
  dynamoCommandNames(ddbMock).filter((name) => (WRITE_COMMANDS as readonly string[]).includes(name));
