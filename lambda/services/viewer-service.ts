import { setTimeout as sleep } from 'node:timers/promises';
import type { AnswerAcceptedMessage } from '../../client/wire';
import { logger } from '../clients/logger';
import { AlreadyAnsweredError, QuizClosedError, TryAgainError } from '../domain/errors';
import type { Quiz } from '../domain/quiz';
import { shardOf } from '../domain/tally';
import { type AnswerInput, checkAnswer } from '../domain/viewer';
import type { AnswerRecord, AnswerStore } from '../store/answer-store';
import type { ShowStore } from '../store/show-store';
import type { TallyStore } from '../store/tally-store';
import { isThrottling, retryThrottled, wasNotApplied } from '../store/write-outcome';

/** Tries at counting a stored answer, one request each, each after the first on the next shard. */
export const COUNT_ATTEMPTS = 6;
/** The backoff before the second try; it doubles each time, with jitter (at most 0.62 s in all). */
const COUNT_BACKOFF_MS = 20;
/**
 * No try starts later than this after the answer reached the handler, however slow DynamoDB or
 * the container is: the undo of a refused answer must still fit in the function's 10 s
 * (ANSWER_FUNCTION_TIMEOUT_SECONDS). A container killed at its timeout between the stored record
 * and the undo would leave an answer stored but never counted.
 */
export const COUNT_BUDGET_MS = 3000;

/** The `answer` action: at most 2 write requests per accepted answer, and no strongly consistent read. */
export class ViewerService {
  constructor(
    private readonly show: ShowStore,
    private readonly answers: AnswerStore,
    private readonly tally: TallyStore,
    private readonly clock: () => number = Date.now,
    /** Runs after an answer was counted (a live poll's push window); must not throw. */
    private readonly afterCounted?: (quiz: Quiz, now: number) => Promise<void>,
  ) {}

  /**
   * Stores the viewer's first answer and counts it. No answer is lost: one is either accepted
   * (stored and counted), or refused with nothing of it stored, so the viewer may send it again.
   * It is acknowledged only once its count landed before the reveal sealed the tally, so an
   * accepted answer is always in the result; one whose count met the seal is undone and refused
   * QUIZ_CLOSED. DynamoDB throttling at any step ends in TRY_AGAIN, after the SDK's retries and ours.
   */
  async answer(
    input: AnswerInput,
    viewer: { viewerId: string; connectionId: string },
    arrivedAt: Date,
  ): Promise<AnswerAcceptedMessage> {
    const started = this.clock();
    try {
      const quiz = checkAnswer(
        await this.show.getQuiz(input.quizId, { consistent: false }),
        input,
        arrivedAt,
      );
      const record: AnswerRecord = {
        ...viewer,
        quizId: quiz.quizId,
        choiceIndex: input.choiceIndex,
        answeredAt: arrivedAt.toISOString(),
      };
      if (!(await this.answers.putFirst(record, quiz.tallyShards, arrivedAt)))
        throw new AlreadyAnsweredError(quiz.quizId);
      await this.countOrUndo(record, quiz.tallyShards, arrivedAt, started);
      await this.afterCounted?.(quiz, this.clock());
      return {
        type: 'answer',
        status: 'accepted',
        quizId: quiz.quizId,
        choiceIndex: input.choiceIndex,
      };
    } catch (error) {
      // Throttled before anything was stored (reading the quiz, the conditional put): nothing to undo.
      if (isThrottling(error)) throw new TryAgainError(input.quizId);
      throw error;
    }
  }

  /**
   * Counts a stored answer on the viewer's tally shard (a retry after throttling, which is per
   * partition key, moves to the next shard after a short backoff: the reveal sums them all), at
   * most COUNT_ATTEMPTS tries within COUNT_BUDGET_MS. If the tally is sealed, or DynamoDB refused
   * every try (throttling: not applied), the record is deleted again and the answer refused. If
   * the outcome is unknown (a 5xx or a network error: the ADD may have been applied), the record
   * stays, since undoing it could count twice.
   */
  private async countOrUndo(record: AnswerRecord, shards: number, arrivedAt: Date, started: number) {
    const home = shardOf(record.viewerId, shards);
    for (let attempt = 0; ; attempt++) {
      let counted: boolean;
      try {
        counted = await this.tally.add(
          record.quizId,
          (home + attempt) % shards,
          record.choiceIndex,
          arrivedAt,
        );
      } catch (error) {
        if (!wasNotApplied(error)) throw error;
        const backoff = COUNT_BACKOFF_MS * 2 ** attempt * (0.5 + Math.random() / 2);
        if (attempt + 1 < COUNT_ATTEMPTS && this.clock() - started + backoff < COUNT_BUDGET_MS) {
          await sleep(backoff);
          continue;
        }
        logger.warn('an answer could not be counted: undoing it so the viewer can send it again', {
          quizId: record.quizId,
          viewerId: record.viewerId,
          attempts: attempt + 1,
          error: error as Error,
        });
        await this.undo(record, shards);
        throw new TryAgainError(record.quizId);
      }
      if (counted) return;
      // The reveal sealed the tally first: the result is fixed without this answer.
      await this.undo(record, shards);
      throw new QuizClosedError(record.quizId);
    }
  }

  private async undo(record: AnswerRecord, shards: number) {
    try {
      await retryThrottled(() => this.answers.undo(record, shards));
    } catch (error) {
      // Both tables refused us: the answer stays stored but uncounted. Loud, with what to repair.
      logger.error('ANSWER STORED BUT NOT COUNTED: add it to the tally by hand', {
        answer: record,
        error: error as Error,
      });
      // Not TRY_AGAIN: the record is still there, so a retry would only get ALREADY_ANSWERED.
      throw new Error(`answer of ${record.viewerId} to ${record.quizId} stored but not counted`, {
        cause: error,
      });
    }
  }
}
