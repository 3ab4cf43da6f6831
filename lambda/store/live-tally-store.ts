import { updateQuizIf } from './quiz-item';

/** The push window of a live poll, kept on its quiz item (docs/protocol.md §5.8). */
export class LiveTallyStore {
  constructor(private readonly quizzesTable: string) {}

  /**
   * Opens the window `[now, until)` unless one is still running: true for the one answer that
   * opened it, whose push then goes out at `until`. One conditional write per window, so at most
   * one a second, however many answers arrive.
   */
  claim(quizId: string, now: number, until: number): Promise<boolean> {
    return updateQuizIf(this.quizzesTable, quizId, {
      UpdateExpression: 'SET liveTallyUntil = :until',
      ConditionExpression:
        'attribute_exists(quizId) AND (attribute_not_exists(liveTallyUntil) OR liveTallyUntil <= :now)',
      ExpressionAttributeValues: { ':until': until, ':now': now },
    });
  }
}
