import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { GetCommand, PutCommand, UpdateCommand, type UpdateCommandInput } from '@aws-sdk/lib-dynamodb';
import { dynamo } from '../clients/dynamodb';
import type { Quiz, QuizResult, StreamState } from '../domain/quiz';
import { conditional, retryThrottled } from './write-outcome';

/** Table names, as the construct passes them. */
export interface ShowTables {
  readonly quizzes: string;
  readonly control: string;
}

/** The control table's singleton for the show: stream state and the current quiz. */
const SHOW_KEY = { pk: 'show' } as const;
/** Answers and tally shards share this key shape: `<quizId>#<shard>`. */
export const shardKey = (quizId: string, shard: number): string => `${quizId}#${shard}`;
/** DynamoDB TTL is epoch seconds. */
export const expiryFrom = (now: Date, days: number): number =>
  Math.floor(now.getTime() / 1000) + days * 86_400;

/** How often a running result fan-out segment records a heartbeat on its quiz. */
export const FAN_OUT_HEARTBEAT_MS = 2000;
/**
 * A fan-out segment that has neither finished nor beaten for this long (three missed beats) is
 * taken to have crashed, and a retried reveal dispatches it again.
 */
export const FAN_OUT_STALE_MS = 3 * FAN_OUT_HEARTBEAT_MS;

/** One scan segment of a result fan-out, as the quiz records it. */
export interface FanOutMark {
  /** When the segment was last dispatched, or last reported progress (a heartbeat). */
  readonly beatAt: string;
  /** When the segment finished; it is never sent again after this. */
  readonly doneAt?: string;
}

/**
 * How far a reveal got, stored on the quiz beside its `result` so that a retried reveal can
 * finish what a crashed one started. Absent on quizzes revealed before this was recorded.
 */
export interface RevealProgress {
  /** Until when the claimer (or the last one to take over) may still be sending the result cue. */
  readonly revealLeaseUntil?: string;
  /** When IVS accepted the result cue. Once set, the cue is never sent again. */
  readonly cueSentAt?: string;
  /** Segment number → its fan-out mark. */
  readonly fanOut?: Readonly<Record<string, FanOutMark>>;
}

export type StoredQuiz = Quiz & RevealProgress;

export interface ShowRecord {
  readonly stream: StreamState;
  readonly currentQuizId?: string;
}

/**
 * DynamoDB access for the host side: quizzes and the control items.
 * Every read the host path makes is strongly consistent: the host just wrote and expects to see it.
 */
export class ShowStore {
  constructor(private readonly tables: ShowTables) {}

  /**
   * Stores a new quiz, then makes it the current one. Two writes rather than one transaction:
   * dynalite (the local runtime) has no TransactWriteItems, and a quiz stored but not yet
   * current is harmless (the host sees an error and opens the next one). Its question cue is
   * already on air, so each write rides out throttling on its own (`retryThrottled`): retrying
   * both would repeat the put, whose condition then fails.
   */
  async createCurrentQuiz(quiz: Quiz, expiresAt: number): Promise<void> {
    await retryThrottled(() =>
      dynamo.send(
        new PutCommand({
          TableName: this.tables.quizzes,
          Item: { ...quiz, expiresAt },
          ConditionExpression: 'attribute_not_exists(quizId)',
        }),
      ),
    );
    await retryThrottled(() =>
      dynamo.send(
        new UpdateCommand({
          TableName: this.tables.control,
          Key: SHOW_KEY,
          UpdateExpression: 'SET currentQuizId = :quizId',
          ExpressionAttributeValues: { ':quizId': quiz.quizId },
        }),
      ),
    );
  }

  /** Strongly consistent unless told otherwise: the viewer path must not pay for it. */
  async getQuiz(quizId: string, { consistent = true } = {}): Promise<StoredQuiz | undefined> {
    const { Item } = await dynamo.send(
      new GetCommand({ TableName: this.tables.quizzes, Key: { quizId }, ConsistentRead: consistent }),
    );
    return Item ? toQuiz(Item) : undefined;
  }

  /**
   * Closes a quiz to answers as its reveal begins (the first close wins; later ones keep its time).
   * Answers that read it closed are refused at once; the tally seal is what makes it exact.
   */
  async closeQuiz(quizId: string, now: Date): Promise<void> {
    await retryThrottled(() =>
      this.updateQuizIf(quizId, {
        UpdateExpression: 'SET closedAt = if_not_exists(closedAt, :now)',
        ConditionExpression: 'attribute_exists(quizId)',
        ExpressionAttributeValues: { ':now': now.toISOString() },
      }),
    );
  }

