import { UpdateCommand, type UpdateCommandInput } from '@aws-sdk/lib-dynamodb';
import { dynamo } from '../clients/dynamodb';
import type { StoredQuiz } from '../domain/reveal';
import { conditional } from './write-outcome';

/**
 * The quiz item, shared by the stores that write parts of it (the quiz itself, and the reveal's
 * progress), so neither store calls the other.
 */

/** Answers and tally shards share this key shape: `<quizId>#<shard>`. */
export const shardKey = (quizId: string, shard: number): string => `${quizId}#${shard}`;
/** DynamoDB TTL is epoch seconds. */
export const expiryFrom = (now: Date, days: number): number =>
  Math.floor(now.getTime() / 1000) + days * 86_400;

export type QuizUpdate = Pick<
  UpdateCommandInput,
  'UpdateExpression' | 'ConditionExpression' | 'ExpressionAttributeNames' | 'ExpressionAttributeValues'
>;

/** A conditional update of one quiz item: true when applied, false when its condition failed. */
export const updateQuizIf = (table: string, quizId: string, update: QuizUpdate): Promise<boolean> =>
  conditional(dynamo.send(new UpdateCommand({ TableName: table, Key: { quizId }, ...update })));

/**
 * A stored item as the domain sees it: without the TTL attribute. A quiz stored before polls (no
 * `kind`) is a quiz, and one stored before the answer grace (no `graceSeconds`) has none.
 */
export function toQuiz(item: Record<string, unknown>): StoredQuiz {
  const { expiresAt: _expiresAt, ...quiz } = item;
  return { kind: 'quiz', graceSeconds: 0, ...quiz } as unknown as StoredQuiz;
}
