/**
 * When a viewer's time to answer runs out, in video time (docs/protocol.md §4.2): the whole
 * `durationSeconds` from the moment the question showed on this screen, but never past the
 * moment the server stops taking answers (`closesAt` plus `graceSeconds`, on the server's clock).
 * A viewer further behind than the grace gets less, rather than a countdown that lies.
 */
export interface AnswerWindow {
  readonly closesAt: string;
  /** Absent on a cue from before answer windows in video time: then `closesAt` alone counts. */
  readonly durationSeconds?: number;
  readonly graceSeconds?: number;
}

/**
 * @param shownAt when the question showed here (epoch ms, this device's clock)
 * @param clockOffsetMs the server's clock minus this device's (from `pong`)
 * @returns the deadline, epoch ms on this device's clock
 */
export function answerDeadline(window: AnswerWindow, shownAt: number, clockOffsetMs: number): number {
  const serverClose = Date.parse(window.closesAt) + (window.graceSeconds ?? 0) * 1000 - clockOffsetMs;
  if (window.durationSeconds === undefined) return serverClose;
  return Math.min(shownAt + window.durationSeconds * 1000, serverClose);
}

/** Whole seconds left before `deadline`, never below 0. */
export const secondsLeftUntil = (deadline: number, now: number): number =>
  Math.max(0, Math.ceil((deadline - now) / 1000));

/**
 * When a question opened, on the server's clock (epoch ms): its `closesAt` less its duration.
 * NaN for a cue from before answer windows in video time (no duration).
 */
export const openedAt = (window: AnswerWindow): number =>
  window.durationSeconds === undefined
    ? Number.NaN
    : Date.parse(window.closesAt) - window.durationSeconds * 1000;

/**
 * Whether `next` opened before the question this page shows (opened at `shownOpenedAt`): a late
 * arrival the page must not go back to. The paths race: a `state` sync computed before the host
 * opened a question can land after that question's cue, and a cue comes in the video seconds
 * after the sync that already showed a newer question. When either time is unknown it is not.
 */
export function isOlderQuestion(shownOpenedAt: number | undefined, next: AnswerWindow): boolean {
  const at = openedAt(next);
  return (
    shownOpenedAt !== undefined && Number.isFinite(shownOpenedAt) && Number.isFinite(at) && at < shownOpenedAt
  );
}
