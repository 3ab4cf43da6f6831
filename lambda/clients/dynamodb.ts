import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

/** One DynamoDB document client per container; the endpoint comes from the SDK's usual settings. */
export const dynamo = DynamoDBDocumentClient.from(new DynamoDBClient({}), {
  marshallOptions: { removeUndefinedValues: true },
});

/**
 * The same, making one attempt per request: for a write whose caller retries it itself within its
 * own time budget (a tally count moves to another shard on throttling), where the SDK's backoff
 * (from 500 ms, over 3 attempts) would spend that budget on one partition.
 */
export const dynamoOnce = DynamoDBDocumentClient.from(new DynamoDBClient({ maxAttempts: 1 }), {
  marshallOptions: { removeUndefinedValues: true },
});
