/**
 * `fanOut` (`lambda/services/fan-out.ts`): how many posts are in flight and how the room is
 * refilled, each message posted once per connection, a message source failing mid-broadcast,
 * and a failed delete of the gone connections. Driven through the fan-out handler, or called
 * directly with a real ConnectionStore and ConnectionPoster over the stubbed clients.
 */
import {
  ApiGatewayManagementApiClient,
  PostToConnectionCommand,
  type PostToConnectionCommandInput,
} from '@aws-sdk/client-apigatewaymanagementapi';
import { BatchWriteCommand } from '@aws-sdk/lib-dynamodb';
import { ConnectionPoster } from '../../lambda/services/connection-poster';
import { fanOut } from '../../lambda/services/fan-out';
import { ConnectionStore } from '../../lambda/store/connection-store';
import { CONCURRENCY, connection, mockFanOut, RESULT_FRAME, resultJob, run } from './fan-out-fixtures';
import { CONNECTIONS_TABLE, decodeData, framesTo, goneException, sentFrames } from './ws-events';

const { ddbMock, mgmtMock, givenConnections } = mockFanOut();
/** A mocked post's own duration, so posts overlap as real ones do: simulated latency, not a wait. */
const postLatency = () => new Promise((resolve) => setTimeout(resolve, 5));

describe('when deleting a gone connection fails', () => {
  it('still finishes the broadcast and reports it as gone', async () => {
    ddbMock.on(BatchWriteCommand).rejects(new Error('simulated DynamoDB outage'));

    const report = await run(resultJob());

    expect(report).toStrictEqual({ connections: 7, delivered: 7, gone: 2, failed: 1 });
    expect(framesTo(mgmtMock, 'legacy')).toHaveLength(2);
  });
});

describe('when a message source fails mid-broadcast', () => {
  it('starts no more posts, and fails only once the posts in flight have finished and the gone are deleted', async () => {
    const grades = new Error('grades failed');
    let answered = 0;
    mgmtMock.on(PostToConnectionCommand).callsFake(async () => {
      await postLatency(); // a post takes a moment, as @connections calls do
      answered++;
      return {};
    });
    mgmtMock.on(PostToConnectionCommand, { ConnectionId: 'gone-1' }).callsFake(async () => {
      await postLatency(); // a post takes a moment, as @connections calls do
      answered++;
      throw goneException();
    });
    const others = Array.from({ length: 40 }, (_, i) => connection(`conn-${i}`));
    givenConnections([[connection('bob'), connection('gone-1'), ...others.slice(0, 10)], others.slice(10)]);
    const broadcast = fanOut(
      new ConnectionStore(CONNECTIONS_TABLE),
      new ConnectionPoster(new ApiGatewayManagementApiClient({ region: 'us-east-1' })),
      ({ connectionId }) =>
        connectionId === 'bob' ? [{ type: 'x' }, Promise.reject(grades)] : [{ type: 'x' }],
      { concurrency: CONCURRENCY },
    );

    await expect(broadcast).rejects.toBe(grades);
    const posted = sentFrames(mgmtMock).map((sent) => sent.connectionId);
    // The first burst was in flight when bob's second message failed: it finished, and little
    // or nothing was started after it.
    expect(posted).toEqual(expect.arrayContaining(['bob', 'gone-1']));
    expect(posted.length).toBeGreaterThanOrEqual(CONCURRENCY);
    expect(posted.length).toBeLessThan(2 * CONCURRENCY);
    expect(answered).toBe(posted.length);
    const deleted = ddbMock
      .commandCalls(BatchWriteCommand)
      .flatMap((call) => call.args[0].input.RequestItems?.[CONNECTIONS_TABLE] ?? [])
      .map((request) => request.DeleteRequest?.Key?.connectionId);
    expect(deleted).toEqual(['gone-1']);
  });
});

describe('when there are many connections', () => {
  const many = Array.from({ length: 50 }, (_, i) => connection(`conn-${String(i).padStart(2, '0')}`));

  it(`keeps at most ${CONCURRENCY} posts in flight, and more than one`, async () => {
    givenConnections([many.slice(0, 20), many.slice(20)]);
    let inFlight = 0;
    let maxInFlight = 0;
    mgmtMock.reset();
    mgmtMock.on(PostToConnectionCommand).callsFake(async (_input: PostToConnectionCommandInput) => {
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      await postLatency(); // a post takes a moment, as @connections calls do
      inFlight--;
      return {};
    });

    const report = await run({ kind: 'stream', state: 'live', segment: 0, totalSegments: 1 });

    expect(maxInFlight).toBeLessThanOrEqual(CONCURRENCY);
    expect(maxInFlight).toBeGreaterThan(1);
    expect(report).toStrictEqual({ connections: 50, delivered: 50, gone: 0, failed: 0 });
    const reached = sentFrames(mgmtMock).map((sent) => sent.connectionId);
    expect(reached.sort()).toEqual(many.map((item) => item.connectionId));
  });

  it(`refills in bursts: no new post until half of the ${CONCURRENCY} in flight are answered, then ${CONCURRENCY / 2} at once`, async () => {
    givenConnections([many]);
    const pending: Array<() => void> = [];
    mgmtMock.reset();
    mgmtMock
      .on(PostToConnectionCommand)
      .callsFake(() => new Promise((resolve) => pending.push(() => resolve({}))));
    const started = () => mgmtMock.commandCalls(PostToConnectionCommand).length;
    const settle = async () => {
      for (let i = 0; i < 20; i++) await new Promise((resolve) => setImmediate(resolve));
    };
    const answer = async (count: number) => {
      for (const reply of pending.splice(0, count)) reply();
      await settle();
    };

    const broadcast = run({ kind: 'stream', state: 'live', segment: 0, totalSegments: 1 });
    await settle();
    expect(started()).toBe(CONCURRENCY);

    // One short of half answered: the room is not refilled yet.
    await answer(CONCURRENCY / 2 - 1);
    expect(started()).toBe(CONCURRENCY);

    // Half answered: the room is filled back up to the full count in one go.
    await answer(1);
    expect(started()).toBe(CONCURRENCY + CONCURRENCY / 2);
    expect(pending).toHaveLength(CONCURRENCY);

    while (pending.length > 0) await answer(pending.length);
    await expect(broadcast).resolves.toStrictEqual({ connections: 50, delivered: 50, gone: 0, failed: 0 });
  });

  it('posts each message exactly once per connection', async () => {
    givenConnections([many]);

    await run(resultJob());

    const perConnection = new Map<string, number>();
    for (const call of mgmtMock.commandCalls(PostToConnectionCommand)) {
      const id = String(call.args[0].input.ConnectionId);
      perConnection.set(id, (perConnection.get(id) ?? 0) + 1);
      expect(decodeData(call.args[0].input.Data)).toStrictEqual(RESULT_FRAME);
    }
    expect(perConnection.size).toBe(50);
    expect([...perConnection.values()].every((count) => count === 1)).toBe(true);
  });
});
