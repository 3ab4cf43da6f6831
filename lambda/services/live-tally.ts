import { logger } from '../clients/logger';
import type { Quiz } from '../domain/quiz';
import { liveTallyWindow } from '../domain/tally';
import type { LiveTallyStore } from '../store/live-tally-store';
import type { FanOutDispatcher } from './fan-out-dispatcher';

/**
 * A live poll's running counts (docs/protocol.md §5.8): the first answer counted after a window
 * ended opens the next one and schedules its push, a `tally` fan-out that reads the counts when
 * the window ends, so every answer of the window is in it and each viewer gets at most one a
 * second. Best-effort: the answer is already accepted, and the reveal's result is what counts.
 */
export class LiveTally {
  constructor(
    private readonly store: LiveTallyStore,
    private readonly dispatcher: Pick<FanOutDispatcher, 'dispatch'>,
  ) {}

  async afterCounted(quiz: Quiz, now: number): Promise<void> {
    const until = liveTallyWindow(quiz, now);
    if (until === undefined) return;
    try {
      if (!(await this.store.claim(quiz.quizId, now, until))) return;
      const failed = await this.dispatcher.dispatch({ kind: 'tally', quizId: quiz.quizId, sendAt: until });
      if (failed > 0)
        logger.warn('live tally: some segments not dispatched', { quizId: quiz.quizId, failed });
    } catch (error) {
      logger.warn('live tally: could not open a push window', { quizId: quiz.quizId, error: error as Error });
    }
  }
}
