import { DeleteCommand, PutCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { dynamo } from '../clients/dynamodb';
import { countAttribute, shardOf } from '../domain/tally';
import { expiryFrom, shardKey } from './show-store';
import { conditional } from './write-outcome';

export interface AnswerRecord {
  readonly quizId: string;
  readonly viewerId: string;
  readonly connectionId: string;
  readonly choiceIndex: number;
  readonly answeredAt: string;
}

/**
 * Answers and their tally. An accepted answer costs exactly two write requests and no
 * strongly consistent read: a conditional put (one answer per viewer per quiz, by key) and
 * an atomic ADD on the viewer's tally shard.
 */
export class AnswerStore {
  constructor(
    private readonly tables: { readonly answers: string; readonly tally: string },
    private readonly retentionDays: number,
  ) {}

  /** Returns false when this viewer already has an answer for this quiz. */
  async putFirst(answer: AnswerRecord, tallyShards: number, now: Date): Promise<boolean> {
    return conditional(
      dynamo.send(
        new PutCommand({
          TableName: this.tables.answers,
          Item: {
            pk: shardKey(answer.quizId, shardOf(answer.viewerId, tallyShards)),
            ...answer,
            expiresAt: expiryFrom(now, this.retentionDays),
          },
          ConditionExpression: 'attribute_not_exists(viewerId)',
        }),
      ),
    );
  }

  /**
   * Adds the answer to a tally shard: the viewer's own, or the `offset`-th one after it. Reveal
   * sums every shard, so any shard counts the same; a retry after throttling (which is per
   * partition key) moves to the next one.
   */
  async count(answer: AnswerRecord, tallyShards: number, now: Date, offset = 0): Promise<void> {
    const shard = (shardOf(answer.viewerId, tallyShards) + offset) % tallyShards;
    await dynamo.send(
      new UpdateCommand({
        TableName: this.tables.tally,
        Key: { pk: shardKey(answer.quizId, shard) },
        UpdateExpression: 'ADD #count :one SET expiresAt = if_not_exists(expiresAt, :expiresAt)',
        ExpressionAttributeNames: { '#count': countAttribute(answer.choiceIndex) },
        ExpressionAttributeValues: { ':one': 1, ':expiresAt': expiryFrom(now, this.retentionDays) },
      }),
    );
  }

  /**
   * Deletes this very answer record (same arrival time and connection), so that an answer that
   * could not be counted is not left stored: the viewer can then send it again. Returns false
   * when the record is not there or is not this one.
   */
  async undo(answer: AnswerRecord, tallyShards: number): Promise<boolean> {
    return conditional(
      dynamo.send(
        new DeleteCommand({
          TableName: this.tables.answers,
          Key: {
            pk: shardKey(answer.quizId, shardOf(answer.viewerId, tallyShards)),
            viewerId: answer.viewerId,
          },
          ConditionExpression: 'answeredAt = :answeredAt AND connectionId = :connectionId',
          ExpressionAttributeValues: {
            ':answeredAt': answer.answeredAt,
            ':connectionId': answer.connectionId,
          },
        }),
      ),
    );
  }

  /** viewerId → choiceIndex for every answer of a quiz, across its shards. */
  async choicesByViewer(quizId: string, tallyShards: number): Promise<Map<string, number>> {
    const choices = new Map<string, number>();
    await Promise.all(
      Array.from({ length: tallyShards }, async (_, shard) => {
        let startKey: Record<string, unknown> | undefined;
        do {
          const page = await dynamo.send(
            new QueryCommand({
              TableName: this.tables.answers,
              KeyConditionExpression: 'pk = :pk',
              ExpressionAttributeValues: { ':pk': shardKey(quizId, shard) },
              ProjectionExpression: 'viewerId, choiceIndex',
              ExclusiveStartKey: startKey,
            }),
          );
          for (const item of page.Items ?? []) choices.set(String(item.viewerId), Number(item.choiceIndex));
          startKey = page.LastEvaluatedKey;
        } while (startKey);
      }),
    );
    return choices;
  }
}
