import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
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
import { FaultPlan } from './faults';
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

type RequestListener = (req: IncomingMessage, res: ServerResponse) => void;

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
  /** Injected faults (tests only; nothing is armed by default): matching requests get a DynamoDB error. */
  readonly faults = new FaultPlan<DynamoDbRequest, DynamoDbFault>();
  /** Requests dynalite has not answered yet: stop() waits for them before its database closes. */
  private inFlight = 0;

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
    this.interceptFaults(this.server);
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

  /**
   * Puts the fault plan in front of dynalite's own request listener. With nothing armed a
   * request goes straight through; otherwise its body is read once, checked, and either
   * answered with the fault or replayed to dynalite unchanged.
   */
  private interceptFaults(server: Server): void {
    const [dynaliteListener] = server.listeners('request') as RequestListener[];
    server.removeAllListeners('request');
    server.on('request', (req: IncomingMessage, res: ServerResponse) => {
      this.inFlight++;
      const end = res.end.bind(res) as (...args: unknown[]) => ServerResponse;
      let ended = false;
      const finish = () => {
        if (!ended) this.inFlight--;
        ended = true;
      };
      res.end = ((...args: unknown[]) => {
        finish();
        return end(...args);
      }) as ServerResponse['end'];
      res.once('close', () => {
        // A client that went away (a terminated worker) still leaves dynalite working on its
        // request; count it done once dynalite answers, or after a grace period.
        if (!ended) setTimeout(finish, 2000).unref();
      });
      if (!this.faults.active) return dynaliteListener(req, res);
      void readRequest(req).then(
        (raw) => {
          const fault = this.faults.take(describeRequest(req, raw));
          if (fault) return sendDynamoDbError(res, fault);
          const replay = Object.assign(Readable.from(raw.length > 0 ? [raw] : []), {
            headers: req.headers,
            method: req.method,
            url: req.url,
          });
          dynaliteListener(replay as unknown as IncomingMessage, res);
        },
        () => res.destroy(),
      );
    });
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

  /**
   * Closing the server closes dynalite's database, so requests still being worked on would
   * throw "Database is closed" from inside dynalite: refuse new connections, let the ones in
   * flight finish (up to 3 s), then close.
   */
  async stop(): Promise<void> {
    if (this.sweeper) clearInterval(this.sweeper);
    this.client.destroy();
    if (!this.server) return;
    const deadline = Date.now() + 3000;
    while (this.inFlight > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    await close(this.server);
  }
}

async function readRequest(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

function describeRequest(req: IncomingMessage, raw: Buffer): DynamoDbRequest {
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
function sendDynamoDbError(res: ServerResponse, fault: DynamoDbFault): void {
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
