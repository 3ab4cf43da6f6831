import { GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { dynamo } from '../clients/dynamodb';
import type { RateWindow } from '../domain/rate-window';
import { conditional } from './write-outcome';

const rateKey = (channelArn: string) => ({ pk: `rate#${channelArn}` });

/** The per-channel PutMetadata window, one item in the control table, shared by every Lambda. */
export class RateWindowStore {
  constructor(private readonly controlTable: string) {}

  async readRateWindow(channelArn: string, limit: number): Promise<RateWindow> {
    const { Item } = await dynamo.send(
      new GetCommand({ TableName: this.controlTable, Key: rateKey(channelArn), ConsistentRead: true }),
    );
    if (!Item) return { seq: 0, slots: [] };
    return {
      seq: Number(Item.seq ?? 0),
      slots: Array.from({ length: limit }, (_, i) => Number(Item[`s${i}`] ?? Number.NEGATIVE_INFINITY)),
    };
  }

  /**
   * Records an admission in slot `slot` if nobody else advanced the window since we read it.
   * Returns false on a lost race; the caller reads again.
   */
  async takeRateSlot(channelArn: string, seenSeq: number, slot: number, nowMs: number): Promise<boolean> {
    return conditional(
      dynamo.send(
        new UpdateCommand({
          TableName: this.controlTable,
          Key: rateKey(channelArn),
          UpdateExpression: 'SET seq = :next, #slot = :now',
          ConditionExpression: seenSeq === 0 ? 'attribute_not_exists(seq) OR seq = :seen' : 'seq = :seen',
          ExpressionAttributeNames: { '#slot': `s${slot}` },
          ExpressionAttributeValues: { ':next': seenSeq + 1, ':seen': seenSeq, ':now': nowMs },
        }),
      ),
    );
  }
}
