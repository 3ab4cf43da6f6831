import { DeleteCommand, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { dynamo } from '../clients/dynamodb';
import { shardOf } from '../domain/tally';
import { expiryFrom, shardKey } from './quiz-item';
import { conditional } from './write-outcome';

export interface AnswerRecord {
  readonly quizId: string;
  readonly viewerId: string;
  readonly connectionId: string;
  readonly choiceIndex: number;
  readonly answeredAt: string;
}

/**
 * The answer records: one per viewer per quiz, by key. An accepted answer costs this one
 * conditional put plus its count on the tally (TallyStore.add), and no strongly consistent read.
 */
export class AnswerStore {
  constructor(
    private readonly table: string,
    private readonly retentionDays: number,
  ) {}

  /** Returns false when this viewer already has an answer for this quiz. */
  async putFirst(answer: AnswerRecord, tallyShards: number, now: Date): Promise<boolean> {
    return conditional(
      dynamo.send(
        new PutCommand({
          TableName: this.table,
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
   * Deletes this very answer record (same arrival time and connection), so that an answer that
   * could not be counted is not left stored: the viewer can then send it again. Returns false
   * when the record is not there or is not this one.
   */
  async undo(answer: AnswerRecord, tallyShards: number): Promise<boolean> {
    return conditional(
      dynamo.send(
        new DeleteCommand({
          TableName: this.table,
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
              TableName: this.table,
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
