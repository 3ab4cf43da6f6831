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

/** How the answer records of a revealed quiz compare with its sealed figures, per choice. */
export interface RecordsAgainstTally {
  /** The records are exactly the counted answers: each choice has as many records as counts. */
  readonly settled: boolean;
  /** Records beyond the count, per choice: answers refused at the seal and not yet undone. */
  readonly excess: number[];
  /** Counts with no record, per choice: never expected (a record is written before its count). */
  readonly missing: number[];
}

/**
 * Every counted answer has a record that is never deleted, so when each choice has as many
 * records as counts, the records are exactly the counted answers and can be graded.
 */
export function compareRecordsWithTally(
  choices: Iterable<number>,
  counts: readonly number[],
): RecordsAgainstTally {
  const records = counts.map(() => 0);
  for (const choice of choices) if (choice >= 0 && choice < records.length) records[choice]++;
  const excess = records.map((n, i) => Math.max(0, n - counts[i]));
  const missing = records.map((n, i) => Math.max(0, counts[i] - n));
  return { settled: excess.every((n) => n === 0) && missing.every((n) => n === 0), excess, missing };
}

/** A live poll's running counts go out at most this often to each viewer (docs/protocol.md §5.8). */
export const LIVE_TALLY_INTERVAL_MS = 1000;

/**
 * The end of the push window an accepted answer at `now` opens (epoch ms), or undefined: not a
 * live poll, or a window is still running (its push, at its end, will carry this answer too).
 */
export function liveTallyWindow(
  quiz: { liveResults?: true; liveTallyUntil?: number },
  now: number,
): number | undefined {
  if (!quiz.liveResults) return undefined;
  if (quiz.liveTallyUntil !== undefined && now < quiz.liveTallyUntil) return undefined;
  return now + LIVE_TALLY_INTERVAL_MS;
}
