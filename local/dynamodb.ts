import * as fs from 'node:fs';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import {
  type AttributeDefinition,
  type AttributeValue,
  CreateTableCommand,
  type CreateTableCommandInput,
  DeleteItemCommand,
  DescribeTableCommand,
  DynamoDBClient,
  type GlobalSecondaryIndex,
  type KeySchemaElement,
  type Projection,
  ScanCommand,
} from '@aws-sdk/client-dynamodb';
import type { ServiceMetrics } from './cloudwatch/service-metrics';
import {
  type DynamoDbFault,
  type DynamoDbRequest,
  describeRequest,
  sendDynamoDbError,
} from './dynamodb-faults';
import { meterCapacity } from './dynamodb-meter';
import { FaultPlan } from './faults';
import { close, listen, readBody } from './http-util';
import { SigV4Verifier, sendSignatureError } from './sigv4';
import type { UsageMeter } from './usage';

// dynalite ships no types.
// biome-ignore lint/suspicious/noExplicitAny: untyped CommonJS module
const dynalite: (options: Record<string, unknown>) => Server = require('dynalite') as any;
/** dynalite's own LevelDB binding, so a data directory is checked exactly as dynalite will open it. */
const { Level } = require(
  require.resolve('level', { paths: [path.dirname(require.resolve('dynalite'))] }),
) as {
  Level: new (location: string) => { open(): Promise<void>; close(): Promise<void> };
};

/** The resolved `AWS::DynamoDB::Table` properties we use. */
/** A table of the template: its name and the `AWS::DynamoDB::Table` properties we honour. */
export interface TemplateTable {
  readonly name: string;
  readonly KeySchema: KeySchemaElement[];
  readonly AttributeDefinitions: AttributeDefinition[];
  readonly GlobalSecondaryIndexes?: GlobalSecondaryIndex[];
  readonly TimeToLiveSpecification?: { Enabled?: boolean; AttributeName?: string };
}

type RequestListener = (req: IncomingMessage, res: ServerResponse) => void;

/** DynamoDB's own request size limit. */
const MAX_REQUEST_BYTES = 16 * 1024 * 1024;

/** A created table, as the TTL sweeper needs it. */
interface CreatedTable {
  readonly name: string;
  readonly keySchema: KeySchemaElement[];
  readonly ttlAttribute?: string;
}

/**
 * DynamoDB as dynalite, in-process, with every table of the template created from its own
 * definition: in memory, or with a data directory on disk (LevelDB), where a restart finds the
 * tables and items it left. DynamoDB TTL is approximated by a sweep.
 */
export class LocalDynamoDb {
  private server?: Server;
  private sweeper?: NodeJS.Timeout;
  private tables: CreatedTable[] = [];
  readonly endpoint: string;
  private client: DynamoDBClient;
  /** Injected faults (tests only; nothing is armed by default): matching requests get a DynamoDB error. */
  readonly faults = new FaultPlan<DynamoDbRequest, DynamoDbFault>();
  /**
   * While on, each request asks dynalite for its `ConsumedCapacity` (`ReturnConsumedCapacity:
   * TOTAL` when the caller did not) and the units go to the usage meter: `npm run bench` (P7)
   * prices a show from them. Off by default, as answers then carry a field nobody asked for.
   */
  meterCapacity = false;
  /** AWS/DynamoDB's throttle metrics of each injected throttle, for the local alarms. @default none */
  metrics?: ServiceMetrics;
  /** Requests dynalite has not answered yet: stop() waits for them before its database closes. */
  private inFlight = 0;
  private readonly verifier: SigV4Verifier;

  constructor(
    private readonly port: number,
    region: string,
    credentials: { accessKeyId: string; secretAccessKey: string },
    /** Where the tables are kept; none keeps them in memory. */
    private readonly dataDir?: string,
    /** Where request units go while {@link meterCapacity} is on. */
    private readonly meter?: UsageMeter,
  ) {
    this.endpoint = `http://127.0.0.1:${port}`;
    // A copy: the SDK marks the credentials object it is given (`$source`), and the runtime writes
    // its own into .cuecast/local.json.
    this.client = new DynamoDBClient({ endpoint: this.endpoint, region, credentials: { ...credentials } });
    this.verifier = new SigV4Verifier('dynamodb', { region, credentials });
  }

