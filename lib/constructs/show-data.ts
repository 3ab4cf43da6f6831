import { RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';
import { DEFAULT_TALLY_SHARDS, MAX_TALLY_SHARDS } from '../../lambda/domain/tally';
import { ENV } from '../../lambda/env-names';

/** Attribute DynamoDB TTL reads (epoch seconds) on every table that expires data. */
export const TTL_ATTRIBUTE = 'expiresAt';

export type TableAccess = 'read' | 'write' | 'readWrite';

/** Which tables a function may touch, and how. Omitted tables are neither granted nor named in its environment. */
export interface ShowDataAccess {
  readonly quizzes?: TableAccess;
  readonly answers?: TableAccess;
  readonly tally?: TableAccess;
  readonly control?: TableAccess;
  readonly connections?: TableAccess;
}

export interface ShowDataProps {
  /**
   * What `cdk destroy` does to the tables. RETAIN keeps a show's answers safe from an accidental teardown.
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
  /**
   * How many shards the tally of each quiz is spread over. Each shard takes at most 1,000
   * writes/s, so 10,000 answers/s needs at least 10. At most 100 (reveal reads them in one batch).
   * @default 32
   */
  readonly tallyShards?: number;
  /**
   * How long quizzes, answers and tallies are kept before DynamoDB TTL expires them.
   * @default 30
   */
  readonly retentionDays?: number;
}

/**
 * The show's DynamoDB tables, on demand with point-in-time recovery:
 * - `quizzes`  (quizId): one item per quiz; the result is fixed into it at reveal.
 * - `answers`  (pk = `<quizId>#<shard>`, viewerId): one item per viewer per quiz, by key.
 * - `tally`    (pk = `<quizId>#<shard>`): per-choice counters `c0..c3`, spread over shards.
 * - `control`  (pk): the show singleton (stream state, current quiz) and the metadata rate window.
 * - `connections` (connectionId): one item per open WebSocket; TTL a little over the 2 h
 *   connection limit, so records that missed `$disconnect` expire.
 */
export class ShowData extends Construct {
  readonly quizzes: dynamodb.Table;
  readonly answers: dynamodb.Table;
  readonly tally: dynamodb.Table;
  readonly control: dynamodb.Table;
  readonly connections: dynamodb.Table;
  readonly tallyShards: number;
  readonly retentionDays: number;

  constructor(scope: Construct, id: string, props: ShowDataProps = {}) {
    super(scope, id);
    this.tallyShards = props.tallyShards ?? DEFAULT_TALLY_SHARDS;
    this.retentionDays = props.retentionDays ?? 30;
    if (!Number.isInteger(this.tallyShards) || this.tallyShards < 1 || this.tallyShards > MAX_TALLY_SHARDS) {
      throw new Error(
        `ShowData: tallyShards must be an integer from 1 to ${MAX_TALLY_SHARDS}, got ${this.tallyShards}`,
      );
    }
    if (!Number.isInteger(this.retentionDays) || this.retentionDays < 1) {
      throw new Error(`ShowData: retentionDays must be a positive integer, got ${this.retentionDays}`);
    }

    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    const table = (name: string, partitionKey: string, sortKey?: string, ttl = true) =>
      new dynamodb.Table(this, name, {
        partitionKey: { name: partitionKey, type: dynamodb.AttributeType.STRING },
        sortKey: sortKey ? { name: sortKey, type: dynamodb.AttributeType.STRING } : undefined,
        billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
        pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
        encryption: dynamodb.TableEncryption.AWS_MANAGED,
        timeToLiveAttribute: ttl ? TTL_ATTRIBUTE : undefined,
        removalPolicy,
      });

    this.quizzes = table('Quizzes', 'quizId');
    this.answers = table('Answers', 'pk', 'viewerId');
    this.tally = table('Tally', 'pk');
    // The show singleton and the rate window must never expire.
    this.control = table('Control', 'pk', undefined, false);
    this.connections = table('Connections', 'connectionId');
  }

  /** Names the tables in the function's environment and grants exactly the access asked for. */
  bind(fn: lambda.Function, access: ShowDataAccess): void {
    const tables: Array<[keyof ShowDataAccess, dynamodb.Table, string]> = [
      ['quizzes', this.quizzes, ENV.QUIZZES_TABLE],
      ['answers', this.answers, ENV.ANSWERS_TABLE],
      ['tally', this.tally, ENV.TALLY_TABLE],
      ['control', this.control, ENV.CONTROL_TABLE],
      ['connections', this.connections, ENV.CONNECTIONS_TABLE],
    ];
    for (const [key, table, envName] of tables) {
      const mode = access[key];
      if (!mode) continue;
      fn.addEnvironment(envName, table.tableName);
      if (mode === 'read') table.grantReadData(fn);
      else if (mode === 'write') table.grantWriteData(fn);
      else table.grantReadWriteData(fn);
    }
    fn.addEnvironment(ENV.TALLY_SHARDS, String(this.tallyShards));
    fn.addEnvironment(ENV.DATA_RETENTION_DAYS, String(this.retentionDays));
  }
}
