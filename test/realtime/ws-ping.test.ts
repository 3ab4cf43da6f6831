import { PostToConnectionCommand } from '@aws-sdk/client-apigatewaymanagementapi';
import { DeleteCommand } from '@aws-sdk/lib-dynamodb';
import { handler } from '../../lambda/handlers/ws-ping';
import { mockAws } from '../aws-mocks';
import { lambdaContext } from '../handlers/events';
import { goneException, onlyFrameTo, wsEvent } from './ws-events';

const { ddb: ddbMock, mgmt: mgmtMock } = mockAws();

const SENDER = 'cGluZy1zZW5kZXI=';

const ping = (requestTimeEpoch?: number) =>
  handler(
    wsEvent('ping', { connectionId: SENDER, body: { action: 'ping' }, requestTimeEpoch }),
    lambdaContext(),
  );

beforeEach(() => {
  mgmtMock.on(PostToConnectionCommand).resolves({});
});

describe('when a viewer pings', () => {
  it('replies pong with the server clock in epoch ms, and answers 200', async () => {
    const before = Date.now();
    const result = await ping();
    const after = Date.now();

    expect(result).toStrictEqual({ statusCode: 200 });
    const frame = onlyFrameTo(mgmtMock, SENDER);
    expect(Object.keys(frame).sort()).toEqual(['t', 'type']);
    expect(frame.type).toBe('pong');
    expect(typeof frame.t).toBe('number');
    expect(Number.isInteger(frame.t)).toBe(true);
    expect(frame.t).toBeGreaterThanOrEqual(before);
    expect(frame.t).toBeLessThanOrEqual(after);
  });

  it("uses the server's clock, not the gateway's request time", async () => {
    const before = Date.now();
    await ping(Date.UTC(2001, 0, 1));

    expect(onlyFrameTo(mgmtMock, SENDER).t).toBeGreaterThanOrEqual(before);
  });

  it('touches no table', async () => {
    await ping();

    expect(ddbMock.calls()).toHaveLength(0);
  });
});

describe('when the viewer is gone before the pong', () => {
  it('still answers 200 and deletes the stale connection record', async () => {
    mgmtMock.on(PostToConnectionCommand).rejects(goneException());

    expect(await ping()).toStrictEqual({ statusCode: 200 });
    expect(mgmtMock.commandCalls(PostToConnectionCommand)).toHaveLength(1);
    expect(ddbMock.commandCalls(DeleteCommand).map((c) => c.args[0].input.Key)).toEqual([
      { connectionId: expect.any(String) },
    ]);
  });
});