  async start(tables: readonly TemplateTable[]): Promise<void> {
    if (this.dataDir) await prepareDataDir(this.dataDir);
    // createTableMs 0: tables are ACTIVE at once instead of CREATING for half a second.
    this.server = dynalite({ path: this.dataDir, createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
    this.intercept(this.server);
    await listen(this.server, this.port, 'DynamoDB');
    for (const table of tables) {
      await this.createTable({
        TableName: table.name,
        KeySchema: table.KeySchema,
        AttributeDefinitions: table.AttributeDefinitions,
        BillingMode: 'PAY_PER_REQUEST',
        GlobalSecondaryIndexes: table.GlobalSecondaryIndexes?.map((index) => ({
          ...index,
          ProvisionedThroughput: undefined,
        })),
      });
      const ttl = table.TimeToLiveSpecification?.Enabled
        ? table.TimeToLiveSpecification.AttributeName
        : undefined;
      this.tables.push({ name: table.name, keySchema: table.KeySchema, ttlAttribute: ttl });
    }
    this.sweeper = setInterval(() => void this.sweepExpired().catch(() => undefined), 30_000);
    this.sweeper.unref();
  }

  /**
   * Creates a table. In a data directory a restart finds it there: kept as it is when its keys
   * and indexes are the template's, refused otherwise, as recreating it would drop the items
   * that the directory is there to keep; the person decides (delete the directory).
   */
  private async createTable(input: CreateTableCommandInput): Promise<void> {
    try {
      await this.client.send(new CreateTableCommand(input));
    } catch (error) {
      if (!this.dataDir || (error as Error).name !== 'ResourceInUseException') throw error;
      const { Table } = await this.client.send(new DescribeTableCommand({ TableName: input.TableName }));
      if (definitionOf(Table ?? {}) !== definitionOf(input)) {
        throw new Error(
          `table ${input.TableName} in ${this.dataDir} has another definition than the template ` +
            '(its keys or indexes changed): delete the directory to start afresh, or use another one',
        );
      }
    }
  }

  /**
   * Puts SigV4 and the fault plan in front of dynalite's own request listener, which checks no
   * signature and throws on a request its client aborts. Each request is read here once; an API
   * call (a POST) unsigned or mis-signed gets DynamoDB's own 400, one an armed fault matches
   * gets that error, and any other is replayed to dynalite unchanged (the health check, a GET,
   * carries no operation and needs no signature, as on AWS).
   */
  private intercept(server: Server): void {
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
      void readBody(req, MAX_REQUEST_BYTES)
        .then((raw) => {
          let body = raw;
          if (req.method === 'POST') {
            const verdict = this.verifier.verify(req, raw);
            if (!verdict.ok) return sendSignatureError(res, verdict, 'json');
            const metering = this.meterCapacity && this.meter;
            // Parsed once, and only when a fault rule or the meter needs it.
            const request = this.faults.active || metering ? describeRequest(req, raw) : undefined;
            const fault = request && this.faults.active ? this.faults.take(request) : undefined;
            if (request && fault) this.metrics?.dynamoDbFault(request, fault);
            if (fault) return sendDynamoDbError(res, fault);
            if (request && metering) body = meterCapacity(metering, request, raw, res);
          }
          const replay = Object.assign(Readable.from(body.length > 0 ? [body] : []), {
            headers: req.headers,
            method: req.method,
            url: req.url,
          });
          dynaliteListener(replay as unknown as IncomingMessage, res);
        })
        .catch(() => res.destroy());
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

/** What DescribeTable and CreateTable share of a table's definition. */
interface TableDefinition {
  readonly KeySchema?: KeySchemaElement[];
  readonly AttributeDefinitions?: AttributeDefinition[];
  readonly GlobalSecondaryIndexes?: ReadonlyArray<{
    IndexName?: string;
    KeySchema?: KeySchemaElement[];
    Projection?: Projection;
  }>;
}

/** Keys, key attributes and indexes of a table, in a canonical form: what items depend on. */
function definitionOf(table: TableDefinition): string {
  const byName = (a: { name?: string }, b: { name?: string }) => String(a.name).localeCompare(String(b.name));
  const keys = (schema: KeySchemaElement[] = []) => schema.map((k) => `${k.AttributeName}:${k.KeyType}`);
  return JSON.stringify({
    keys: keys(table.KeySchema),
    attributes: (table.AttributeDefinitions ?? [])
      .map((a) => ({ name: a.AttributeName, type: a.AttributeType }))
      .sort(byName),
    indexes: (table.GlobalSecondaryIndexes ?? [])
      .map((index) => ({
        name: index.IndexName,
        keys: keys(index.KeySchema),
        projection: index.Projection?.ProjectionType,
        attributes: [...(index.Projection?.NonKeyAttributes ?? [])].sort(),
      }))
      .sort(byName),
  });
}

/**
 * Checks a data directory before dynalite gets it: dynalite opens its database lazily, and a
 * failed open would crash the process on the first request. So this says in one line what is
 * wrong: a file in the way, a directory we may not write, or a database another runtime holds.
 */
async function prepareDataDir(dir: string): Promise<void> {
  if (fs.existsSync(dir) && !fs.statSync(dir).isDirectory()) {
    throw new Error(`data directory ${dir} is a file, not a directory`);
  }
  try {
    fs.mkdirSync(dir, { recursive: true });
    fs.accessSync(dir, fs.constants.W_OK);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why =
      code === 'ENOTDIR'
        ? 'a part of its path is a file'
        : code === 'EACCES' || code === 'EPERM' || code === 'EROFS'
          ? 'permission denied'
          : (error as Error).message;
    throw new Error(`data directory ${dir} cannot be created or written: ${why}`);
  }
  const database = new Level(dir);
  try {
    await database.open();
  } catch (error) {
    const cause = (error as Error & { cause?: NodeJS.ErrnoException }).cause;
    const why =
      cause?.code === 'LEVEL_LOCKED'
        ? 'another runtime (another `npm run dev`?) is using it'
        : (cause?.message ?? (error as Error).message);
    throw new Error(`data directory ${dir} cannot be opened: ${why}`);
  } finally {
    await database.close();
  }
}
