/**
 * The tally is spread over shards so that no single DynamoDB key takes every answer
 * (1,000 WCU/s per key; 10,000 answers/s needs at least 10). A viewer always lands on the
 * same shard, so a retried answer hits the same keys and the one-answer rule holds.
 */
export const DEFAULT_TALLY_SHARDS = 32;
/** BatchGetItem reads at most 100 keys, and reveal reads every shard in one batch. */
export const MAX_TALLY_SHARDS = 100;

/** FNV-1a: cheap, stable across runtimes, and spreads short ids evenly. */
export function shardOf(viewerId: string, shards: number): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < viewerId.length; i++) {
    hash ^= viewerId.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return (hash >>> 0) % shards;
}

/** Attribute that holds the count of choice `index` on a tally shard item. */
export const countAttribute = (index: number): string => `c${index}`;

export interface Tally {
  readonly counts: number[];
  readonly total: number;
}

/** Sums shard items into per-choice counts; the total is derived, so it always equals their sum. */
export function sumShards(
  shards: ReadonlyArray<Readonly<Record<string, unknown>>>,
  choiceCount: number,
): Tally {
  const counts = Array.from({ length: choiceCount }, () => 0);
  for (const shard of shards) {
    for (let i = 0; i < choiceCount; i++) {
      const value = shard[countAttribute(i)];
      if (typeof value === 'number') counts[i] += value;
    }
  }
  return { counts, total: counts.reduce((a, b) => a + b, 0) };
}
