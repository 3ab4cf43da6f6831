import { encodeQuestionCue } from '../domain/cue';
import { NotFoundError, RateLimitedError } from '../domain/errors';
import { answersCloseAt, type CreateQuizInput, hostView, openQuiz, stateView } from '../domain/quiz';
import type { StoredQuiz } from '../domain/reveal';
import { expiryFrom } from '../store/quiz-item';
import type { ShowStore } from '../store/show-store';
import type { TallyStore } from '../store/tally-store';
import { isThrottling } from '../store/write-outcome';
import { newId } from './ids';
import type { MetadataPublisher } from './metadata-publisher';

export interface QuizServiceOptions {
  readonly tallyShards: number;
  /** Seconds after `closesAt` that a new quiz still takes answers. @default 0 */
  readonly answerGraceSeconds?: number;
  readonly dataRetentionDays: number;
  readonly now?: () => Date;
}

/** A quiz by id, read strongly consistent, or NOT_FOUND. */
export async function mustGetQuiz(store: ShowStore, quizId: string): Promise<StoredQuiz> {
  const quiz = await store.getQuiz(quizId);
  if (!quiz) throw new NotFoundError(`no quiz with id "${quizId}"`);
  return quiz;
}

/** The quiz use cases of the host API, besides the reveal (RevealService). */
export class QuizService {
  private readonly now: () => Date;

  constructor(
    private readonly store: ShowStore,
    private readonly tally: TallyStore,
    private readonly publisher: MetadataPublisher | undefined,
    private readonly options: QuizServiceOptions,
  ) {
    this.now = options.now ?? (() => new Date());
  }

  /**
   * Sends the question cue first and stores the quiz only once IVS took it: an offline
   * channel (409) or a throttle (429) leaves nothing stored.
   */
  async create(input: CreateQuizInput) {
    if (!this.publisher) throw new Error('this function was not configured to send timed metadata');
    const now = this.now();
    const quiz = openQuiz(input, newId(), now, this.options.tallyShards, this.options.answerGraceSeconds);
    await this.publisher.publish(encodeQuestionCue(quiz));
    // The question is on air now: the store rides out throttling on each write, or viewers' answers find no quiz.
    try {
      await this.store.createCurrentQuiz(quiz, expiryFrom(now, this.options.dataRetentionDays));
    } catch (error) {
      if (!isThrottling(error)) throw error;
      throw new RateLimitedError(
        1,
        `the question cue went out, but quiz "${quiz.quizId}" could not be stored (the tables are throttling); open the quiz again in 1 s`,
      );
    }
    return {
      quizId: quiz.quizId,
      opensAt: quiz.opensAt,
      closesAt: quiz.closesAt,
      graceSeconds: quiz.graceSeconds,
      answersCloseAt: new Date(answersCloseAt(quiz)).toISOString(),
    };
  }

  async describe(quizId: string) {
    const quiz = await mustGetQuiz(this.store, quizId);
    const live = quiz.result ?? (await this.tally.read(quizId, quiz.tallyShards, quiz.choices.length));
    return hostView(quiz, live, this.now());
  }

  /** `GET /state`: what a late joiner needs, since cues already played are gone for them. */
  async state() {
    const show = await this.store.getShow();
    const quiz = show.currentQuizId ? await this.store.getQuiz(show.currentQuizId) : undefined;
    return stateView(show.stream, quiz, this.now());
  }
}
