import type { ServerResponse } from 'node:http';
import type { DynamoDbRequest } from './dynamodb-faults';
import type { UsageMeter } from './usage';

const WRITE_OPERATIONS = new Set(['PutItem', 'UpdateItem', 'DeleteItem', 'BatchWriteItem']);
/** The operations that take `ReturnConsumedCapacity` in dynalite. */
const METERED = new Set([...WRITE_OPERATIONS, 'GetItem', 'BatchGetItem', 'Query', 'Scan']);

/**
 * Asks dynalite for a request's consumed capacity (`ReturnConsumedCapacity: TOTAL` when the caller
 * did not) and counts the units on the meter once the answer is written; returns the body to
 * replay. A conditional write that fails still consumes a write unit on DynamoDB; dynalite's error
 * carries none, so it counts as one (the items here are all under 1 KB).
 */
export function meterCapacity(
  meter: UsageMeter,
  request: DynamoDbRequest,
  raw: Buffer,
  res: ServerResponse,
): Buffer {
  const { operation, body } = request;
  if (!METERED.has(operation)) return raw;
  const write = WRITE_OPERATIONS.has(operation);
  const end = res.end.bind(res) as (...args: unknown[]) => ServerResponse;
  res.end = ((...args: unknown[]) => {
    const text = typeof args[0] === 'string' || Buffer.isBuffer(args[0]) ? args[0].toString() : '';
    const units = consumedUnits(text, res.statusCode, write);
    meter.capacity(write ? 0 : units, write ? units : 0);
    return end(...args);
  }) as ServerResponse['end'];
  if (body.ReturnConsumedCapacity === 'TOTAL' || body.ReturnConsumedCapacity === 'INDEXES') return raw;
  return Buffer.from(JSON.stringify({ ...body, ReturnConsumedCapacity: 'TOTAL' }));
}

/** The capacity units an answer reports (one object, or one per table for batches). */
function consumedUnits(text: string, status: number, write: boolean): number {
  let answer: { ConsumedCapacity?: unknown; __type?: string };
  try {
    answer = JSON.parse(text);
  } catch {
    return 0;
  }
  if (status !== 200)
    return write && String(answer.__type).endsWith('ConditionalCheckFailedException') ? 1 : 0;
  const consumed = answer.ConsumedCapacity;
  const list = Array.isArray(consumed) ? consumed : consumed ? [consumed] : [];
  return list.reduce((sum: number, c: { CapacityUnits?: number }) => sum + (c.CapacityUnits ?? 0), 0);
}
