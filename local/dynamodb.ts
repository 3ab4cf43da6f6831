import type { Server } from 'node:http';
import {
  type AttributeDefinition,
  type AttributeValue,
  CreateTableCommand,
  DeleteItemCommand,
  DynamoDBClient,
  type GlobalSecondaryIndex,
  type KeySchemaElement,
  ScanCommand,
} from '@aws-sdk/client-dynamodb';
import type { CfnResource } from './assembly';
import { close, listen } from './http-util';
import type { IntrinsicResolver } from './intrinsics';

// dynalite ships no types.
// biome-ignore lint/suspicious/noExplicitAny: untyped CommonJS module
const dynalite: (options: Record<string, unknown>) => Server = require('dynalite') as any;

/** The resolved `AWS::DynamoDB::Table` properties we use. */
interface TableProperties {
  KeySchema: KeySchemaElement[];
  AttributeDefinitions: AttributeDefinition[];
  GlobalSecondaryIndexes?: GlobalSecondaryIndex[];
  TimeToLiveSpecification?: { Enabled?: boolean; AttributeName?: string };
}

interface LocalTable {
  readonly name: string;
  readonly keySchema: KeySchemaElement[];
  readonly ttlAttribute?: string;
}

/**
 * DynamoDB as dynalite, in-process and in memory, with every table of the template created
 * from its own definition. DynamoDB TTL is approximated by a sweep.
 */
export class LocalDynamoDb {
  private server?: Server;
  private sweeper?: NodeJS.Timeout;
  private tables: LocalTable[] = [];
  readonly endpoint: string;
  private client: DynamoDBClient;

  constructor(
    private readonly port: number,
    region: string,
    credentials: { accessKeyId: string; secretAccessKey: string },
  ) {
    this.endpoint = `http://127.0.0.1:${port}`;
    this.client = new DynamoDBClient({ endpoint: this.endpoint, region, credentials });
  }

  async start(resources: Record<string, CfnResource>, resolver: IntrinsicResolver): Promise<void> {
    // createTableMs 0: tables are ACTIVE at once instead of CREATING for half a second.
    this.server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
    await listen(this.server, this.port, 'DynamoDB');
    for (const [id, resource] of Object.entries(resources)) {
      if (resource.Type !== 'AWS::DynamoDB::Table') continue;
      const props = resolver.resolve(resource.Properties) as TableProperties;
      const name = resolver.resolveString({ Ref: id });
      await this.client.send(
        new CreateTableCommand({
          TableName: name,
          KeySchema: props.KeySchema,
          AttributeDefinitions: props.AttributeDefinitions,
          BillingMode: 'PAY_PER_REQUEST',
          GlobalSecondaryIndexes: props.GlobalSecondaryIndexes?.map((index) => ({
            ...index,
            ProvisionedThroughput: undefined,
          })),
        }),
      );
      const ttl = props.TimeToLiveSpecification?.Enabled
        ? props.TimeToLiveSpecification.AttributeName
        : undefined;
      this.tables.push({ name, keySchema: props.KeySchema, ttlAttribute: ttl });
    }
    this.sweeper = setInterval(() => void this.sweepExpired().catch(() => undefined), 30_000);
    this.sweeper.unref();
  }

  tableNames(): string[] {
    return this.tables.map((t) => t.name);
  }

  /** Deletes items whose TTL attribute (epoch seconds) has passed, as DynamoDB TTL eventually does. */
  async sweepExpired(nowSeconds = Math.floor(Date.now() / 1000)): Promise<number> {
    let deleted = 0;
    for (const table of this.tables) {
      if (!table.ttlAttribute) continue;
      let startKey: Record<string, AttributeValue> | undefined;
      do {
        const page = await this.client.send(
          new ScanCommand({
            TableName: table.name,
            ExclusiveStartKey: startKey,
            FilterExpression: '#ttl < :now',
            ExpressionAttributeNames: { '#ttl': table.ttlAttribute },
            ExpressionAttributeValues: { ':now': { N: String(nowSeconds) } },
          }),
        );
        for (const item of page.Items ?? []) {
          const key = Object.fromEntries(
            table.keySchema.map((k) => [k.AttributeName, item[k.AttributeName as string]]),
          );
          await this.client.send(new DeleteItemCommand({ TableName: table.name, Key: key }));
          deleted++;
        }
        startKey = page.LastEvaluatedKey;
      } while (startKey);
    }
    return deleted;
  }

  async stop(): Promise<void> {
    if (this.sweeper) clearInterval(this.sweeper);
    this.client.destroy();
    if (this.server) await close(this.server);
  }
}
