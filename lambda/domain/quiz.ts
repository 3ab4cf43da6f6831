import * as z from 'zod/mini';
import { QUIZ_KINDS, type QuizKind, type QuizPhase, type ShowState } from '../../client/wire';
import { ID_PATTERN, parseWith, text } from './validation';

export const QUESTION_MAX_CHARS = 200;
export const CHOICE_MAX_CHARS = 80;
export const MIN_CHOICES = 2;
export const MAX_CHOICES = 4;
export const MIN_DURATION_SECONDS = 5;
export const MAX_DURATION_SECONDS = 300;
export const DEFAULT_DURATION_SECONDS = 20;
/** The answer grace a stack may set (docs/protocol.md §3.3): from none to a minute. */
export const MAX_GRACE_SECONDS = 60;
/**
 * The default grace for each IVS latency mode: how far behind the question cue's send time a
 * viewer may see it. LOW runs about 2 to 5 s glass to glass; NORMAL (standard HLS) is commonly 10
 * to 15 s. Each default adds a few seconds for the viewer's network and the answer's trip back.
 */
export const DEFAULT_GRACE_SECONDS = { LOW: 8, NORMAL: 20 } as const;

/**
 * Body of `POST /quizzes` (docs/protocol.md §3.3): a quiz (the default) names its correct choice, a
 * poll has none. Unknown fields are refused so a typo is never silently ignored.
 */
export const CreateQuizSchema = z
  .strictObject(
    {
      question: text(1, QUESTION_MAX_CHARS),
      choices: z
        .array(text(1, CHOICE_MAX_CHARS), { error: 'must be an array of strings' })
        .check(
          z.minLength(MIN_CHOICES, { error: `must have ${MIN_CHOICES} to ${MAX_CHOICES} entries` }),
          z.maxLength(MAX_CHOICES, { error: `must have ${MIN_CHOICES} to ${MAX_CHOICES} entries` }),
        ),
      liveResults: z.optional(z.boolean({ error: 'must be true or false' })),
      kind: z._default(
        z.enum(QUIZ_KINDS as [QuizKind, ...QuizKind[]], { error: 'must be "quiz" or "poll"' }),
        'quiz',
      ),
      correctIndex: z.optional(
        z.int({ error: 'must be an integer' }).check(z.gte(0, { error: 'must be 0 or more' })),
      ),
      durationSeconds: z._default(
        z.int({ error: 'must be an integer' }).check(
          z.gte(MIN_DURATION_SECONDS, {
            error: `must be ${MIN_DURATION_SECONDS} to ${MAX_DURATION_SECONDS}`,
          }),
          z.lte(MAX_DURATION_SECONDS, {
            error: `must be ${MIN_DURATION_SECONDS} to ${MAX_DURATION_SECONDS}`,
          }),
        ),
        DEFAULT_DURATION_SECONDS,
      ),
    },
    { error: 'must be a JSON object' },
  )
  .check((ctx) => {
    const { choices, correctIndex, kind, liveResults } = ctx.value;
    if (liveResults && kind !== 'poll') {
      ctx.issues.push({
        code: 'custom',
        input: liveResults,
        path: ['liveResults'],
        message: 'is for a poll only: live counts would give away a quiz answer',
      });
    }
    if (kind === 'quiz' && correctIndex === undefined) {
      ctx.issues.push({
        code: 'custom',
        input: correctIndex,
        path: ['correctIndex'],
        message: 'is required for a quiz (a poll, "kind":"poll", has none)',
      });
    }
    if (kind === 'poll' && correctIndex !== undefined) {
      ctx.issues.push({
        code: 'custom',
        input: correctIndex,
        path: ['correctIndex'],
        message: 'must not be set for a poll: a poll has no correct answer',
      });
    }
    if (Array.isArray(choices) && correctIndex !== undefined && correctIndex >= choices.length) {
      ctx.issues.push({
        code: 'custom',
        input: correctIndex,
        path: ['correctIndex'],
        message: `must be less than the number of choices (${choices.length})`,
      });
    }
  });

export type CreateQuizInput = z.output<typeof CreateQuizSchema>;

export const parseCreateQuiz = (body: unknown): CreateQuizInput => parseWith(CreateQuizSchema, body);

export const QuizIdSchema = z
  .string()
  .check(z.regex(ID_PATTERN, { error: 'must be 1 to 64 of A-Z a-z 0-9 _ -' }));

export const parseQuizId = (value: unknown): string => parseWith(QuizIdSchema, value, 'quizId');

/** The reveal's query string: `force=true` reveals before the answers close (docs/protocol.md §3.4). */
const RevealQuerySchema = z.object({
  force: z.optional(z.enum(['true', 'false'], { error: 'must be true or false' })),
});

