import { type RevealFigures, revealFigures } from '../../client/wire';
import { answersCloseAt, type Quiz } from './quiz';
import { retryAfterSeconds } from './rate-window';

/**
 * The reveal's timing policy and the progress it records on the quiz, so that a retried reveal
 * finishes what a crashed one started and never sends anything twice.
 */

/** Rounds of read, claim and send before a contended reveal asks the host to retry. */
export const REVEAL_ATTEMPTS = 3;
/** Added to the claimer's deadline: clocks of two Lambdas may differ a little. */
export const REVEAL_LEASE_MARGIN_MS = 1000;
/** A reveal's time when its invocation does not say: API Gateway's integration limit. */
export const DEFAULT_REVEAL_BUDGET_MS = 30_000;
/** How often a running result fan-out segment records a heartbeat on its quiz. */
export const FAN_OUT_HEARTBEAT_MS = 2000;
/**
 * A fan-out segment that has neither finished nor beaten for this long (three missed beats) is
 * taken to have crashed, and a retried reveal dispatches it again.
 */
export const FAN_OUT_STALE_MS = 3 * FAN_OUT_HEARTBEAT_MS;

/** One scan segment of a result fan-out, as the quiz records it. */
export interface FanOutMark {
  /** When the segment was last dispatched, or last reported progress (a heartbeat). */
  readonly beatAt: string;
  /** When the segment finished; it is never sent again after this. */
  readonly doneAt?: string;
}

/**
 * How far a reveal got, stored on the quiz beside its `result`. Absent on quizzes revealed
 * before this was recorded.
 */
export interface RevealProgress {
  /** Until when the claimer (or the last one to take over) may still be sending the result cue. */
  readonly revealLeaseUntil?: string;
  /** When IVS accepted the result cue. Once set, the cue is never sent again. */
  readonly cueSentAt?: string;
  /** Segment number → its fan-out mark. */
  readonly fanOut?: Readonly<Record<string, FanOutMark>>;
}

/** A quiz as the quizzes table holds it: the quiz and its reveal's progress. */
export type StoredQuiz = Quiz & RevealProgress;

/** `POST /quizzes/{id}/reveal` reply body (docs/protocol.md §3.4): the figures the result cue carries. */
export type RevealReply = RevealFigures;

export function revealReply(quiz: Quiz): RevealReply {
  if (!quiz.result) throw new Error(`quiz ${quiz.quizId} has no result`);
  return revealFigures(quiz, quiz.result);
}

/**
 * The early-reveal rule (docs/protocol.md §3.4): a reveal before `closesAt` plus the grace would
 * cut short the viewers furthest behind in the video. Returns the whole seconds until the answers
 * close, or undefined once a reveal may go ahead (they closed, or an earlier reveal closed them).
 */
export function secondsUntilAnswersClose(quiz: Quiz, now: Date): number | undefined {
  if (quiz.result || quiz.closedAt !== undefined) return undefined;
  const leftMs = answersCloseAt(quiz) - now.getTime();
  return leftMs > 0 ? retryAfterSeconds(leftMs) : undefined;
}

/** Until when a claim made now lasts: the claimer's deadline plus the clock margin. */
export const leaseUntil = (deadline: number): string =>
  new Date(deadline + REVEAL_LEASE_MARGIN_MS).toISOString();

/** The segments whose fan-out neither finished nor beat for FAN_OUT_STALE_MS: they crashed. */
export function staleSegments(
  progress: RevealProgress,
  now: Date,
): Array<[segment: number, mark: FanOutMark]> {
  return Object.entries(progress.fanOut ?? {})
    .filter(([, mark]) => !mark.doneAt && now.getTime() - Date.parse(mark.beatAt) > FAN_OUT_STALE_MS)
    .map(([segment, mark]) => [Number(segment), mark]);
}
