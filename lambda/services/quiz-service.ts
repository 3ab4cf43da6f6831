import { logger } from '../clients/logger';
import { encodeQuestionCue, encodeResultCue } from '../domain/cue';
import { NotFoundError, RateLimitedError } from '../domain/errors';
import { type CreateQuizInput, hostView, openQuiz, type Quiz, stateView } from '../domain/quiz';
import { expiryFrom, FAN_OUT_STALE_MS, type ShowStore, type StoredQuiz } from '../store/show-store';
import type { TallyStore } from '../store/tally-store';
import { isThrottling, retryThrottled } from '../store/write-outcome';
import { newId } from './ids';
import type { MetadataPublisher } from './metadata-publisher';

export interface QuizServiceOptions {
  readonly tallyShards: number;
  readonly dataRetentionDays: number;
  readonly now?: () => Date;
  /**
   * Hands the WebSocket copy of a result to these scan segments (the fan-out). Runs after the
   * result cue went out, and again from a retried reveal for segments that never finished.
   * Must not throw.
   */
  readonly onRevealed?: (reply: RevealReply, segments: readonly number[]) => Promise<void>;
  /** Scan segments a result is fanned out over. @default 1 */
  readonly fanOutSegments?: number;
}

/** Options of one reveal call. */
export interface RevealOptions {
  /**
   * When this invocation will be stopped at the latest (epoch ms; Lambda's timeout). The claim's
   * lease lasts until then plus a margin, so a crashed reveal is taken over only once it cannot
   * be running any more. @default now + 30 s (API Gateway's integration limit)
   */
  readonly deadline?: number;
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
/** Added to the claimer's deadline: clocks of two Lambdas may differ a little. */
export const REVEAL_LEASE_MARGIN_MS = 1000;
const DEFAULT_REVEAL_BUDGET_MS = 30_000;

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
    private readonly tally: TallyStore,
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
    return { quizId: quiz.quizId, opensAt: quiz.opensAt, closesAt: quiz.closesAt };
  }

  /**
   * Fixes the figures, sends the result cue once, then fans the result out over the WebSocket.
   *
   * Idempotent, and it repairs: a retried reveal answers with the stored figures and re-runs
   * only what did not complete.
   * - The claim (the stored result) carries a lease until the claimer's deadline. A claim whose
   *   lease ran out before the cue was recorded as sent belongs to a reveal that crashed; a retry
   *   takes it over and sends the cue with the stored figures. While the lease runs, a retry
   *   gets 429 with the time left.
   * - `cueSentAt` is written right after IVS accepted the cue; once it is there, the cue is
   *   never sent again.
   * - Each fan-out segment records heartbeats and its completion. A retry dispatches again only
   *   segments that neither finished nor beat for FAN_OUT_STALE_MS (a crashed fan-out).
   *
   * The one window this cannot close: a reveal that crashes after IVS accepted the cue and
   * before `cueSentAt` is stored (a few milliseconds: one DynamoDB write) leaves a claim that a
   * later retry takes over, so that retry sends the result cue a second time. IVS has no
   * idempotency token for PutMetadata, so nothing on our side can tell the two cases apart.
   */
  async reveal(quizId: string, options: RevealOptions = {}): Promise<RevealReply> {
    const lease = () =>
      new Date(
        (options.deadline ?? this.now().getTime() + DEFAULT_REVEAL_BUDGET_MS) + REVEAL_LEASE_MARGIN_MS,
      ).toISOString();
    // A lost claim whose winner then failed to send (and released it) leaves no result: try again.
    for (let attempt = 0; attempt < REVEAL_ATTEMPTS; attempt++) {
      const quiz = await this.mustGet(quizId);

      if (!quiz.result) {
        const figures = await this.fixFigures(quiz);
        const result = { ...figures, revealedAt: this.now().toISOString() };
        const leaseUntil = lease();
        if (!(await this.store.claimReveal(quizId, result, leaseUntil))) continue;
        return this.sendResult({ ...quiz, result }, leaseUntil);
      }

      if (quiz.cueSentAt) {
        await this.repairFanOut(quiz);
        return revealReply(quiz);
      }
      // Revealed before reveals recorded their progress: its cue went out then.
      if (!quiz.revealLeaseUntil) return revealReply(quiz);

      const leftMs = Date.parse(quiz.revealLeaseUntil) - this.now().getTime();
      if (leftMs > 0) {
        const seconds = Math.max(1, Math.ceil(leftMs / 1000));
        throw new RateLimitedError(
          seconds,
          `quiz "${quizId}" is being revealed by another request; retry in ${seconds} s`,
        );
      }
      // The claimer crashed before its cue was recorded as sent: finish its reveal, with its figures.
      const leaseUntil = lease();
      if (!(await this.store.takeOverReveal(quizId, quiz.revealLeaseUntil, leaseUntil))) continue;
      logger.warn('taking over a reveal whose claimer stopped before recording its cue', { quizId });
      return this.sendResult(quiz, leaseUntil);
    }
    throw new RateLimitedError(1, `quiz "${quizId}" is being revealed by another request; retry in 1 s`);
  }

  /**
   * The reveal's fence (docs: why every accepted answer is in the result): closes the quiz, so
   * answers that read it are refused at once, then seals every tally shard. An answer is
   * acknowledged only after its count landed on an unsealed shard, so the sealed figures hold
   * exactly the answers acknowledged or about to be; any count after the seal is refused, and its
   * answer undone and refused too.
   */
  private async fixFigures(quiz: StoredQuiz) {
    const now = this.now();
    await this.store.closeQuiz(quiz.quizId, now);
    return this.tally.seal(quiz.quizId, quiz.tallyShards, quiz.choices.length, now);
  }

  /** Sends the result cue under our claim, records it, then starts the fan-out. */
  private async sendResult(quiz: StoredQuiz, leaseUntil: string): Promise<RevealReply> {
    const reply = revealReply(quiz);
    try {
      await this.requirePublisher().publish(encodeResultCue(reply));
    } catch (error) {
      await this.store.releaseReveal(quiz.quizId, leaseUntil);
      throw error;
    }
    const segments = Array.from({ length: this.options.fanOutSegments ?? 1 }, (_, s) => s);
    const sentAt = this.now().toISOString();
    try {
      const recorded = await retryThrottled(() =>
        this.store.recordCueSent(quiz.quizId, leaseUntil, sentAt, segments.length),
      );
      if (!recorded)
        logger.error('result cue sent, but the claim had been taken over: the cue may go out twice', {
          quizId: quiz.quizId,
        });
    } catch (error) {
      // The cue is on air; the host must get the figures. Only a retry after the lease could resend it.
      logger.error('result cue sent, but could not be recorded as sent', { quizId: quiz.quizId, error });
    }
    await this.options.onRevealed?.(reply, segments);
    return reply;
  }

  /** Dispatches again the fan-out segments of a revealed quiz that crashed before finishing. */
  private async repairFanOut(quiz: StoredQuiz): Promise<void> {
    if (!quiz.fanOut || !this.options.onRevealed) return;
    const now = this.now();
    const stale = Object.entries(quiz.fanOut).filter(
      ([, mark]) => !mark.doneAt && now.getTime() - Date.parse(mark.beatAt) > FAN_OUT_STALE_MS,
    );
    const reclaimed: number[] = [];
    for (const [segment, mark] of stale) {
      if (await this.store.reclaimFanOutSegment(quiz.quizId, Number(segment), mark.beatAt, now.toISOString()))
        reclaimed.push(Number(segment));
    }
    if (reclaimed.length === 0) return;
    logger.warn('dispatching unfinished fan-out segments again', {
      quizId: quiz.quizId,
      segments: reclaimed,
    });
    await this.options.onRevealed(revealReply(quiz), reclaimed);
  }

  async describe(quizId: string) {
    const quiz = await this.mustGet(quizId);
    const live = quiz.result ?? (await this.tally.read(quizId, quiz.tallyShards, quiz.choices.length));
    return hostView(quiz, live, this.now());
  }

  /** `GET /state`: what a late joiner needs, since cues already played are gone for them. */
  async state() {
    const show = await this.store.getShow();
    const quiz = show.currentQuizId ? await this.store.getQuiz(show.currentQuizId) : undefined;
    return stateView(show.stream, quiz, this.now());
  }

  private async mustGet(quizId: string): Promise<StoredQuiz> {
    const quiz = await this.store.getQuiz(quizId);
    if (!quiz) throw new NotFoundError(`no quiz with id "${quizId}"`);
    return quiz;
  }
}
