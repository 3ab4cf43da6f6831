import type { IncomingMessage, ServerResponse } from 'node:http';

/**
 * The DynamoDB stand-in's view of a request, for the fault rules and the capacity meter, and
 * the answer an injected fault gets.
 */

/** A DynamoDB request, as fault rules see it. */
export interface DynamoDbRequest {
  /** e.g. `UpdateItem`, from the `X-Amz-Target` header. */
  readonly operation: string;
  /** The tables it touches: `TableName`, or the keys of `RequestItems` for batch operations. */
  readonly tables: readonly string[];
  /** The parsed JSON body (attribute values in DynamoDB JSON). */
  readonly body: Record<string, unknown>;
}

/** The error an injected fault answers with, in DynamoDB's own error shape. */
export type DynamoDbFault =
  | 'ProvisionedThroughputExceededException'
  | 'ThrottlingException'
  | 'RequestLimitExceeded'
  | 'InternalServerError';

/** The operation, tables and body of a request to DynamoDB's JSON API. */
export function describeRequest(req: IncomingMessage, raw: Buffer): DynamoDbRequest {
  let body: Record<string, unknown> = {};
  try {
    const parsed = JSON.parse(raw.toString('utf8') || '{}');
    if (parsed && typeof parsed === 'object') body = parsed;
  } catch {
    // dynalite answers the malformed body itself
  }
  const target = String(req.headers['x-amz-target'] ?? '');
  const tables =
    typeof body.TableName === 'string'
      ? [body.TableName]
      : Object.keys((body.RequestItems as Record<string, unknown> | undefined) ?? {});
  return { operation: target.split('.')[1] ?? '', tables, body };
}

/** DynamoDB's JSON error shape: throttling is a 400 the SDK classifies (and retries) by `__type`. */
export function sendDynamoDbError(res: ServerResponse, fault: DynamoDbFault): void {
  const status = fault === 'InternalServerError' ? 500 : 400;
  const body = JSON.stringify({
    __type: `com.amazonaws.dynamodb.v20120810#${fault}`,
    message:
      fault === 'InternalServerError'
        ? 'Internal server error (injected fault)'
        : 'The level of configured provisioned throughput for the table was exceeded (injected fault)',
  });
  res.writeHead(status, {
    'content-type': 'application/x-amz-json-1.0',
    'content-length': Buffer.byteLength(body),
  });
  res.end(body);
}
