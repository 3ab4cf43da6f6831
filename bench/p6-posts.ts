import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { HostClient } from '../client/host-client';
import { NodeSha256 } from '../client/sha256-node';
import type { PushVersion } from '../client/wire';
import { lambdaHeapLimits } from '../local/lambda-host';
import type { LocalRuntime } from '../local/runtime';
import { fanOutSettings } from './p2-fan-out';
import { Poster, scanConnectionIds } from './p2-poster';
import { answerAll, close, open, until } from './viewer-sockets';

/**
 * P6: posts per connected viewer per reveal, at full participation. `viewers` WebSocket clients
 * connect (with pushes v1, then, in a second round, v2), every one answers a quiz through the
 * real answer route, and the host reveals it. Each socket counts the reveal's frames: that is
 * what @connections delivered. The time from the reveal request to the last delivery is set
 * against the same run's limit: the product's own poster (`ConnectionPoster`) posting one message
 * to each of the same connections from a worker with the fan-out's heap and concurrency, timed
 * to its last arrival at the same sockets.
 */
export interface PostsRow {
  pushes: `v${PushVersion}`;
  viewers: number;
  answered: number;
  postsPerViewer: number;
  revealToLastMs: number;
  /** One post to every viewer, as fast as the fan-out's concurrency allows. */
  limitMs: number;
  revealVsLimit: number;
}

export async function measurePosts(
  runtime: LocalRuntime,
  root: string,
  viewers: number,
): Promise<PostsRow[]> {
  const { config } = runtime;
  const host = new HostClient({
    apiUrl: config.httpApiUrl,
    region: config.region,
    credentials: config.credentials,
    sha256: NodeSha256 as unknown as ConstructorParameters<typeof HostClient>[0]['sha256'],
  });
  const table = runtime.dynamoDb.tableNames().find((t) => t.includes('Connections'));
  if (!table) throw new Error('P6: no connections table');
  const { memorySize, concurrency } = fanOutSettings(root);
  const poster = await Poster.start(
    { managementUrl: config.managementUrl, dynamoDbEndpoint: config.dynamoDbEndpoint, table },
    config,
    lambdaHeapLimits(memorySize),
  );
  const dynamo = new DynamoDBClient({
    endpoint: config.dynamoDbEndpoint,
    region: config.region,
    credentials: config.credentials,
  });
  const rows: PostsRow[] = [];
  try {
    // A first round warms the fan-out container and the poster's worker (their JIT), untimed, so
    // neither timed round pays for a first reveal; P2 measures that one on its own.
    const rounds = [
      { version: 1, count: Math.min(viewers, 200), warmUp: true },
      { version: 1, count: viewers, warmUp: false },
      { version: 2, count: viewers, warmUp: false },
    ] as const;
    for (const { version, count, warmUp } of rounds) {
      const sockets = await open(`${config.webSocketUrl}?v=${version}`, count);
      try {
        const { quizId } = await host.createQuiz({
          question: `P6 pushes v${version}`,
          choices: ['Yes', 'No'],
          correctIndex: 0,
          durationSeconds: 120,
        });
        const answered = await answerAll(sockets, quizId);
        for (const s of sockets) s.frames.length = 0;

        const start = Date.now();
        await host.revealQuiz(quizId, { force: true });
        const expected = version === 2 ? 1 : 2;
        await until(() => sockets.every((s) => s.frames.length >= expected), 120_000, 'the reveal');
        await new Promise((resolve) => setTimeout(resolve, 1000)); // anything extra would show by now
        const reveal = sockets.flatMap((s) => s.frames);
        const revealToLastMs = Math.max(...reveal.map((f) => f.at)) - start;
        const postsPerViewer = reveal.length / sockets.length;

        // The limit: one post to each of the same connections, from the product's poster.
        for (const s of sockets) s.frames.length = 0;
        const ids = await scanConnectionIds(dynamo, table);
        const limitStart = Date.now();
        // Records of the previous round's sockets may still await their $disconnect: they answer 410.
        await poster.run(
          { run: `p6-v${version}`, mode: 'pool', ids, concurrency },
          ids.length - sockets.length,
        );
        await until(() => sockets.every((s) => s.frames.length >= 1), 60_000, 'the limit run');
        const limitMs = Math.max(...sockets.flatMap((s) => s.frames.map((f) => f.at))) - limitStart;

        if (!warmUp)
          rows.push({
            pushes: `v${version}`,
            viewers: sockets.length,
            answered,
            postsPerViewer: Math.round(postsPerViewer * 100) / 100,
            revealToLastMs,
            limitMs,
            revealVsLimit: Math.round((revealToLastMs / limitMs) * 100) / 100,
          });
      } finally {
        await close(sockets);
      }
    }
  } finally {
    await poster.stop();
  }
  return rows;
}
