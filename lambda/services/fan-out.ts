import { logger } from '../clients/logger';
import { type ConnectionRecord, type ConnectionStore, DELETE_BATCH_SIZE } from '../store/connection-store';
import type { ConnectionPoster } from './connection-poster';

export interface FanOutReport {
  readonly connections: number;
  readonly delivered: number;
  readonly gone: number;
  readonly failed: number;
}

export interface FanOutOptions {
  /** Posts in flight at once. */
  readonly concurrency: number;
  readonly segment?: number;
  readonly totalSegments?: number;
}

/**
 * Sends messages to every connection of a scan segment. Scanning and posting overlap: a
 * fixed pool of workers pulls connections from the paginated scan as they arrive. Connections
 * that answer GoneException are deleted in the same pass, 25 to a batch write. Failed posts
 * and deletes are counted or logged, never thrown: one bad connection must not stop a broadcast.
 */
export async function fanOut(
  connections: ConnectionStore,
  poster: ConnectionPoster,
  /** What to send to a connection, in order; an async source is awaited only after the first message went out. */
  messagesFor: (connection: ConnectionRecord) => ReadonlyArray<object | Promise<object | undefined>>,
  options: FanOutOptions,
): Promise<FanOutReport> {
  const counts = { connections: 0, delivered: 0, gone: 0, failed: 0 };
  const source = connections.scan(options.segment, options.totalSegments);
  const gone: string[] = [];
  const deletes: Promise<void>[] = [];
  const deleteGone = (ids: string[]) =>
    connections.deleteBatch(ids).then(
      (left) => {
        if (left.length > 0)
          logger.warn('gone connections left undeleted (their TTL will expire them)', { left });
      },
      (error: Error) => logger.warn('could not delete gone connections', { connectionIds: ids, error }),
    );

  const worker = async () => {
    // Async generators queue concurrent next() calls, so workers can share one scan safely.
    for (let next = await source.next(); !next.done; next = await source.next()) {
      const connection = next.value;
      counts.connections++;
      for (const next of messagesFor(connection)) {
        const message = await next;
        if (message === undefined) continue;
        const outcome = await poster.post(connection.connectionId, message);
        if (outcome === 'gone') {
          counts.gone++;
          gone.push(connection.connectionId);
          if (gone.length === DELETE_BATCH_SIZE) deletes.push(deleteGone(gone.splice(0)));
          break;
        }
        counts[outcome]++;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, options.concurrency) }, worker));
  if (gone.length > 0) deletes.push(deleteGone(gone.splice(0)));
  await Promise.all(deletes);
  logger.info('fan-out done', {
    ...counts,
    segment: options.segment ?? 0,
    totalSegments: options.totalSegments ?? 1,
  });
  return counts;
}
