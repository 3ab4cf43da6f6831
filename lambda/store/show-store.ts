import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { BatchGetCommand, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { dynamo } from '../clients/dynamodb';
import type { Quiz, QuizResult, StreamState } from '../domain/quiz';
import { sumShards, type Tally } from '../domain/tally';

/** Table names, as the construct passes them. */
export interface ShowTables {
  readonly quizzes: string;
  readonly tally: string;
  readonly control: string;
}

/** The control table's singleton for the show: stream state and the current quiz. */
const SHOW_KEY = { pk: 'show' } as const;
/** Answers and tally shards share this key shape: `<quizId>#<shard>`. */
export const shardKey = (quizId: string, shard: number): string => `${quizId}#${shard}`;
/** DynamoDB TTL is epoch seconds. */
export const expiryFrom = (now: Date, days: number): number =>
  Math.floor(now.getTime() / 1000) + days * 86_400;

const BATCH_GET_ATTEMPTS = 5;

export interface ShowRecord {
  readonly stream: StreamState;
  readonly currentQuizId?: string;
}

/**
 * DynamoDB access for the host side: quizzes, the tally shards and the control items.
 * Every read the host path makes is strongly consistent: the host just wrote and expects to see it.
 */
export class ShowStore {
  constructor(private readonly tables: ShowTables) {}

  /**
   * Stores a new quiz, then makes it the current one. Two writes rather than one transaction:
   * dynalite (the local runtime) has no TransactWriteItems, and a quiz stored but not yet
   * current is harmless (the host sees a 500 and opens the next one).
   */
  async createCurrentQuiz(quiz: Quiz, expiresAt: number): Promise<void> {
    await dynamo.send(
      new PutCommand({
        TableName: this.tables.quizzes,
        Item: { ...quiz, expiresAt },
        ConditionExpression: 'attribute_not_exists(quizId)',
      }),
    );
    await dynamo.send(
      new UpdateCommand({
        TableName: this.tables.control,
        Key: SHOW_KEY,
        UpdateExpression: 'SET currentQuizId = :quizId',
        ExpressionAttributeValues: { ':quizId': quiz.quizId },
      }),
    );
  }

  /** Strongly consistent unless told otherwise: the viewer path must not pay for it. */
  async getQuiz(quizId: string, { consistent = true } = {}): Promise<Quiz | undefined> {
    const { Item } = await dynamo.send(
      new GetCommand({ TableName: this.tables.quizzes, Key: { quizId }, ConsistentRead: consistent }),
    );
    return Item ? toQuiz(Item) : undefined;
  }

  /**
   * Fixes the result of a quiz once. Returns false when another reveal got there first, so
   * exactly one caller sends the result cue.
   */
  async claimReveal(quizId: string, result: QuizResult): Promise<boolean> {
    try {
      await dynamo.send(
        new UpdateCommand({
          TableName: this.tables.quizzes,
          Key: { quizId },
          UpdateExpression: 'SET #result = :result',
          ConditionExpression: 'attribute_exists(quizId) AND attribute_not_exists(#result)',
          ExpressionAttributeNames: { '#result': 'result' },
          ExpressionAttributeValues: { ':result': result },
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }

  /** Undoes our own claim when the result cue could not be sent, so the host can retry. */
  async releaseReveal(quizId: string, revealedAt: string): Promise<void> {
    try {
      await dynamo.send(
        new UpdateCommand({
          TableName: this.tables.quizzes,
          Key: { quizId },
          UpdateExpression: 'REMOVE #result',
          ConditionExpression: '#result.revealedAt = :revealedAt',
          ExpressionAttributeNames: { '#result': 'result' },
          ExpressionAttributeValues: { ':revealedAt': revealedAt },
        }),
      );
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    }
  }

  /** Sums every tally shard of a quiz in one BatchGetItem (at most 100 keys). */
  async readTally(quizId: string, shards: number, choiceCount: number): Promise<Tally> {
    let keys: Record<string, unknown>[] = Array.from({ length: shards }, (_, shard) => ({
      pk: shardKey(quizId, shard),
    }));
    const items: Record<string, unknown>[] = [];
    for (let attempt = 0; keys.length > 0; attempt++) {
      if (attempt === BATCH_GET_ATTEMPTS)
        throw new Error(`tally of ${quizId}: ${keys.length} shards left unread`);
      if (attempt > 0) await sleep(25 * 2 ** attempt);
      const out = await dynamo.send(
        new BatchGetCommand({ RequestItems: { [this.tables.tally]: { Keys: keys, ConsistentRead: true } } }),
      );
      items.push(...(out.Responses?.[this.tables.tally] ?? []));
      keys = out.UnprocessedKeys?.[this.tables.tally]?.Keys ?? [];
    }
    return sumShards(items, choiceCount);
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

function toQuiz(item: Record<string, unknown>): Quiz {
  const { expiresAt: _expiresAt, ...quiz } = item;
  return quiz as unknown as Quiz;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
