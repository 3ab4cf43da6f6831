import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { dynamo, dynamoOnce } from '../clients/dynamodb';
import { countAttribute, sumShards, type Tally } from '../domain/tally';
import { batchGetConsistent } from './batch-get';
import { expiryFrom, shardKey } from './quiz-item';
import { conditional } from './write-outcome';

/** Set on every shard of a quiz when its reveal fixes the counts; no answer is added after it. */
const SEALED_ATTRIBUTE = 'sealedAt';

/**
 * The sharded tally of each quiz: `<quizId>#<shard>` items holding a count per choice. Sealing is
 * the reveal's fence: a count is a conditional ADD that fails once the shard is sealed, and the
 * seal returns the shard as it is at that instant. DynamoDB applies writes to one item one at a
 * time, so every count lands either before the seal (and is in the figures the seal returned) or
 * after it (and is refused). No clock and no wait is involved.
 */
export class TallyStore {
  constructor(
    private readonly table: string,
    private readonly retentionDays: number,
  ) {}

  /**
   * Adds one answer for `choiceIndex` to `shard`, in one attempt (a throttled one throws: the
   * caller retries on another shard). Returns false when the shard is sealed: the quiz's result is
   * fixed, and this answer is not in it.
   */
  async add(quizId: string, shard: number, choiceIndex: number, now: Date): Promise<boolean> {
    return conditional(
      dynamoOnce.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { pk: shardKey(quizId, shard) },
          UpdateExpression: 'ADD #count :one SET expiresAt = if_not_exists(expiresAt, :expiresAt)',
          ConditionExpression: 'attribute_not_exists(#sealed)',
          ExpressionAttributeNames: { '#count': countAttribute(choiceIndex), '#sealed': SEALED_ATTRIBUTE },
          ExpressionAttributeValues: { ':one': 1, ':expiresAt': expiryFrom(now, this.retentionDays) },
        }),
      ),
    );
  }

  /**
   * Seals every shard of a quiz and sums them as they were when sealed: the final figures. A shard
   * no answer reached is created sealed. Idempotent: sealing again returns the same figures, since
   * nothing is added after the first seal. One write per shard; throttling past the SDK's retries
   * fails the reveal with a 429 (nothing is on air yet, and a retry seals again).
   */
  async seal(quizId: string, shards: number, choiceCount: number, now: Date): Promise<Tally> {
    const items = await Promise.all(
      Array.from({ length: shards }, async (_, shard) => {
        const { Attributes } = await dynamo.send(
          new UpdateCommand({
            TableName: this.table,
            Key: { pk: shardKey(quizId, shard) },
            UpdateExpression:
              'SET #sealed = if_not_exists(#sealed, :now), expiresAt = if_not_exists(expiresAt, :expiresAt)',
            ExpressionAttributeNames: { '#sealed': SEALED_ATTRIBUTE },
            ExpressionAttributeValues: {
              ':now': now.toISOString(),
              ':expiresAt': expiryFrom(now, this.retentionDays),
            },
            ReturnValues: 'ALL_NEW',
          }),
        );
        return Attributes ?? {};
      }),
    );
    return sumShards(items, choiceCount);
  }

  /** The live figures: every shard summed in one strongly consistent BatchGetItem (at most 100 keys). */
  async read(quizId: string, shards: number, choiceCount: number): Promise<Tally> {
    const keys = Array.from({ length: shards }, (_, shard) => ({ pk: shardKey(quizId, shard) }));
    return sumShards(await batchGetConsistent(this.table, keys, `tally of ${quizId}`), choiceCount);
  }
}
