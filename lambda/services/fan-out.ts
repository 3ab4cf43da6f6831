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
  /** The most connections being posted to at once. */
  readonly concurrency: number;
  readonly segment?: number;
  readonly totalSegments?: number;
}

/**
 * Sends messages to every connection of a scan segment. Scanning and posting overlap: posts
 * start as the paginated scan yields connections. They go out in bursts: at most `concurrency`
 * connections are in flight, and once half of them have been answered the rest of the room is
 * filled in one go. Building a burst of requests together, and then reading a run of replies,
 * costs the posting thread less CPU per post than starting a post for each reply as it comes
 * (npm run bench, P2). Connections that answer GoneException are deleted in the same pass, 25
 * to a batch write. Failed posts and deletes are counted or logged, never thrown: one bad
 * connection must not stop a broadcast. A failed scan page (or message source) fails the
 * broadcast, once the posts already in flight have finished.
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

  const send = async (connection: ConnectionRecord) => {
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
  };

  const room = Math.max(1, options.concurrency);
  const refillAt = Math.floor(room / 2);
  let inFlight = 0;
  let failure: { error: unknown } | undefined;
  let wake: (() => void) | undefined;
  const settled = () => {
    inFlight--;
    if (inFlight <= refillAt) wake?.();
  };
  const until = async (ready: () => boolean) => {
    while (!ready()) await new Promise<void>((resolve) => (wake = resolve));
    wake = undefined;
  };
  for (let exhausted = false; !exhausted && !failure; ) {
    while (inFlight < room && !failure) {
      const next = await source.next().catch((error: unknown) => {
        failure ??= { error };
        return undefined;
      });
      if (!next || next.done) {
        exhausted = true;
        break;
      }
      inFlight++;
      send(next.value).then(settled, (error: unknown) => {
        failure ??= { error };
        settled();
      });
    }
    if (!exhausted) await until(() => inFlight <= refillAt);
  }
  await until(() => inFlight === 0);
  if (gone.length > 0) deletes.push(deleteGone(gone.splice(0)));
  await Promise.all(deletes);
  if (failure) throw failure.error;
  logger.info('fan-out done', {
    ...counts,
    segment: options.segment ?? 0,
    totalSegments: options.totalSegments ?? 1,
  });
  return counts;
}
