import { logger } from '../clients/logger';
import type { ConnectionRecord, ConnectionStore } from '../store/connection-store';
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
 * fixed pool of workers pulls connections from the paginated scan as they arrive. A
 * connection that answers GoneException is deleted in the same pass. Failed posts are
 * counted and logged, never thrown: one bad connection must not stop a broadcast.
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
          await connections.delete(connection.connectionId).catch((error: Error) => {
            logger.warn('could not delete a gone connection', {
              connectionId: connection.connectionId,
              error,
            });
          });
          break;
        }
        counts[outcome]++;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, options.concurrency) }, worker));
  logger.info('fan-out done', {
    ...counts,
    segment: options.segment ?? 0,
    totalSegments: options.totalSegments ?? 1,
  });
  return counts;
}
