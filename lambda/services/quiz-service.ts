import { encodeQuestionCue, encodeResultCue } from '../domain/cue';
import { NotFoundError, RateLimitedError } from '../domain/errors';
import { type CreateQuizInput, hostView, openQuiz, type Quiz, stateView } from '../domain/quiz';
import { expiryFrom, type ShowStore } from '../store/show-store';
import { newId } from './ids';
import type { MetadataPublisher } from './metadata-publisher';

export interface QuizServiceOptions {
  readonly tallyShards: number;
  readonly dataRetentionDays: number;
  readonly now?: () => Date;
  /** Runs once, after the winning reveal sent its cue (the WebSocket fan-out). Must not throw. */
  readonly onRevealed?: (reply: RevealReply) => Promise<void>;
}

/** `POST /quizzes/{id}/reveal` reply body (DESIGN.md §3). */
export interface RevealReply {
  readonly quizId: string;
  readonly correctIndex: number;
  readonly counts: readonly number[];
  readonly total: number;
}

/** Rounds of read, claim and send before a contended reveal asks the host to retry. */
const REVEAL_ATTEMPTS = 3;

const revealReply = (quiz: Quiz): RevealReply => {
  if (!quiz.result) throw new Error(`quiz ${quiz.quizId} has no result`);
  return {
    quizId: quiz.quizId,
    correctIndex: quiz.correctIndex,
    counts: quiz.result.counts,
    total: quiz.result.total,
  };
};

/** The quiz use cases of the host API. */
export class QuizService {
  private readonly now: () => Date;

  constructor(
    private readonly store: ShowStore,
    private readonly publisher: MetadataPublisher | undefined,
    private readonly options: QuizServiceOptions,
  ) {
    this.now = options.now ?? (() => new Date());
  }

  private requirePublisher(): MetadataPublisher {
    if (!this.publisher) throw new Error('this function was not configured to send timed metadata');
    return this.publisher;
  }

  /**
   * Sends the question cue first and stores the quiz only once IVS took it: an offline
   * channel (409) or a throttle (429) leaves nothing stored.
   */
  async create(input: CreateQuizInput) {
    const now = this.now();
    const quiz = openQuiz(input, newId(), now, this.options.tallyShards);
    const cue = encodeQuestionCue(quiz);
    await this.requirePublisher().publish(cue);
    await this.store.createCurrentQuiz(quiz, expiryFrom(now, this.options.dataRetentionDays));
    return { quizId: quiz.quizId, opensAt: quiz.opensAt, closesAt: quiz.closesAt };
  }

  /**
   * Fixes the figures, then sends the result cue. Idempotent: once a result is stored, every
   * later reveal answers with it and sends nothing.
   */
  async reveal(quizId: string): Promise<RevealReply> {
    // A lost claim whose winner then failed to send (and released it) leaves no result: try again.
    for (let attempt = 0; attempt < REVEAL_ATTEMPTS; attempt++) {
      const quiz = await this.mustGet(quizId);
      if (quiz.result) return revealReply(quiz);

      const tally = await this.store.readTally(quizId, quiz.tallyShards, quiz.choices.length);
      const result = { ...tally, revealedAt: this.now().toISOString() };
      const reply: RevealReply = {
        quizId,
        correctIndex: quiz.correctIndex,
        counts: tally.counts,
        total: tally.total,
      };
      const cue = encodeResultCue(reply);

      if (!(await this.store.claimReveal(quizId, result))) continue;
      try {
        await this.requirePublisher().publish(cue);
      } catch (error) {
        await this.store.releaseReveal(quizId, result.revealedAt);
        throw error;
      }
      await this.options.onRevealed?.(reply);
      return reply;
    }
    throw new RateLimitedError(1, `quiz "${quizId}" is being revealed by another request; retry in 1 s`);
  }

  async describe(quizId: string) {
    const quiz = await this.mustGet(quizId);
    const live = quiz.result ?? (await this.store.readTally(quizId, quiz.tallyShards, quiz.choices.length));
    return hostView(quiz, live, this.now());
  }

  /** `GET /state`: what a late joiner needs, since cues already played are gone for them. */
  async state() {
    const show = await this.store.getShow();
    const quiz = show.currentQuizId ? await this.store.getQuiz(show.currentQuizId) : undefined;
    return stateView(show.stream, quiz, this.now());
  }

  private async mustGet(quizId: string): Promise<Quiz> {
    const quiz = await this.store.getQuiz(quizId);
    if (!quiz) throw new NotFoundError(`no quiz with id "${quizId}"`);
    return quiz;
  }
}
