/**
 * The wire contract's shapes (docs/protocol.md §3 to §5), defined once. The server builds its
 * cues and WebSocket messages from these types and the browser reads them with the same types, so
 * a change to the contract is a compile error on whichever side falls behind. Plain types and
 * pure builders only: this file runs in Lambda, Node and the browser alike.
 */

/** Every cue carries `"v":1` (docs/protocol.md §4). */
export const CUE_VERSION = 1;

/** IVS PutMetadata accepts at most 1 KB: the UTF-8 bytes of the exact string sent. */
export const MAX_CUE_BYTES = 1024;

/**
 * Every error code of the contract (docs/protocol.md §7) and its HTTP status. WebSocket errors
 * travel as `{"type":"error","code",…}` frames, but keep a nominal status for logs.
 */
export const HTTP_STATUS_BY_CODE = {
  BAD_REQUEST: 400,
  UNKNOWN_ACTION: 400,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  CHANNEL_NOT_BROADCASTING: 409,
  QUIZ_CLOSED: 409,
  ANSWERS_STILL_OPEN: 409,
  ALREADY_ANSWERED: 409,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  RATE_LIMITED: 429,
  TRY_AGAIN: 429,
  INTERNAL_ERROR: 500,
} as const;

export type ErrorCode = keyof typeof HTTP_STATUS_BY_CODE;

export type StreamState = 'live' | 'offline';
export type QuizPhase = 'open' | 'closed' | 'revealed';
/** A quiz has a correct answer and grades each viewer; a poll has neither. */
export type QuizKind = 'quiz' | 'poll';
export const QUIZ_KINDS: readonly QuizKind[] = ['quiz', 'poll'];

/** Cues: the timed metadata every player sees at the same frame (docs/protocol.md §4). */
export interface QuestionCue {
  readonly v: typeof CUE_VERSION;
  readonly type: 'question';
  readonly quizId: string;
  readonly question: string;
  readonly choices: readonly string[];
  readonly closesAt: string;
  readonly kind: QuizKind;
  /** How long each viewer has to answer, from the moment the question shows on their screen. */
  readonly durationSeconds: number;
  /** How long after `closesAt` answers are still taken, for viewers further behind in the video. */
  readonly graceSeconds: number;
  /** Present (true) on a poll whose running counts are pushed while it is open (`tally`, §5.8). */
  readonly liveResults?: true;
}

export interface ResultCue extends RevealFigures {
  readonly v: typeof CUE_VERSION;
  readonly type: 'result';
}

/** A host's own event (`POST /events`); its type is any name but the reserved ones. */
export interface CustomCue {
  readonly v: typeof CUE_VERSION;
  readonly type: string;
  readonly eventId: string;
  readonly data: Readonly<Record<string, unknown>>;
}

/** Custom cue types the viewer page renders itself, with a schema the API checks (§4.5). */
export type WellKnownCueType = 'drop' | 'announcement';
export const DROP_DEFAULT_SECONDS = 20;
export const ANNOUNCEMENT_DEFAULT_SECONDS = 10;

/** A product card: `image` and `link` are https URLs, `price` is display text. */
export interface DropCue extends CustomCue {
  readonly type: 'drop';
  readonly data: {
    readonly title: string;
    readonly price: string;
    readonly image: string;
    readonly link: string;
    readonly seconds: number;
  };
}

/** A banner of plain text. */
export interface AnnouncementCue extends CustomCue {
  readonly type: 'announcement';
  readonly data: { readonly text: string; readonly seconds: number };
}

export type Cue = QuestionCue | ResultCue | CustomCue;

/** The `window` event the viewer page dispatches for every cue, its `detail` the cue (§4.6). */
export const CUE_EVENT = 'cuecast:cue';

/** The quiz as `GET /state` and the `state` message show it: the answer only once revealed. */
export interface QuizSnapshot {
  readonly quizId: string;
  readonly question: string;
  readonly choices: readonly string[];
  readonly state: QuizPhase;
  readonly closesAt: string;
  readonly kind: QuizKind;
  readonly durationSeconds: number;
  readonly graceSeconds: number;
  readonly liveResults?: true;
  readonly correctIndex?: number;
  readonly counts?: readonly number[];
  readonly total?: number;
}

/** `GET /state` (docs/protocol.md §3). */
export interface ShowState {
  readonly stream: StreamState | 'unknown';
  readonly quiz: QuizSnapshot | null;
}

/** WebSocket messages the server sends (docs/protocol.md §5): replies and pushes. */
export interface StateMessage extends ShowState {
  readonly type: 'state';
}

export interface AnswerAcceptedMessage {
  readonly type: 'answer';
  readonly status: 'accepted';
  readonly quizId: string;
  readonly choiceIndex: number;
}

export interface ErrorMessage {
  readonly type: 'error';
  readonly code: ErrorCode;
  readonly message: string;
  readonly quizId?: string;
}

export interface PongMessage {
  readonly type: 'pong';
  /** The server's clock, epoch milliseconds. */
  readonly t: number;
}

