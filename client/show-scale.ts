/**
 * What a show of N viewers asks of an AWS account: the arithmetic of docs/scale.md, defined once.
 * `npm run host -- preflight --viewers N` sets the account's quotas against it, and a test holds
 * docs/scale.md's figures for a million viewers to it, so the two cannot drift apart.
 *
 * The assumptions are docs/scale.md's: each is named here with where it comes from.
 */

/** The show docs/scale.md reasons about: the share of viewers who answer a question. */
export const ANSWERING_SHARE = 0.8;
/** Most answers come in the first seconds after the question shows: the burst they fall in. */
export const ANSWER_BURST_SECONDS = 10;
/**
 * The answer function's time per answer on AWS (a get, a put, an update and one reply post, at 5
 * to 15 ms each in-region). Not measured here (docs/scale.md); `AnswerDurationMs` on the dashboard
 * gives the real one after a rehearsal.
 */
export const ANSWER_SECONDS = 0.04;
/** DynamoDB writes per accepted answer: the answer record and one tally shard (P3, measured). */
export const WRITES_PER_ANSWER = 2;
/** API Gateway requests per answer: its message in and its reply posted back. */
export const REQUESTS_PER_ANSWER = 2;
/**
 * How long the audience takes to join before the first question: the WebSocket connections a
 * second the account must accept are the audience over this window.
 */
export const JOIN_WINDOW_SECONDS = 600;
/** A $connect, its authorizer and the page's sync on AWS, as for {@link ANSWER_SECONDS}: not measured. */
export const JOIN_SECONDS = 0.05;
/**
 * Executions that may run at any moment besides the phase's own: the reveal, the stream-state
 * function and a host's call.
 */
export const OTHER_EXECUTIONS = 3;

/** The stack's own defaults the needs depend on. */
export interface ShowShape {
  /** The fan-out's segments, each one function execution during a reveal (default 4). */
  readonly fanOutSegments: number;
}

export const DEFAULT_SHOW_SHAPE: ShowShape = { fanOutSegments: 4 };

/** What N viewers need, each a peak the account must allow. */
export interface ShowNeeds {
  readonly viewers: number;
  /** Answers a second in the burst. */
  readonly answersPerSecond: number;
  /** DynamoDB writes a second in the burst, on the answers and tally tables together. */
  readonly writesPerSecond: number;
  /** API Gateway requests a second in the burst (messages in and posts out), account-wide. */
  readonly apiRequestsPerSecond: number;
  /** New WebSocket connections a second while the audience joins. */
  readonly newConnectionsPerSecond: number;
  /**
   * Lambda concurrent executions at the peak. The phases come one after another: the audience
   * joins, then answers in a burst, then the reveal's fan-out runs its segments. The busiest
   * phase, plus {@link OTHER_EXECUTIONS}.
   */
  readonly lambdaConcurrency: number;
  /** IVS concurrent views: one per viewer. */
  readonly concurrentViews: number;
}

/** The needs of a show of `viewers` viewers (docs/scale.md's arithmetic). */
export function showNeeds(viewers: number, shape: ShowShape = DEFAULT_SHOW_SHAPE): ShowNeeds {
  if (!Number.isInteger(viewers) || viewers < 1)
    throw new RangeError(`viewers must be a whole number of at least 1, got ${viewers}`);
  const answersPerSecond = (viewers * ANSWERING_SHARE) / ANSWER_BURST_SECONDS;
  const newConnectionsPerSecond = viewers / JOIN_WINDOW_SECONDS;
  return {
    viewers,
    answersPerSecond: Math.ceil(answersPerSecond),
    writesPerSecond: Math.ceil(answersPerSecond * WRITES_PER_ANSWER),
    apiRequestsPerSecond: Math.ceil(answersPerSecond * REQUESTS_PER_ANSWER),
    newConnectionsPerSecond: Math.ceil(newConnectionsPerSecond),
    lambdaConcurrency:
      Math.max(
        Math.ceil(answersPerSecond * ANSWER_SECONDS),
        Math.ceil(newConnectionsPerSecond * JOIN_SECONDS),
        shape.fanOutSegments,
      ) + OTHER_EXECUTIONS,
    concurrentViews: viewers,
  };
}
