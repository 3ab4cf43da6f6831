import * as z from 'zod/mini';
import { BadRequestError, NotFoundError, QuizClosedError, UnknownActionError } from './errors';
import { phaseOf, type Quiz } from './quiz';
import { ID_PATTERN, parseJson, parseWith } from './validation';

/** The WebSocket API's route keys besides `$connect`/`$disconnect`/`$default` (docs/protocol.md §5). */
export const VIEWER_ACTIONS = ['answer', 'sync', 'ping'] as const;

/** WebSocket frames are at most 32 KB; messages at most 128 KB. We never send more than one frame. */
export const MAX_FRAME_BYTES = 32 * 1024;

/** The answer function's Lambda timeout: no answer runs longer, whatever it waits on. */
export const ANSWER_FUNCTION_TIMEOUT_SECONDS = 10;
/**
 * How long after a quiz closed an answer that read it open may still be between its stored
 * record and its outcome (counted, or undone and refused): the answer function's timeout plus
 * a margin for clock skew. After this, the answer records of a revealed quiz are final.
 */
export const ANSWER_SETTLE_MS = ANSWER_FUNCTION_TIMEOUT_SECONDS * 1000 + 2000;

/** `{"action":"answer","quizId","choiceIndex"}` */
export const AnswerSchema = z.strictObject(
  {
    action: z.literal('answer'),
    quizId: z.string({ error: 'must be a string' }).check(z.regex(ID_PATTERN, { error: 'is not a quiz id' })),
    choiceIndex: z.int({ error: 'must be an integer' }).check(z.gte(0, { error: 'must be 0 or more' })),
  },
  { error: 'must be a JSON object' },
);

export type AnswerInput = z.output<typeof AnswerSchema>;

export const parseAnswer = (body: unknown): AnswerInput => parseWith(AnswerSchema, body, 'message');

/** Parses a frame's text as JSON; bad or too deeply nested JSON is a BAD_REQUEST, never a dropped connection. */
export function parseFrame(body: string | null | undefined): unknown {
  if (!body) throw new BadRequestError('message: a JSON object is required');
  return parseJson(body, 'message');
}

/**
 * Why a frame reached `$default`: not JSON, not an object, or no string `action` is
 * BAD_REQUEST (a wrong shape); an action we do not have is UNKNOWN_ACTION.
 */
export function explainDefaultRoute(body: string | null | undefined): never {
  const frame = parseFrame(body);
  if (frame === null || typeof frame !== 'object' || Array.isArray(frame)) {
    throw new BadRequestError('message: must be a JSON object');
  }
  const action = (frame as { action?: unknown }).action;
  if (typeof action !== 'string') throw new BadRequestError('action: is required and must be a string');
  if (action === 'answer') parseAnswer(frame);
  throw new UnknownActionError(action.slice(0, 64));
}

/**
 * The rules an answer must pass before it is stored: the quiz exists, it is still open when
 * the frame arrived, and the choice is one of its choices.
 */
export function checkAnswer(quiz: Quiz | undefined, answer: AnswerInput, arrivedAt: Date): Quiz {
  if (!quiz) throw new NotFoundError(`no quiz with id "${answer.quizId}"`);
  if (phaseOf(quiz, arrivedAt) !== 'open') throw new QuizClosedError(quiz.quizId);
  if (answer.choiceIndex >= quiz.choices.length) {
    throw new BadRequestError(
      `choiceIndex: must be less than the number of choices (${quiz.choices.length})`,
    );
  }
  return quiz;
}

export const isCorrect = (quiz: Pick<Quiz, 'correctIndex'>, choiceIndex: number): boolean =>
  quiz.correctIndex === choiceIndex;
