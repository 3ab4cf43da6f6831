/**
 * A sliding-window log of the last `limit` PutMetadata calls of one channel, kept as a ring.
 * The slot at `seq % limit` holds the oldest of the last `limit` calls: a new call may go
 * only if that one is at least `windowMs` old, so no rolling window ever holds more than
 * `limit` calls. The store applies the decision with a conditional write on `seq`.
 */
export interface RateWindow {
  /** How many calls have been admitted so far. */
  readonly seq: number;
  /** Epoch ms of past admissions by slot; missing slots count as never used. */
  readonly slots: readonly number[];
}

export type RateDecision =
  | { readonly admit: true; readonly slot: number; readonly nextSeq: number }
  | { readonly admit: false; readonly retryAfterMs: number };

export const EMPTY_RATE_WINDOW: RateWindow = { seq: 0, slots: [] };

export function decideAdmission(
  window: RateWindow,
  nowMs: number,
  limit: number,
  windowMs = 1000,
): RateDecision {
  if (!Number.isInteger(limit) || limit < 1)
    throw new RangeError(`limit must be a positive integer, got ${limit}`);
  const slot = window.seq % limit;
  const oldest = window.slots[slot] ?? Number.NEGATIVE_INFINITY;
  const age = nowMs - oldest;
  if (age >= windowMs) return { admit: true, slot, nextSeq: window.seq + 1 };
  return { admit: false, retryAfterMs: windowMs - age };
}

/** `Retry-After` is whole seconds; never tell a client to retry immediately. */
export const retryAfterSeconds = (ms: number): number => Math.max(1, Math.ceil(ms / 1000));
