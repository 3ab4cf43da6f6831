import { setTimeout as sleep } from 'node:timers/promises';
import { BatchGetCommand } from '@aws-sdk/lib-dynamodb';
import { dynamo } from '../clients/dynamodb';

/** Reads of one batch, the first included, before the keys DynamoDB keeps leaving are an error. */
const BATCH_GET_ATTEMPTS = 5;

/**
 * Every item of `keys` (at most 100) in `table` that exists, strongly consistent, in one
 * BatchGetItem. Keys DynamoDB leaves unprocessed are asked for again, with backoff, up to
 * {@link BATCH_GET_ATTEMPTS} reads in all; `what` names the read in the error after that.
 */
export async function batchGetConsistent(
  table: string,
  keys: readonly Record<string, unknown>[],
  what: string,
): Promise<Record<string, unknown>[]> {
  const items: Record<string, unknown>[] = [];
  let left = [...keys];
  for (let attempt = 0; left.length > 0; attempt++) {
    if (attempt === BATCH_GET_ATTEMPTS) throw new Error(`${what}: ${left.length} keys left unread`);
    if (attempt > 0) await sleep(25 * 2 ** attempt);
    const out = await dynamo.send(
      new BatchGetCommand({ RequestItems: { [table]: { Keys: left, ConsistentRead: true } } }),
    );
    items.push(...(out.Responses?.[table] ?? []));
    left = out.UnprocessedKeys?.[table]?.Keys ?? [];
  }
  return items;
}
