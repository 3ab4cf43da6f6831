import {
  BatchWriteCommand,
  DeleteCommand,
  PutCommand,
  ScanCommand,
  type ScanCommandOutput,
} from '@aws-sdk/lib-dynamodb';
import { dynamo } from '../clients/dynamodb';

/** API Gateway closes a WebSocket after 2 h; records that missed `$disconnect` expire a little later. */
export const CONNECTION_TTL_SECONDS = 2 * 60 * 60 + 10 * 60;

/** DynamoDB's BatchWriteItem takes at most 25 requests. */
export const DELETE_BATCH_SIZE = 25;
/** Further attempts at the items a batch write left unprocessed, with a doubling pause from 50 ms. */
const UNPROCESSED_RETRIES = 3;

/** Records per scan page of a broadcast. */
export const SCAN_PAGE_SIZE = 500;

export interface ConnectionRecord {
  readonly connectionId: string;
  /** Who is behind the connection: the connection itself, or a verified viewer id. */
  readonly viewerId: string;
  readonly connectedAt: string;
  /** Pushes v2 (one post per viewer per reveal), when the connection asked for it; v1 otherwise. */
  readonly pushVersion?: 2;
}

/** The connections table: one item per open WebSocket. */
export class ConnectionStore {
  constructor(private readonly tableName: string) {}

  /** Idempotent: a repeated `$connect` overwrites the same record. */
  async put(connection: ConnectionRecord, now: Date): Promise<void> {
    await dynamo.send(
      new PutCommand({
        TableName: this.tableName,
        Item: { ...connection, expiresAt: Math.floor(now.getTime() / 1000) + CONNECTION_TTL_SECONDS },
      }),
    );
  }

  /** Idempotent: deleting a missing record is not an error in DynamoDB. */
  async delete(connectionId: string): Promise<void> {
    await dynamo.send(new DeleteCommand({ TableName: this.tableName, Key: { connectionId } }));
  }

  /**
   * Deletes up to 25 records in one BatchWriteItem (a broadcast finds its gone connections by
   * the hundred, and one signed request per record cost the fan-out more CPU than its stale
   * cleanup is worth). Items DynamoDB leaves unprocessed are retried; the ids still left after
   * that are returned. They expire with their TTL, and the next broadcast tries them again.
   */
  async deleteBatch(connectionIds: readonly string[]): Promise<string[]> {
    if (connectionIds.length > DELETE_BATCH_SIZE)
      throw new RangeError(`deleteBatch takes at most ${DELETE_BATCH_SIZE} ids, got ${connectionIds.length}`);
    let requests = connectionIds.map((connectionId) => ({ DeleteRequest: { Key: { connectionId } } }));
    for (let attempt = 0; requests.length > 0; attempt++) {
      if (attempt > 0) {
        if (attempt > UNPROCESSED_RETRIES) break;
        await new Promise((resolve) => setTimeout(resolve, 50 * 2 ** (attempt - 1)));
      }
      const { UnprocessedItems } = await dynamo.send(
        new BatchWriteCommand({ RequestItems: { [this.tableName]: requests } }),
      );
      requests = (UnprocessedItems?.[this.tableName] ?? []) as typeof requests;
    }
    return requests.map((request) => String(request.DeleteRequest.Key.connectionId));
  }

  /**
   * Every connection of one scan segment, page by page. Segments let several invocations
   * share a large audience; eventually consistent reads are enough for a broadcast. The next
   * page is requested as soon as a page arrives, so posting never waits on a scan round trip
   * at a page boundary; at most one page is held ahead. A failed page read is thrown when the
   * consumer reaches it.
   */
  async *scan(segment = 0, totalSegments = 1): AsyncGenerator<ConnectionRecord> {
    const request = async (startKey: Record<string, unknown> | undefined) =>
      dynamo.send(
        new ScanCommand({
          TableName: this.tableName,
          ExclusiveStartKey: startKey,
          Segment: totalSegments > 1 ? segment : undefined,
          TotalSegments: totalSegments > 1 ? totalSegments : undefined,
          ProjectionExpression: 'connectionId, viewerId, pushVersion',
          // Small pages: posting starts after the first 500 records instead of a whole 1 MB page.
          Limit: SCAN_PAGE_SIZE,
        }),
      );
    const read = (startKey: Record<string, unknown> | undefined): Promise<ScanCommandOutput> => {
      const page = request(startKey);
      // A consumer that stops early never awaits the page read ahead: its failure is not unhandled.
      page.catch(() => undefined);
      return page;
    };
    for (let next: Promise<ScanCommandOutput> | undefined = read(undefined); next; ) {
      const page: ScanCommandOutput = await next;
      next = page.LastEvaluatedKey ? read(page.LastEvaluatedKey) : undefined;
      for (const item of page.Items ?? []) {
        const connectionId = String(item.connectionId);
        yield {
          connectionId,
          viewerId: String(item.viewerId ?? connectionId),
          connectedAt: '',
          ...(item.pushVersion === 2 ? { pushVersion: 2 as const } : {}),
        };
      }
    }
  }
}