export interface ResultMessage extends RevealFigures {
  readonly type: 'result';
  readonly v: typeof CUE_VERSION;
}

/**
 * A viewer's own grade. On a connection that asked for pushes v2 (`$connect?v=2`, §5.1) it also
 * carries the result's figures, and that viewer gets no separate `result`: one post per viewer
 * per reveal.
 */
export interface GradedMessage extends Partial<Omit<RevealFigures, 'quizId'>> {
  readonly type: 'graded';
  readonly quizId: string;
  readonly choiceIndex: number;
  readonly correct: boolean;
}

/**
 * The WebSocket pushes' versions (§8.1). v1: a viewer who answered gets `result`, then `graded`.
 * v2: that viewer gets one `graded` carrying the result's figures. A connection picks one on
 * `$connect` with `?v=`; v1 when absent.
 */
export type PushVersion = 1 | 2;
export const LATEST_PUSH_VERSION: PushVersion = 2;

/** `$connect`'s `v` query parameter: the version, or undefined when it names none (a 400). */
export function parsePushVersion(raw: string | undefined): PushVersion | undefined {
  if (raw === undefined || raw === '1') return 1;
  if (raw === '2') return 2;
  return undefined;
}

/** A live poll's running counts, at most once a second per viewer while it is open (§5.8). */
export interface TallyMessage {
  readonly type: 'tally';
  readonly quizId: string;
  readonly counts: readonly number[];
  readonly total: number;
}

export interface StreamMessage {
  readonly type: 'stream';
  readonly state: StreamState;
}

export type ServerMessage =
  | StateMessage
  | AnswerAcceptedMessage
  | ErrorMessage
  | PongMessage
  | ResultMessage
  | GradedMessage
  | TallyMessage
  | StreamMessage;

/** The figures of a revealed quiz or poll, as the result cue and message carry them. */
export interface RevealFigures {
  readonly quizId: string;
  /** A quiz's correct choice; a poll has none. */
  readonly correctIndex?: number;
  readonly counts: readonly number[];
  readonly total: number;
  readonly kind: QuizKind;
}

/**
 * Builders pick fields one by one: the correct answer must never reach a viewer before the
 * reveal, so nothing can be spread into a cue or message by accident.
 */
export const questionCue = (quiz: Omit<QuestionCue, 'v' | 'type'>): QuestionCue => ({
  v: CUE_VERSION,
  type: 'question',
  quizId: quiz.quizId,
  question: quiz.question,
  choices: quiz.choices,
  closesAt: quiz.closesAt,
  kind: quiz.kind,
  durationSeconds: quiz.durationSeconds,
  graceSeconds: quiz.graceSeconds,
  ...(quiz.liveResults ? { liveResults: true as const } : {}),
});

/** A revealed quiz's figures, in the contract's order; a poll's carry no `correctIndex`. */
export const revealFigures = (
  quiz: Pick<RevealFigures, 'quizId' | 'kind' | 'correctIndex'>,
  result: Pick<RevealFigures, 'counts' | 'total'>,
): RevealFigures => ({
  quizId: quiz.quizId,
  ...(quiz.kind === 'quiz' ? { correctIndex: quiz.correctIndex } : {}),
  counts: result.counts,
  total: result.total,
  kind: quiz.kind,
});

export const resultCue = (r: RevealFigures): ResultCue => ({
  v: CUE_VERSION,
  type: 'result',
  ...revealFigures(r, r),
});

export const customCue = (event: Omit<CustomCue, 'v'>): CustomCue => ({
  v: CUE_VERSION,
  type: event.type,
  eventId: event.eventId,
  data: event.data,
});

export const resultMessage = (r: RevealFigures): ResultMessage => ({
  type: 'result',
  v: CUE_VERSION,
  ...revealFigures(r, r),
});

/** A viewer's grade; with `figures` (pushes v2), the result in the same message. */
export const gradedMessage = (
  quizId: string,
  choiceIndex: number,
  correct: boolean,
  figures?: RevealFigures,
): GradedMessage => ({
  type: 'graded',
  quizId,
  choiceIndex,
  correct,
  ...(figures ? withoutId(revealFigures(figures, figures)) : {}),
});

const withoutId = ({ quizId: _id, ...rest }: RevealFigures) => rest;

export const streamMessage = (state: StreamState): StreamMessage => ({ type: 'stream', state });

export const tallyMessage = (
  quizId: string,
  tally: { counts: readonly number[]; total: number },
): TallyMessage => ({
  type: 'tally',
  quizId,
  counts: tally.counts,
  total: tally.total,
});

/** A cue's text as a player hands it over, or undefined when it is not one of ours. */
export function parseCue(text: string): Cue | undefined {
  try {
    const cue: unknown = JSON.parse(text);
    return cue && typeof cue === 'object' && typeof (cue as { type?: unknown }).type === 'string'
      ? (cue as Cue)
      : undefined;
  } catch {
    return undefined;
  }
}
