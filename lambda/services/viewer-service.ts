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

/** Tries at counting a stored answer (each one is the SDK's own 4 attempts), the later ones on other shards. */
const COUNT_ROUNDS = 2;
/**
 * A second round starts only this soon after the answer arrived. Throttled SDK attempts back off
 * from 1 s, so a round can take seconds, and the undo must still fit in the 10 s the function has.
 */
const COUNT_RETRY_BUDGET_MS = 2000;

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
   * partition key, moves to the next shard: the reveal sums them all). If the tally is sealed, or
   * DynamoDB refused every try (throttling: not applied), the record is deleted again and the
   * answer refused. If the outcome is unknown (a 5xx or a network error: the ADD may have been
   * applied), the record stays, since undoing it could count twice.
   */
  private async countOrUndo(record: AnswerRecord, shards: number, arrivedAt: Date, started: number) {
    const home = shardOf(record.viewerId, shards);
    for (let round = 0; ; round++) {
      let counted: boolean;
      try {
        counted = await this.tally.add(record.quizId, (home + round) % shards, record.choiceIndex, arrivedAt);
      } catch (error) {
        if (!wasNotApplied(error)) throw error;
        const elapsed = this.clock() - started;
        if (round + 1 < COUNT_ROUNDS && elapsed < COUNT_RETRY_BUDGET_MS) {
          await sleep(50 + Math.random() * 100);
          continue;
        }
        logger.warn('an answer could not be counted: undoing it so the viewer can send it again', {
          quizId: record.quizId,
          viewerId: record.viewerId,
          rounds: round + 1,
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
