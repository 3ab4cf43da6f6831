/**
 * P2's baselines post from a worker thread of the bench process, which stands for a fan-out
 * container doing nothing but posting: the product's own @connections client
 * (`createManagementApi`) and per-post path (`ConnectionPoster`, JSON and retries), and the V8
 * heap Lambda gives the fan-out function's memory, as the local runtime gives the real fan-out
 * worker (`lambdaHeapLimits`). A fresh worker's JIT has
 * never seen a post, like the fan-out container of a show's first reveal.
 */
import { parentPort, type ResourceLimits, Worker, workerData } from 'node:worker_threads';
import { type AttributeValue, DynamoDBClient, ScanCommand } from '@aws-sdk/client-dynamodb';
import { createManagementApi } from '../lambda/clients/management-api';
import { ConnectionPoster } from '../lambda/services/connection-poster';

export interface PosterSetup {
  readonly managementUrl: string;
  readonly dynamoDbEndpoint: string;
  readonly table: string;
}

/** One run: every id once, tagged `run` so the receiving sockets can count it. */
export interface PosterJob {
  readonly run: string;
  /** `pool`: ids in memory, `concurrency` in flight; `promise-all`: Scan, then Promise.all. */
  readonly mode: 'pool' | 'promise-all';
  readonly ids?: readonly string[];
  readonly concurrency?: number;
}

/** What the product's poster said of each post of a run (`failed`: after its retries). */
export interface PosterCounts {
  readonly delivered: number;
  /** Answered 410: the stale records, whose sockets went away. */
  readonly gone: number;
  readonly failed: number;
}

export type PosterReply =
  | { readonly type: 'ready' }
  | ({ readonly type: 'done'; readonly run: string } & PosterCounts);

/** Every connection id in the table, as the sample pattern reads them: a plain paginated Scan. */
export async function scanConnectionIds(dynamo: DynamoDBClient, table: string): Promise<string[]> {
  const ids: string[] = [];
  let start: Record<string, AttributeValue> | undefined;
  do {
    const page = await dynamo.send(
      new ScanCommand({ TableName: table, ExclusiveStartKey: start, ProjectionExpression: 'connectionId' }),
    );
    for (const item of page.Items ?? []) ids.push(String(item.connectionId.S));
    start = page.LastEvaluatedKey;
  } while (start);
  return ids;
}

const setup = workerData as PosterSetup | undefined;
if (parentPort && setup) {
  const port = parentPort;
  // Credentials and region come from the environment the bench gives the worker.
  const api = createManagementApi(setup.managementUrl);
  const dynamo = new DynamoDBClient({ endpoint: setup.dynamoDbEndpoint });
  // The product's own per-post path (retries included), without its scan, DynamoDB or cleanup.
  const poster = new ConnectionPoster(api);
  let counts = { delivered: 0, gone: 0, failed: 0 };
  const post = async (id: string, run: string) => {
    counts[await poster.post(id, { type: 'bench', run })]++;
  };

  const jobs: Record<PosterJob['mode'], (job: PosterJob) => Promise<unknown>> = {
    pool: async ({ ids = [], concurrency = 1, run }) => {
      let next = 0;
      await Promise.all(
        Array.from({ length: concurrency }, async () => {
          for (let i = next++; i < ids.length; i = next++) await post(ids[i], run);
        }),
      );
    },
    'promise-all': async ({ run }) =>
      Promise.all((await scanConnectionIds(dynamo, setup.table)).map((id) => post(id, run))),
  };

  port.on('message', (job: PosterJob) => {
    counts = { delivered: 0, gone: 0, failed: 0 };
    void jobs[job.mode](job).then(() =>
      port.postMessage({ type: 'done', run: job.run, ...counts } satisfies PosterReply),
    );
  });
  port.postMessage({ type: 'ready' } satisfies PosterReply);
}

/** The bench's end of a poster worker. */
export class Poster {
  private waiting?: { run: string; resolve: (counts: PosterCounts) => void };

  private constructor(private readonly worker: Worker) {
    worker.on('message', (reply: PosterReply) => {
      if (reply.type === 'done' && reply.run === this.waiting?.run) this.waiting.resolve(reply);
    });
  }

  /** Starts a worker and waits until its clients exist (their creation is not timed). */
  static start(
    setup: PosterSetup,
    aws: { readonly region: string; readonly credentials: { accessKeyId: string; secretAccessKey: string } },
    resourceLimits: ResourceLimits,
  ): Promise<Poster> {
    // A worker's entry cannot be TypeScript, so it registers tsx and then loads this file.
    const worker = new Worker(`require('tsx/cjs'); require(${JSON.stringify(__filename)});`, {
      eval: true,
      workerData: setup,
      resourceLimits,
      env: {
        ...process.env,
        AWS_REGION: aws.region,
        AWS_ACCESS_KEY_ID: aws.credentials.accessKeyId,
        AWS_SECRET_ACCESS_KEY: aws.credentials.secretAccessKey,
      },
    });
    return new Promise((resolve, reject) => {
      worker.once('error', reject);
      worker.once('message', (reply: PosterReply) => {
        if (reply.type === 'ready') resolve(new Poster(worker));
      });
    });
  }

  /**
   * Resolves when every post of the job has been answered; rejects if any failed, or if the
   * number answered 410 is not `gone` (the stale records among the ids, and no live one).
   */
  run(job: PosterJob, gone = 0): Promise<PosterCounts> {
    return new Promise((resolve, reject) => {
      this.waiting = {
        run: job.run,
        resolve: (counts) =>
          counts.failed === 0 && counts.gone === gone
            ? resolve(counts)
            : reject(
                new Error(
                  `P2 ${job.run}: ${counts.failed} posts failed, ${counts.gone} answered 410 (expected ${gone})`,
                ),
              ),
      };
      this.worker.postMessage(job);
    });
  }

  async stop(): Promise<void> {
    await this.worker.terminate();
  }
}