export function parseRevealQuery(query: Readonly<Record<string, string | undefined>> | undefined): {
  force: boolean;
} {
  return { force: parseWith(RevealQuerySchema, query ?? {}, 'query').force === 'true' };
}

/** What a quiz is, as stored. `result` is present once revealed and never changes after. */
export interface Quiz {
  readonly quizId: string;
  readonly question: string;
  readonly choices: readonly string[];
  readonly kind: QuizKind;
  /** A quiz's correct choice; a poll has none. */
  readonly correctIndex?: number;
  /** A poll whose running counts are pushed to viewers while it is open. */
  readonly liveResults?: true;
  /** Until when the current live-count push window runs (epoch ms); the next answer after it opens one. */
  readonly liveTallyUntil?: number;
  readonly durationSeconds: number;
  readonly opensAt: string;
  readonly closesAt: string;
  /**
   * Answers are taken until `closesAt` plus this, so a viewer who sees the question later in the
   * video still has the whole `durationSeconds`. Fixed at creation; 0 on quizzes stored before it.
   */
  readonly graceSeconds: number;
  /** How many tally shards answers were spread over; fixed at creation so reveal reads the same ones. */
  readonly tallyShards: number;
  /** When a reveal closed it to answers (it may still be before `closesAt`). */
  readonly closedAt?: string;
  readonly result?: QuizResult;
}

export interface QuizResult {
  readonly counts: readonly number[];
  readonly total: number;
  readonly revealedAt: string;
}

/** Builds a new quiz from valid input; times are ISO-8601 UTC. */
export function openQuiz(
  input: CreateQuizInput,
  quizId: string,
  now: Date,
  tallyShards: number,
  graceSeconds = 0,
): Quiz {
  return {
    quizId,
    question: input.question,
    choices: input.choices,
    kind: input.kind,
    ...(input.kind === 'quiz' ? { correctIndex: input.correctIndex } : {}),
    ...(input.liveResults ? { liveResults: true as const } : {}),
    durationSeconds: input.durationSeconds,
    opensAt: now.toISOString(),
    closesAt: new Date(now.getTime() + input.durationSeconds * 1000).toISOString(),
    graceSeconds,
    tallyShards,
  };
}

/** The first instant (epoch ms) at which no answer is taken any more: `closesAt` plus the grace. */
export const answersCloseAt = (quiz: Pick<Quiz, 'closesAt' | 'graceSeconds'>): number =>
  Date.parse(quiz.closesAt) + quiz.graceSeconds * 1000;

/**
 * Open until `closesAt` plus the grace (exclusive) or until a reveal closed it, revealed once a
 * result is stored.
 */
export function phaseOf(quiz: Quiz, now: Date): QuizPhase {
  if (quiz.result) return 'revealed';
  if (quiz.closedAt !== undefined) return 'closed';
  return now.getTime() < answersCloseAt(quiz) ? 'open' : 'closed';
}

/** A quiz's correct choice as a field to spread in; a poll has none, so not even the key. */
const correctChoice = (quiz: Quiz) => (quiz.kind === 'quiz' ? { correctIndex: quiz.correctIndex } : {});

/** `GET /quizzes/{quizId}`: everything, with live counts until the result is fixed. */
export function hostView(quiz: Quiz, live: { counts: readonly number[]; total: number }, now: Date) {
  const figures = quiz.result ?? live;
  return {
    quizId: quiz.quizId,
    question: quiz.question,
    choices: quiz.choices,
    kind: quiz.kind,
    ...correctChoice(quiz),
    state: phaseOf(quiz, now),
    counts: figures.counts,
    total: figures.total,
    opensAt: quiz.opensAt,
    closesAt: quiz.closesAt,
    graceSeconds: quiz.graceSeconds,
    // When a reveal may go ahead without `force` (docs/protocol.md §3.4).
    answersCloseAt: new Date(answersCloseAt(quiz)).toISOString(),
  };
}

/** The quiz as any viewer may see it (`GET /state`): the answer and figures only once revealed. */
export function publicView(quiz: Quiz, now: Date) {
  const base = {
    quizId: quiz.quizId,
    question: quiz.question,
    choices: quiz.choices,
    state: phaseOf(quiz, now),
    closesAt: quiz.closesAt,
    kind: quiz.kind,
    durationSeconds: quiz.durationSeconds,
    graceSeconds: quiz.graceSeconds,
    ...(quiz.liveResults ? { liveResults: true as const } : {}),
  };
  if (!quiz.result) return base;
  return { ...base, ...correctChoice(quiz), counts: quiz.result.counts, total: quiz.result.total };
}

export type StreamState = ShowState['stream'];

/** Body of `GET /state` and of the `sync` reply. */
export function stateView(stream: StreamState, quiz: Quiz | undefined, now: Date): ShowState {
  return { stream, quiz: quiz ? publicView(quiz, now) : null };
}
