/**
 * `ConnectionStore` (`lambda/store/connection-store.ts`) as a broadcast uses it, driven through
 * the fan-out handler: `scan` (small pages, the next one read ahead, one segment of several)
 * and `deleteBatch` (25 to a write, unprocessed items retried a bounded number of times).
 */
import { PostToConnectionCommand } from '@aws-sdk/client-apigatewaymanagementapi';
import {
  BatchWriteCommand,
  type BatchWriteCommandInput,
  ScanCommand,
  type ScanCommandInput,
} from '@aws-sdk/lib-dynamodb';
import {
  connection,
  deletedIds,
  mockFanOut,
  PAGE_1,
  PAGE_2,
  RESULT_FRAME,
  resultJob,
  run,
} from './fan-out-fixtures';
import { CONNECTIONS_TABLE, framesTo, goneException, sentFrames } from './ws-events';

const { ddbMock, mgmtMock, givenConnections } = mockFanOut();

describe('when the connections scan spans several pages', () => {
  it('asks for small pages, so posting starts before the whole segment is read', async () => {
    await run(resultJob());

    for (const call of ddbMock.commandCalls(ScanCommand)) expect(call.args[0].input.Limit).toBe(500);
  });

  it('reaches the connections on every page, passing ExclusiveStartKey on', async () => {
    await run(resultJob());

    const scans = ddbMock.commandCalls(ScanCommand).map((call) => call.args[0].input);
    expect(scans).toHaveLength(2);
    expect(scans[0].TableName).toBe(CONNECTIONS_TABLE);
    expect(scans[0].ExclusiveStartKey).toBeUndefined();
    expect(scans[1].TableName).toBe(CONNECTIONS_TABLE);
    expect(scans[1].ExclusiveStartKey).toStrictEqual({ page: 1 });
    const reached = new Set(sentFrames(mgmtMock).map((sent) => sent.connectionId));
    expect([...reached].sort()).toEqual(
      [...PAGE_1, ...PAGE_2].map((item) => String(item.connectionId)).sort(),
    );
  });

  it('asks for the next page as soon as a page arrives, before posting to it', async () => {
    const scansAtPost: number[] = [];
    mgmtMock.on(PostToConnectionCommand).callsFake(() => {
      scansAtPost.push(ddbMock.commandCalls(ScanCommand).length);
      return {};
    });

    await run(resultJob());

    // Page 2 was already on its way when alice, the first connection of page 1, was posted to.
    expect(scansAtPost[0]).toBe(2);
    expect(ddbMock.commandCalls(ScanCommand)).toHaveLength(2);
  });

  it('fails the broadcast when a page read ahead fails, after posting to the pages before it', async () => {
    ddbMock
      .on(ScanCommand)
      .callsFake((input: ScanCommandInput) =>
        input.ExclusiveStartKey
          ? Promise.reject(new Error('scan page 2 failed'))
          : { Items: PAGE_1, LastEvaluatedKey: { page: 1 } },
      );

    await expect(run(resultJob())).rejects.toThrow('scan page 2 failed');
    expect(framesTo(mgmtMock, 'alice')[0]).toStrictEqual(RESULT_FRAME);
    expect(framesTo(mgmtMock, 'bob')[0]).toStrictEqual(RESULT_FRAME);
  });

  it('handles an empty page followed by a full one', async () => {
    givenConnections([[], [connection('alice')], [connection('carol')]]);

    const report = await run(resultJob());

    expect(ddbMock.commandCalls(ScanCommand)).toHaveLength(3);
    expect(report.connections).toBe(2);
    expect(framesTo(mgmtMock, 'carol')).toStrictEqual([RESULT_FRAME]);
  });
});

describe('when the job covers one of several scan segments', () => {
  it('scans only that segment', async () => {
    await run(resultJob(2, 4));

    const scans = ddbMock.commandCalls(ScanCommand).map((call) => call.args[0].input);
    expect(scans.length).toBeGreaterThan(0);
    for (const scan of scans) {
      expect(scan.Segment).toBe(2);
      expect(scan.TotalSegments).toBe(4);
    }
  });

  it('scans the whole table without segment parameters when there is one segment', async () => {
    await run(resultJob(0, 1));

    for (const call of ddbMock.commandCalls(ScanCommand)) {
      expect(call.args[0].input.Segment).toBeUndefined();
      expect(call.args[0].input.TotalSegments).toBeUndefined();
    }
  });
});

describe('when many connections are gone', () => {
  const goneIds = Array.from({ length: 60 }, (_, i) => `gone-many-${i}`);

  beforeEach(() => {
    givenConnections([
      goneIds.slice(0, 30).map((id) => connection(id)),
      goneIds.slice(30).map((id) => connection(id)),
    ]);
    for (const id of goneIds)
      mgmtMock.on(PostToConnectionCommand, { ConnectionId: id }).rejects(goneException());
  });

  it('deletes every one of them, at most 25 to a batch write', async () => {
    const report = await run(resultJob());

    const batches = ddbMock.commandCalls(BatchWriteCommand).map((call) => call.args[0].input);
    expect(batches.map((batch) => batch.RequestItems?.[CONNECTIONS_TABLE]?.length)).toEqual([25, 25, 10]);
    expect(deletedIds(batches).sort()).toEqual([...goneIds].sort());
    expect(report).toStrictEqual({ connections: 60, delivered: 0, gone: 60, failed: 0 });
  });

  it('retries the items DynamoDB leaves unprocessed until every one is deleted', async () => {
    let first = true;
    ddbMock.on(BatchWriteCommand).callsFake((input: BatchWriteCommandInput) => {
      const requests = input.RequestItems?.[CONNECTIONS_TABLE] ?? [];
      // The first call has only its first 5 requests processed, as under throttling.
      if (!first || requests.length <= 5) return {};
      first = false;
      return { UnprocessedItems: { [CONNECTIONS_TABLE]: requests.slice(5) } };
    });

    await run(resultJob());

    const batches = ddbMock.commandCalls(BatchWriteCommand).map((call) => call.args[0].input);
    // The retry of the 20 left waits a moment, so the other batches may go first.
    const sizes = batches.map((batch) => batch.RequestItems?.[CONNECTIONS_TABLE]?.length ?? 0);
    expect(sizes.sort((a, b) => a - b)).toEqual([10, 20, 25, 25]);
    expect(new Set(deletedIds(batches))).toEqual(new Set(goneIds));
  });

  it('gives up on items still unprocessed after 3 retries, and still completes', async () => {
    ddbMock
      .on(BatchWriteCommand)
      .callsFake((input: BatchWriteCommandInput) => ({ UnprocessedItems: input.RequestItems }));

    const report = await run(resultJob());

    // 3 batches, each tried once and retried 3 times.
    expect(ddbMock.commandCalls(BatchWriteCommand)).toHaveLength(12);
    expect(report).toStrictEqual({ connections: 60, delivered: 0, gone: 60, failed: 0 });
  });
});
