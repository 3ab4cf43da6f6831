import type { QuizResult } from '../domain/quiz';
import { updateQuizIf } from './quiz-item';

/**
 * The reveal's writes to a quiz item: the close, the claim of the result with its lease, the
 * cue's record, and the fan-out segment marks. Each is conditional, so that two reveals (a
 * retry, a concurrent click) never both send the result cue, and a crashed one can be taken over.
 */
export class RevealStore {
  constructor(private readonly table: string) {}

  /**
   * Closes a quiz to answers as its reveal begins (the first close wins; later ones keep its time).
   * Answers that read it closed are refused at once; the tally seal is what makes it exact.
   * Nothing irreversible happened yet, so throttling past the SDK's retries goes back to the host
   * as a 429 rather than being retried here, within the reveal function's timeout.
   */
  async closeQuiz(quizId: string, now: Date): Promise<void> {
    await updateQuizIf(this.table, quizId, {
      UpdateExpression: 'SET closedAt = if_not_exists(closedAt, :now)',
      ConditionExpression: 'attribute_exists(quizId)',
      ExpressionAttributeValues: { ':now': now.toISOString() },
    });
  }

  /**
   * Fixes the result of a quiz once, with a lease: until `leaseUntil` only this caller may send
   * the result cue. Returns false when another reveal got there first.
   */
  async claimReveal(quizId: string, result: QuizResult, leaseUntil: string): Promise<boolean> {
    return updateQuizIf(this.table, quizId, {
      UpdateExpression: 'SET #result = :result, revealLeaseUntil = :lease',
      ConditionExpression: 'attribute_exists(quizId) AND attribute_not_exists(#result)',
      ExpressionAttributeNames: { '#result': 'result' },
      ExpressionAttributeValues: { ':result': result, ':lease': leaseUntil },
    });
  }

  /**
   * Takes over a claim whose lease ran out before its cue was recorded as sent (its reveal
   * crashed or timed out). The stored figures stay; only the lease changes hands. Returns false
   * when the claim is not stale any more (its cue was recorded, or someone else took it over).
   */
  async takeOverReveal(quizId: string, staleLease: string, leaseUntil: string): Promise<boolean> {
    return updateQuizIf(this.table, quizId, {
      UpdateExpression: 'SET revealLeaseUntil = :lease',
      ConditionExpression:
        'attribute_exists(#result) AND attribute_not_exists(cueSentAt) AND revealLeaseUntil = :stale',
      ExpressionAttributeNames: { '#result': 'result' },
      ExpressionAttributeValues: { ':lease': leaseUntil, ':stale': staleLease },
    });
  }

  /**
   * Undoes our own claim when the result cue could not be sent, so the host can retry. Does
   * nothing if the claim is no longer ours or its cue was recorded as sent.
   */
  async releaseReveal(quizId: string, leaseUntil: string): Promise<void> {
    await updateQuizIf(this.table, quizId, {
      UpdateExpression: 'REMOVE #result, revealLeaseUntil',
      ConditionExpression: 'revealLeaseUntil = :lease AND attribute_not_exists(cueSentAt)',
      ExpressionAttributeNames: { '#result': 'result' },
      ExpressionAttributeValues: { ':lease': leaseUntil },
    });
  }

  /**
   * Records that IVS accepted the result cue, and marks each fan-out segment as dispatched now.
   * Returns false when the claim was no longer ours (it was taken over: our lease had run out).
   */
  async recordCueSent(
    quizId: string,
    leaseUntil: string,
    sentAt: string,
    segments: number,
  ): Promise<boolean> {
    const fanOut = Object.fromEntries(
      Array.from({ length: segments }, (_, s) => [String(s), { beatAt: sentAt }]),
    );
    return updateQuizIf(this.table, quizId, {
      UpdateExpression: 'SET cueSentAt = :sentAt, fanOut = :fanOut',
      ConditionExpression: 'revealLeaseUntil = :lease AND attribute_not_exists(cueSentAt)',
      ExpressionAttributeValues: { ':sentAt': sentAt, ':fanOut': fanOut, ':lease': leaseUntil },
    });
  }

  /**
   * Takes an unfinished fan-out segment whose last heartbeat is `staleBeat` for a new dispatch.
   * Returns false when the segment reported progress or finished meanwhile, or another reveal took it.
   */
  async reclaimFanOutSegment(
    quizId: string,
    segment: number,
    staleBeat: string,
    now: string,
  ): Promise<boolean> {
    return updateQuizIf(this.table, quizId, {
      UpdateExpression: 'SET fanOut.#segment.beatAt = :now',
      ConditionExpression: 'fanOut.#segment.beatAt = :stale AND attribute_not_exists(fanOut.#segment.doneAt)',
      ExpressionAttributeNames: { '#segment': String(segment) },
      ExpressionAttributeValues: { ':now': now, ':stale': staleBeat },
    });
  }

  /** A fan-out segment's heartbeat: it is still running. Returns false once it is done. */
  async beatFanOutSegment(quizId: string, segment: number, now: string): Promise<boolean> {
    return updateQuizIf(this.table, quizId, {
      UpdateExpression: 'SET fanOut.#segment.beatAt = :now',
      ConditionExpression:
        'attribute_exists(fanOut.#segment) AND attribute_not_exists(fanOut.#segment.doneAt)',
      ExpressionAttributeNames: { '#segment': String(segment) },
      ExpressionAttributeValues: { ':now': now },
    });
  }

  /** Marks a fan-out segment finished, with its report, so no retried reveal sends it again. */
  async finishFanOutSegment(quizId: string, segment: number, now: string, report: object): Promise<boolean> {
    return updateQuizIf(this.table, quizId, {
      UpdateExpression: 'SET fanOut.#segment.doneAt = :now, fanOut.#segment.report = :report',
      ConditionExpression: 'attribute_exists(fanOut.#segment)',
      ExpressionAttributeNames: { '#segment': String(segment) },
      ExpressionAttributeValues: { ':now': now, ':report': report },
    });
  }
}
