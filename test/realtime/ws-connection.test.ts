import { PostToConnectionCommand } from '@aws-sdk/client-apigatewaymanagementapi';
import { DeleteCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { handler as connect } from '../../lambda/handlers/ws-connect';
import { handler as disconnect } from '../../lambda/handlers/ws-disconnect';
import { mockAws } from '../aws-mocks';
import { lambdaContext } from '../handlers/events';
import { CONNECTIONS_TABLE, dynamoCommandNames, wsEvent } from './ws-events';

const { ddb: ddbMock, mgmt: mgmtMock } = mockAws();

const CONNECTION_ID = 'L0SM9cOFvHcCIhw=';
/** A request time with a fractional second, so the TTL's rounding shows. */
const REQUEST_TIME = Date.UTC(2024, 4, 1, 18, 30, 15, 789);
/** 2 h 10 min after the request, in whole epoch seconds. */
const EXPECTED_EXPIRY = Math.floor(REQUEST_TIME / 1000) + 2 * 3600 + 10 * 60;

const connectEvent = (requestTimeEpoch = REQUEST_TIME) =>
  wsEvent('$connect', { connectionId: CONNECTION_ID, requestTimeEpoch });

beforeEach(() => {
  ddbMock.on(PutCommand).resolves({});
  ddbMock.on(DeleteCommand).resolves({});
  mgmtMock.on(PostToConnectionCommand).resolves({});
});

describe('when a viewer connects asking for a pushes version (?v=)', () => {
  const withQuery = (v: string) => ({ ...connectEvent(), queryStringParameters: { v } });

  it('records v2, so its reveal comes as one post', async () => {
    expect(await connect(withQuery('2'), lambdaContext())).toStrictEqual({ statusCode: 200 });

    expect(ddbMock.commandCalls(PutCommand)[0].args[0].input.Item).toMatchObject({ pushVersion: 2 });
  });

  it('records nothing extra for v1, the default', async () => {
    await connect(withQuery('1'), lambdaContext());

    expect(ddbMock.commandCalls(PutCommand)[0].args[0].input.Item).not.toHaveProperty('pushVersion');
  });

  it.each(['3', '0', 'two', '', '2.0'])('refuses v=%j with 400 and stores nothing', async (v) => {
    const result = await connect(withQuery(v), lambdaContext());

    expect(result).toMatchObject({ statusCode: 400 });
    expect(ddbMock.commandCalls(PutCommand)).toHaveLength(0);
  });
});

describe('when a viewer connects', () => {
  it('answers 200', async () => {
    const result = await connect(connectEvent(), lambdaContext());

    expect(result).toStrictEqual({ statusCode: 200 });
  });

  it('stores the connection as its own viewer, with a TTL 2 h 10 min after the request', async () => {
    await connect(connectEvent(), lambdaContext());

    const calls = ddbMock.commandCalls(PutCommand);
    expect(calls).toHaveLength(1);
    expect(calls[0].args[0].input).toStrictEqual({
      TableName: CONNECTIONS_TABLE,
      Item: {
        connectionId: CONNECTION_ID,
        viewerId: CONNECTION_ID,
        connectedAt: new Date(REQUEST_TIME).toISOString(),
        expiresAt: EXPECTED_EXPIRY,
      },
    });
  });

  it('writes the TTL in epoch seconds, not milliseconds', async () => {
    await connect(connectEvent(), lambdaContext());

    const { expiresAt } = ddbMock.commandCalls(PutCommand)[0].args[0].input.Item as { expiresAt: number };
    expect(Number.isInteger(expiresAt)).toBe(true);
    expect(expiresAt - REQUEST_TIME / 1000).toBeGreaterThan(7799);
    expect(expiresAt - REQUEST_TIME / 1000).toBeLessThanOrEqual(7800);
  });

  it('posts nothing, since the connection cannot take messages during its own $connect', async () => {
    await connect(connectEvent(), lambdaContext());

    expect(mgmtMock.commandCalls(PostToConnectionCommand)).toHaveLength(0);
  });

  it('only writes the connection record', async () => {
    await connect(connectEvent(), lambdaContext());

    expect(dynamoCommandNames(ddbMock)).toEqual(['PutCommand']);
  });
});

describe('when the same connection id connects twice', () => {
  it('answers 200 both times and overwrites the record with an unconditional put', async () => {
    const first = await connect(connectEvent(), lambdaContext());
    const second = await connect(connectEvent(REQUEST_TIME + 5_000), lambdaContext());

    expect(first).toStrictEqual({ statusCode: 200 });
    expect(second).toStrictEqual({ statusCode: 200 });
    const puts = ddbMock.commandCalls(PutCommand).map((call) => call.args[0].input);
    expect(puts).toHaveLength(2);
    for (const put of puts) {
      expect(put.ConditionExpression).toBeUndefined();
      expect(put.Item?.connectionId).toBe(CONNECTION_ID);
    }
    expect(puts[1].Item?.expiresAt).toBe(EXPECTED_EXPIRY + 5);
  });
});

describe('when a viewer disconnects', () => {
  const disconnectEvent = () => wsEvent('$disconnect', { connectionId: CONNECTION_ID });

  it('deletes the record by its key and answers 200', async () => {
    const result = await disconnect(disconnectEvent(), lambdaContext());

    expect(result).toStrictEqual({ statusCode: 200 });
    const calls = ddbMock.commandCalls(DeleteCommand);
    expect(calls).toHaveLength(1);
    expect(calls[0].args[0].input).toStrictEqual({
      TableName: CONNECTIONS_TABLE,
      Key: { connectionId: CONNECTION_ID },
    });
  });

  it('answers 200 when there was no record, because the delete carries no condition', async () => {
    // DynamoDB's DeleteItem on a missing key succeeds with no attributes; only a condition could fail it.
    ddbMock.on(DeleteCommand).resolves({ Attributes: undefined });

    const result = await disconnect(disconnectEvent(), lambdaContext());

    expect(result).toStrictEqual({ statusCode: 200 });
    expect(ddbMock.commandCalls(DeleteCommand)[0].args[0].input.ConditionExpression).toBeUndefined();
  });

  it('posts nothing', async () => {
    await disconnect(disconnectEvent(), lambdaContext());

    expect(mgmtMock.commandCalls(PostToConnectionCommand)).toHaveLength(0);
  });
});
