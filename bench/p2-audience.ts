import { DynamoDBClient, ListTablesCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import WebSocket from 'ws';
import type { LocalConfig } from '../local/runtime';
import { scanConnectionIds } from './p2-poster';

/** When each tagged run's messages arrived at the audience's sockets. */
interface Arrivals {
  count: number;
  first: number;
  last: number;
}

/**
 * P2's audience: live sockets that count every message by the run it belongs to (a reveal's
 * `result`, or a baseline's `run` tag), and connection records whose sockets are gone without a
 * $disconnect (410 from @connections), as happens on AWS.
 */
export class Audience {
  /** The tag a `result` message counts under: the reveal being timed. */
  revealTag = 'reveal';
  private readonly received = new Map<string, Arrivals>();
  private readonly dynamo: DynamoDBClient;

  private constructor(
    private readonly sockets: WebSocket[],
    config: LocalConfig,
    private readonly table: string,
    /** Stale records added before each limit and reveal pair, since a reveal deletes its batch. */
    readonly stale: number,
  ) {
    this.dynamo = new DynamoDBClient({
      endpoint: config.dynamoDbEndpoint,
      region: config.region,
      credentials: config.credentials,
    });
  }

  /** Opens `live` sockets, 250 at a time, and finds the connections table. */
  static async connect(config: LocalConfig, live: number, stale: number): Promise<Audience> {
    const sockets: WebSocket[] = [];
    let audience: Audience | undefined;
    const onMessage = (data: WebSocket.RawData) => audience?.record(JSON.parse(data.toString()));
    for (let i = 0; i < live; i += 250) {
      await Promise.all(
        Array.from(
          { length: Math.min(250, live - i) },
          () =>
            new Promise<void>((resolve, reject) => {
              const socket = new WebSocket(config.webSocketUrl);
              socket.on('message', onMessage);
              socket.once('open', () => resolve());
              socket.once('error', reject);
              sockets.push(socket);
            }),
        ),
      );
    }
    const lister = new DynamoDBClient({
      endpoint: config.dynamoDbEndpoint,
      region: config.region,
      credentials: config.credentials,
    });
    const tables = (await lister.send(new ListTablesCommand({}))).TableNames ?? [];
    lister.destroy();
    audience = new Audience(sockets, config, tables.find((t) => t.includes('Connections')) ?? '', stale);
    return audience;
  }

  get connectionsTable(): string {
    return this.table;
  }

  private record(message: { type?: string; run?: string }) {
    const tag = message.type === 'result' ? this.revealTag : String(message.run ?? message.type);
    const entry = this.received.get(tag) ?? { count: 0, last: 0, first: Date.now() };
    entry.count++;
    entry.last = Date.now();
    this.received.set(tag, entry);
  }

  /** When the first message tagged `tag` arrived, if any did. */
  firstArrival(tag: string): number | undefined {
    return this.received.get(tag)?.first;
  }

  /** Resolves with the arrival of the `count`-th message tagged `tag`; `failure` aborts the wait. */
  async waitFor(tag: string, count: number, timeoutMs: number, failure: () => unknown): Promise<number> {
    const deadline = Date.now() + timeoutMs;
    while ((this.received.get(tag)?.count ?? 0) < count) {
      const error = failure();
      if (error) throw error;
      if (Date.now() > deadline)
        throw new Error(
          `${tag}: ${this.received.get(tag)?.count ?? 0} of ${count} delivered in ${timeoutMs} ms`,
        );
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    return this.received.get(tag)?.last ?? Date.now();
  }

  /** Adds a batch of `stale` records: every variant posts to the same mix of live and stale. */
  async addStale(batch: string): Promise<void> {
    for (let i = 0; i < this.stale; i++) {
      await this.dynamo.send(
        new PutItemCommand({
          TableName: this.table,
          Item: {
            connectionId: { S: `stale-${batch}-${i}` },
            viewerId: { S: `stale-${batch}-${i}` },
            expiresAt: { N: '9999999999' },
          },
        }),
      );
    }
  }

  /** Every id in the table, in scan order (the stale ones interleaved). */
  scanIds(): Promise<string[]> {
    return scanConnectionIds(this.dynamo, this.table);
  }

  /** A fresh stale batch, then every id in the table. */
  async prepare(batch: string): Promise<string[]> {
    await this.addStale(batch);
    return this.scanIds();
  }

  /** Stale records still in the table once a reveal had up to 10 s to delete them. */
  async staleLeft(): Promise<number> {
    let left = this.stale;
    for (let i = 0; i < 100 && left > 0; i++) {
      left = (await this.scanIds()).filter(isStale).length;
      if (left > 0) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    return left;
  }

  close(): void {
    for (const socket of this.sockets) socket.terminate();
    this.dynamo.destroy();
  }
}

export const isStale = (id: string): boolean => id.startsWith('stale-');