  /**
   * Fixes the result of a quiz once, with a lease: until `leaseUntil` only this caller may send
   * the result cue. Returns false when another reveal got there first.
   */
  async claimReveal(quizId: string, result: QuizResult, leaseUntil: string): Promise<boolean> {
    return this.updateQuizIf(quizId, {
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
    return this.updateQuizIf(quizId, {
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
    await this.updateQuizIf(quizId, {
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
    return this.updateQuizIf(quizId, {
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
    return this.updateQuizIf(quizId, {
      UpdateExpression: 'SET fanOut.#segment.beatAt = :now',
      ConditionExpression: 'fanOut.#segment.beatAt = :stale AND attribute_not_exists(fanOut.#segment.doneAt)',
      ExpressionAttributeNames: { '#segment': String(segment) },
      ExpressionAttributeValues: { ':now': now, ':stale': staleBeat },
    });
  }

  /** A fan-out segment's heartbeat: it is still running. Returns false once it is done. */
  async beatFanOutSegment(quizId: string, segment: number, now: string): Promise<boolean> {
    return this.updateQuizIf(quizId, {
      UpdateExpression: 'SET fanOut.#segment.beatAt = :now',
      ConditionExpression:
        'attribute_exists(fanOut.#segment) AND attribute_not_exists(fanOut.#segment.doneAt)',
      ExpressionAttributeNames: { '#segment': String(segment) },
      ExpressionAttributeValues: { ':now': now },
    });
  }

  /** Marks a fan-out segment finished, with its report, so no retried reveal sends it again. */
  async finishFanOutSegment(quizId: string, segment: number, now: string, report: object): Promise<boolean> {
    return this.updateQuizIf(quizId, {
      UpdateExpression: 'SET fanOut.#segment.doneAt = :now, fanOut.#segment.report = :report',
      ConditionExpression: 'attribute_exists(fanOut.#segment)',
      ExpressionAttributeNames: { '#segment': String(segment) },
      ExpressionAttributeValues: { ':now': now, ':report': report },
    });
  }

  /** A conditional update of one quiz item: true when applied, false when its condition failed. */
  private updateQuizIf(
    quizId: string,
    update: Pick<
      UpdateCommandInput,
      'UpdateExpression' | 'ConditionExpression' | 'ExpressionAttributeNames' | 'ExpressionAttributeValues'
    >,
  ): Promise<boolean> {
    return conditional(
      dynamo.send(new UpdateCommand({ TableName: this.tables.quizzes, Key: { quizId }, ...update })),
    );
  }

  /**
   * Stores the stream state if this event is newer than the last one applied. IVS events are
   * best-effort and may arrive late or out of order. Returns whether the stored state changed.
   */
  async recordStreamState(
    stream: 'live' | 'offline',
    eventTime: string,
  ): Promise<{ applied: boolean; changed: boolean }> {
    try {
      const { Attributes } = await dynamo.send(
        new UpdateCommand({
          TableName: this.tables.control,
          Key: SHOW_KEY,
          // `stream` is a DynamoDB reserved word.
          UpdateExpression: 'SET #stream = :stream, streamChangedAt = :at',
          ConditionExpression: 'attribute_not_exists(streamChangedAt) OR streamChangedAt < :at',
          ExpressionAttributeNames: { '#stream': 'stream' },
          ExpressionAttributeValues: { ':stream': stream, ':at': eventTime },
          ReturnValues: 'UPDATED_OLD',
        }),
      );
      return { applied: true, changed: Attributes?.stream !== stream };
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return { applied: false, changed: false };
      throw error;
    }
  }

  async getShow(): Promise<ShowRecord> {
    const { Item } = await dynamo.send(
      new GetCommand({ TableName: this.tables.control, Key: SHOW_KEY, ConsistentRead: true }),
    );
    const stream = Item?.stream === 'live' || Item?.stream === 'offline' ? Item.stream : 'unknown';
    return {
      stream,
      currentQuizId: typeof Item?.currentQuizId === 'string' ? Item.currentQuizId : undefined,
    };
  }
}

function toQuiz(item: Record<string, unknown>): StoredQuiz {
  const { expiresAt: _expiresAt, ...quiz } = item;
  return quiz as unknown as StoredQuiz;
}
