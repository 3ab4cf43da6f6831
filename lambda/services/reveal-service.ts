import { logger } from '../clients/logger';
import { encodeResultCue } from '../domain/cue';
import { AnswersStillOpenError, RateLimitedError } from '../domain/errors';
import {
  DEFAULT_REVEAL_BUDGET_MS,
  leaseUntil,
  REVEAL_ATTEMPTS,
  type RevealReply,
  revealReply,
  type StoredQuiz,
  secondsUntilAnswersClose,
  staleSegments,
} from '../domain/reveal';
import type { RevealStore } from '../store/reveal-store';
import type { ShowStore } from '../store/show-store';
import type { TallyStore } from '../store/tally-store';
import { retryThrottled } from '../store/write-outcome';
import type { MetadataPublisher } from './metadata-publisher';
import { mustGetQuiz } from './quiz-service';

export interface RevealServiceOptions {
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
  /**
   * Reveal even while viewers behind in the video may still answer (the early-reveal rule,
   * docs/protocol.md §3.4), closing the quiz to them now. @default false
   */
  readonly force?: boolean;
}

/**
 * `POST /quizzes/{id}/reveal`: fixes the figures, sends the result cue once, then fans the result
 * out over the WebSocket.
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
export class RevealService {
  private readonly now: () => Date;

  constructor(
    private readonly show: ShowStore,
    private readonly reveals: RevealStore,
    private readonly tally: TallyStore,
    private readonly publisher: MetadataPublisher,
    private readonly options: RevealServiceOptions = {},
  ) {
    this.now = options.now ?? (() => new Date());
  }

  async reveal(quizId: string, options: RevealOptions = {}): Promise<RevealReply> {
    const lease = () => leaseUntil(options.deadline ?? this.now().getTime() + DEFAULT_REVEAL_BUDGET_MS);
    // A lost claim whose winner then failed to send (and released it) leaves no result: try again.
    for (let attempt = 0; attempt < REVEAL_ATTEMPTS; attempt++) {
      const quiz = await mustGetQuiz(this.show, quizId);

      if (!quiz.result) {
        const waitSeconds = options.force ? undefined : secondsUntilAnswersClose(quiz, this.now());
        if (waitSeconds !== undefined) throw new AnswersStillOpenError(quizId, waitSeconds);
        const figures = await this.fixFigures(quiz);
        const result = { ...figures, revealedAt: this.now().toISOString() };
        const until = lease();
        if (!(await this.reveals.claimReveal(quizId, result, until))) continue;
        return this.sendResult({ ...quiz, result }, until);
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
      const until = lease();
      if (!(await this.reveals.takeOverReveal(quizId, quiz.revealLeaseUntil, until))) continue;
      logger.warn('taking over a reveal whose claimer stopped before recording its cue', { quizId });
      return this.sendResult(quiz, until);
    }
    throw new RateLimitedError(1, `quiz "${quizId}" is being revealed by another request; retry in 1 s`);
  }

  /**
   * The reveal's fence (docs/architecture.md): closes the quiz, so answers that read it are
   * refused at once, then seals every tally shard. An answer is acknowledged only after its count
   * landed on an unsealed shard, so the sealed figures hold exactly the answers acknowledged or
   * about to be; a count after the seal is refused, and its answer undone and refused too.
   */
  private async fixFigures(quiz: StoredQuiz) {
    const now = this.now();
    await this.reveals.closeQuiz(quiz.quizId, now);
    return this.tally.seal(quiz.quizId, quiz.tallyShards, quiz.choices.length, now);
  }

  /** Sends the result cue under our claim, records it, then starts the fan-out. */
  private async sendResult(quiz: StoredQuiz, until: string): Promise<RevealReply> {
    const reply = revealReply(quiz);
    try {
      await this.publisher.publish(encodeResultCue(reply));
    } catch (error) {
      await this.reveals.releaseReveal(quiz.quizId, until);
      throw error;
    }
    const segments = Array.from({ length: this.options.fanOutSegments ?? 1 }, (_, s) => s);
    const sentAt = this.now().toISOString();
    try {
      const recorded = await retryThrottled(() =>
        this.reveals.recordCueSent(quiz.quizId, until, sentAt, segments.length),
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
    if (!this.options.onRevealed) return;
    const now = this.now();
    const reclaimed: number[] = [];
    for (const [segment, mark] of staleSegments(quiz, now)) {
      if (await this.reveals.reclaimFanOutSegment(quiz.quizId, segment, mark.beatAt, now.toISOString()))
        reclaimed.push(segment);
    }
    if (reclaimed.length === 0) return;
    logger.warn('dispatching unfinished fan-out segments again', {
      quizId: quiz.quizId,
      segments: reclaimed,
    });
    await this.options.onRevealed(revealReply(quiz), reclaimed);
  }
}
