import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { dynamo } from '../clients/dynamodb';
import type { Quiz, StreamState } from '../domain/quiz';
import type { StoredQuiz } from '../domain/reveal';
import { batchGetConsistent } from './batch-get';
import { toQuiz } from './quiz-item';
import { retryThrottled } from './write-outcome';

/** Table names, as the construct passes them. */
export interface ShowTables {
  readonly quizzes: string;
  readonly control: string;
}

/** The control table's singleton for the show: stream state and the current quiz. */
const SHOW_KEY = { pk: 'show' } as const;
export interface ShowRecord {
  readonly stream: StreamState;
  readonly currentQuizId?: string;
  /** The show's quizzes and polls, newest first (at most {@link RECENT_QUIZZES}). */
  readonly recentQuizIds: readonly string[];
}

/** How many of the latest quizzes the show item remembers, for the host's cockpit. */
export const RECENT_QUIZZES = 50;

/**
 * DynamoDB access for the host side: quizzes and the control items (the reveal's writes to a
 * quiz are RevealStore's).
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
    const { Attributes } = await retryThrottled(() =>
      dynamo.send(
        new UpdateCommand({
          TableName: this.tables.control,
          Key: SHOW_KEY,
          UpdateExpression:
            'SET currentQuizId = :quizId, recentQuizIds = list_append(:one, if_not_exists(recentQuizIds, :none))',
          ExpressionAttributeValues: { ':quizId': quiz.quizId, ':one': [quiz.quizId], ':none': [] },
          ReturnValues: 'UPDATED_NEW',
        }),
      ),
    );
    // Keep the list bounded: the oldest beyond the limit go. Best effort: a failure here only
    // leaves the list longer until the next quiz trims it.
    const length = (Attributes?.recentQuizIds as unknown[] | undefined)?.length ?? 0;
    if (length > RECENT_QUIZZES) {
      const stale = Array.from(
        { length: length - RECENT_QUIZZES },
        (_, i) => `recentQuizIds[${RECENT_QUIZZES + i}]`,
      );
      await dynamo
        .send(
          new UpdateCommand({
            TableName: this.tables.control,
            Key: SHOW_KEY,
            UpdateExpression: `REMOVE ${stale.join(', ')}`,
          }),
        )
        .catch(() => undefined);
    }
  }

  /**
   * Quizzes by id, strongly consistent, in the order asked; those no longer stored (past the
   * retention) are left out. At most 100 ids (one BatchGetItem).
   */
  async getQuizzes(quizIds: readonly string[]): Promise<StoredQuiz[]> {
    if (quizIds.length === 0) return [];
    if (quizIds.length > 100) throw new Error('getQuizzes: at most 100 ids');
    const keys = [...new Set(quizIds)].map((quizId) => ({ quizId }));
    const items = await batchGetConsistent(this.tables.quizzes, keys, "the show's quizzes");
    const found = new Map(items.map((item) => [String(item.quizId), toQuiz(item)]));
    return quizIds.flatMap((id) => found.get(id) ?? []);
  }

  /** Strongly consistent unless told otherwise: the viewer path must not pay for it. */
  async getQuiz(quizId: string, { consistent = true } = {}): Promise<StoredQuiz | undefined> {
    const { Item } = await dynamo.send(
      new GetCommand({ TableName: this.tables.quizzes, Key: { quizId }, ConsistentRead: consistent }),
    );
    return Item ? toQuiz(Item) : undefined;
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
      recentQuizIds: Array.isArray(Item?.recentQuizIds)
        ? Item.recentQuizIds.filter((id): id is string => typeof id === 'string').slice(0, RECENT_QUIZZES)
        : [],
    };
  }
}
