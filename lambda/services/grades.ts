import { setTimeout as sleep } from 'node:timers/promises';
import { logger } from '../clients/logger';
import type { Quiz, QuizResult } from '../domain/quiz';
import { compareRecordsWithTally } from '../domain/tally';
import { ANSWER_SETTLE_MS } from '../domain/viewer';
import type { AnswerStore } from '../store/answer-store';

export interface SettleOptions {
  readonly now?: () => number;
  readonly sleep?: (ms: number) => Promise<unknown>;
  /** How often the records are read again while answers refused at the seal are being undone. @default 200 */
  readonly pollMs?: number;
}

/**
 * viewerId → choice for exactly the answers counted in a revealed quiz's result, for `graded`.
 * Right after the seal, answers refused by it may still have a record, deleted a moment later
 * by their own function; those viewers must not be graded. So the records are read until each
 * choice has as many as the sealed counts (then they are exactly the counted answers), for at
 * most ANSWER_SETTLE_MS after the quiz closed. Past that, a record can only be one that its
 * function could not undo (it logged ANSWER STORED BUT NOT COUNTED): grades go out as the
 * records stand, and the mismatch is logged.
 */
export async function settledChoices(
  answers: AnswerStore,
  quiz: Pick<Quiz, 'quizId' | 'tallyShards' | 'closedAt'> & { readonly result: QuizResult },
  options: SettleOptions = {},
): Promise<Map<string, number>> {
  const now = options.now ?? Date.now;
  const wait = options.sleep ?? sleep;
  const deadline = Date.parse(quiz.closedAt ?? quiz.result.revealedAt) + ANSWER_SETTLE_MS;
  for (let reads = 1; ; reads++) {
    const choices = await answers.choicesByViewer(quiz.quizId, quiz.tallyShards);
    const against = compareRecordsWithTally(choices.values(), quiz.result.counts);
    if (against.settled) {
      if (reads > 1) logger.info('answer records settled', { quizId: quiz.quizId, reads });
      return choices;
    }
    if (against.missing.some((n) => n > 0) || now() >= deadline) {
      logger.error('answer records do not match the result: grading the records as they stand', {
        quizId: quiz.quizId,
        counts: quiz.result.counts,
        ...against,
      });
      return choices;
    }
    await wait(options.pollMs ?? 200);
  }
}
