import { type ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { DynamoDBClient, ListTablesCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import WebSocket from 'ws';
import { ENV } from '../lambda/env-names';
import { lambdaHeapLimits } from '../local/lambda-host';
import type { LocalConfig } from '../local/runtime';
import { freeBasePort } from '../test/local/harness';
import { HostClient } from '../web/src/shared/host-client';
import { NodeSha256 } from '../web/src/shared/sha256-node';
import { Poster, scanConnectionIds } from './p2-poster';
import { median } from './stats';

/**
 * P2: reveal fan-out to a large audience through the local runtime, which runs as a child
 * process (a process may hold 20,000 file descriptors here; both ends of 10,000 sockets need
 * more). 5 % of the connection records are stale (their sockets went away without a
 * $disconnect, as happens on AWS). Baselines in the same run, over the same sockets and the
 * same mix of live and stale records, posted from a worker thread that stands for a fan-out
 * container (p2-poster.ts): a tight PostToConnection loop over ids in memory at the best
 * concurrency found (the limit), the common sample pattern (Scan, then Promise.all over every
 * id), and a sequential loop. The first reveal (cold containers) is held against the limit from
 * a fresh worker; later reveals and the warm limit run in counterbalanced pairs, and their
 * medians are compared.
 */
export interface FanOutRow {
  variant: string;
  posts: number;
  seconds: number;
  /** From the request (or the start of the loop) to the first message received. */
  firstDeliveryMs: number;
  /** CPU of every process involved (bench and runtime, all threads) per delivery. */
  cpuMsPerDelivery: number;
  /** CPU of the busiest thread, the one that posts, per delivery. */
  postingThreadMsPerDelivery: number;
  /** That thread's CPU over the run's wall time: near 1, the run was bound by that one thread. */
  postingThreadBusy: number;
  note?: string;
}

export interface FanOutResult {
  latencyMs: number;
  connections: number;
  stale: number;
  /** Warm reveals, and warm limit runs, timed in ABBA-ordered pairs. */
  warmRepeats: number;
  /** The most stale records any reveal left behind. */
  staleLeft: number;
  rows: FanOutRow[];
  /** The best number of posts in flight the probe found for the limit. */
  limitConcurrency: string;
  /** Median warm reveal (a fan-out container that has posted before) / median warm limit. */
  revealVsLimit: number;
  /** Each warm pair's reveal / limit (a pair posts to the same records), in run order: the spread behind the medians. */
  warmPairRatios: number[];
  /** The same median against one warm limit run over the live ids only: the stricter reading. */
  revealVsLiveOnlyLimit: number;
  /** A show's first reveal (a container whose JIT has never seen a post) / the limit from a fresh worker. */
  firstRevealVsLimit: number;
  /** The same first reveal against the warm limit: the stricter reading, shown beside it. */
  firstRevealVsWarmLimit: number;
  revealVsSequential: number;
  audienceIn10s: number;
}

/** The fan-out function's memory in the synthesized template: the baselines get its heap. */
function fanOutMemorySize(root: string): number {
  const template = JSON.parse(
    fs.readFileSync(path.join(root, 'cdk.out', 'Cuecast.template.json'), 'utf8'),
  ) as {
    Resources: Record<
      string,
      { Type: string; Properties?: { MemorySize?: number; Environment?: { Variables?: object } } }
    >;
  };
  const fanOut = Object.values(template.Resources).find(
    (r) =>
      r.Type === 'AWS::Lambda::Function' &&
      ENV.FAN_OUT_CONCURRENCY in (r.Properties?.Environment?.Variables ?? {}),
  );
  if (!fanOut?.Properties?.MemorySize)
    throw new Error('P2: no fan-out function with a MemorySize in cdk.out');
  return fanOut.Properties.MemorySize;
}

const ticksPerSecond = 100;
const statFields = (path: string): string[] => fs.readFileSync(path, 'utf8').split(') ')[1].split(' ');
/** User + system CPU, in ms, from a /proc stat file (of a process, or of one of its threads). */
const cpuMsOf = (fields: string[]) => ((Number(fields[11]) + Number(fields[12])) * 1000) / ticksPerSecond;

/** A process and every process under it (tsx runs the script in a child of its own). */
function processTree(root: number): number[] {
  const parentOf = new Map<number, number>();
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      parentOf.set(Number(entry), Number(statFields(`/proc/${entry}/stat`)[1]));
    } catch {
      // the process ended while we looked
    }
  }
  const tree = new Set([root]);
  for (let grew = true; grew; ) {
    grew = false;
    for (const [pid, parent] of parentOf)
      if (tree.has(parent) && !tree.has(pid)) {
        tree.add(pid);
        grew = true;
      }
  }
  return [...tree];
}

/**
 * CPU so far, in ms, of every thread of the given processes, by `pid/tid` (Linux /proc): a
 * Lambda worker, the runtime's main thread and V8's helper threads each count on their own.
 */
function threadCpus(pids: readonly number[]): Map<string, number> {
  const threads = new Map<string, number>();
  for (const pid of pids) {
    let tids: string[] = [];
    try {
      tids = fs.readdirSync(`/proc/${pid}/task`);
    } catch {
      continue; // ended
    }
    for (const tid of tids) {
      try {
        threads.set(`${pid}/${tid}`, cpuMsOf(statFields(`/proc/${pid}/task/${tid}/stat`)));
      } catch {
        // ended
      }
    }
  }
  return threads;
}

/** Posts in flight the limit is probed at, besides every id at once. */
const PROBE_CANDIDATES = [64, 128, 256, 512];

export async function measureFanOut(
  root: string,
  connections: number,
  latencyMs: number,
  sequentialSample?: number,
  warmRepeats = 5,
): Promise<FanOutResult> {
  const port = await freeBasePort();
  const child = spawn(
    process.execPath,
    [path.join(root, 'node_modules', 'tsx', 'dist', 'cli.mjs'), 'local/dev.ts', '--no-synth'],
    {
      cwd: root,
      env: {
        ...process.env,
        CUECAST_LOCAL_PORT: String(port),
        CUECAST_LOCAL_MGMT_LATENCY_MS: String(latencyMs),
        AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      },
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  try {
    await new Promise<void>((resolve, reject) => {
      let out = '';
      const onData = (d: Buffer) => {
        out += d;
        if (out.includes('ready:')) resolve();
        if (out.length > 100_000) out = out.slice(-1000);
      };
      child.stdout?.on('data', onData);
      child.on('exit', (code) => reject(new Error(`local runtime exited (${code}) before it was ready`)));
    });
    // BENCH_P2_LOG=file keeps the runtime's log (one line per invocation, with its ms).
    if (process.env.BENCH_P2_LOG)
      child.stdout?.pipe(fs.createWriteStream(process.env.BENCH_P2_LOG, { flags: 'a' }));
    else child.stdout?.resume();
    const config = JSON.parse(
      fs.readFileSync(path.join(root, '.cuecast', 'local.json'), 'utf8'),
    ) as LocalConfig;
    return await run(root, config, child, connections, latencyMs, sequentialSample, warmRepeats);
  } finally {
    child.kill('SIGTERM');
    await new Promise((resolve) => child.once('exit', resolve));
  }
}

async function run(
  root: string,
  config: LocalConfig,
  child: ChildProcess,
  total: number,
  latencyMs: number,
  sequentialSample: number | undefined,
  warmRepeats: number,
): Promise<FanOutResult> {
  const stale = Math.round(total * 0.05);
  const live = total - stale;
  let revealTag = 'reveal';
  const received = new Map<string, { count: number; last: number; first: number }>();
  const sockets: WebSocket[] = [];
  for (let i = 0; i < live; i += 250) {
    await Promise.all(
      Array.from(
        { length: Math.min(250, live - i) },
        () =>
          new Promise<void>((resolve, reject) => {
            const socket = new WebSocket(config.webSocketUrl);
            socket.on('message', (data) => {
              const message = JSON.parse(data.toString());
              const tag = message.type === 'result' ? revealTag : String(message.run ?? message.type);
              const entry = received.get(tag) ?? { count: 0, last: 0, first: Date.now() };
              entry.count++;
              entry.last = Date.now();
              received.set(tag, entry);
            });
            socket.once('open', () => resolve());
            socket.once('error', reject);
            sockets.push(socket);
          }),
      ),
    );
  }
  const dynamo = new DynamoDBClient({
    endpoint: config.dynamoDbEndpoint,
    region: config.region,
    credentials: config.credentials,
  });
  const table =
    ((await dynamo.send(new ListTablesCommand({}))).TableNames ?? []).find((t) =>
      t.includes('Connections'),
    ) ?? '';
  /**
   * Records whose sockets are gone without a $disconnect. Every variant posts to the same
   * mix, the live connections and `stale` such records (410 from @connections): a fresh batch
   * before each limit and reveal pair, since the reveal cleans its batch up.
   */
  const addStale = async (batch: string) => {
    for (let i = 0; i < stale; i++) {
      await dynamo.send(
        new PutItemCommand({
          TableName: table,
          Item: {
            connectionId: { S: `stale-${batch}-${i}` },
            viewerId: { S: `stale-${batch}-${i}` },
            expiresAt: { N: '9999999999' },
          },
        }),
      );
    }
  };
  const isStale = (id: string) => id.startsWith('stale-');
  const scanIds = () => scanConnectionIds(dynamo, table);
  /** A fresh stale batch, then every id in the table, in scan order (the stale ones interleaved). */
  const prepare = async (batch: string) => {
    await addStale(batch);
    return scanIds();
  };
  const waitFor = async (tag: string, count: number, timeoutMs: number, failure: () => unknown) => {
    const deadline = Date.now() + timeoutMs;
    while ((received.get(tag)?.count ?? 0) < count) {
      const error = failure();
      if (error) throw error;
      if (Date.now() > deadline)
        throw new Error(`${tag}: ${received.get(tag)?.count ?? 0} of ${count} delivered in ${timeoutMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    return received.get(tag)?.last ?? Date.now();
  };
  /** CPU so far of the bench (its poster workers included) and of the runtime, in total and by thread. */
  const cpu = () => {
    const pids = [process.pid, ...processTree(child.pid ?? 0)];
    let total = 0;
    for (const pid of pids) {
      try {
        total += cpuMsOf(statFields(`/proc/${pid}/stat`));
      } catch {
        // ended
      }
    }
    return { total, threads: threadCpus(pids) };
  };
  /**
   * Times `start` to the last of `deliveries` messages tagged `tag`, for every variant alike: a
   * reveal's request returns before its fan-out runs, and a baseline's run (`done`) is awaited
   * only after the clock stopped, so the 410s and deletes after the last delivery are untimed in
   * both. CPU is read at the same point: in total, and for the busiest thread, which is the one
   * that posts (the fan-out worker in a reveal, the poster worker in a baseline; scratch runs that
   * listed every thread found no other above a third of it).
   */
  const clock = async (
    tag: string,
    deliveries: number,
    start: () => Promise<{ done?: Promise<unknown> }>,
  ) => {
    const cpu0 = cpu();
    const t0 = Date.now();
    const { done = Promise.resolve() } = await start();
    const settled = done.then(
      () => undefined,
      (error: unknown) => error ?? new Error(`${tag} failed`),
    );
    let failure: unknown;
    void settled.then((error) => {
      failure = error;
    });
    const last = await waitFor(tag, deliveries, 600_000, () => failure);
    const cpu1 = cpu();
    const cpuMs = cpu1.total - cpu0.total;
    let busiestMs = 0;
    for (const [thread, ms] of cpu1.threads)
      busiestMs = Math.max(busiestMs, ms - (cpu0.threads.get(thread) ?? 0));
    const error = await settled;
    if (error) throw error;
    const seconds = (last - t0) / 1000;
    return { seconds, firstDeliveryMs: (received.get(tag)?.first ?? t0) - t0, cpuMs, busiestMs };
  };
  const rows: FanOutRow[] = [];
  const timed = async (
    variant: string,
    deliveries: number,
    start: () => Promise<{ done?: Promise<unknown> }>,
    note?: string,
  ) => {
    const { seconds, firstDeliveryMs, cpuMs, busiestMs } = await clock(variant, deliveries, start);
    rows.push({
      variant,
      posts: deliveries,
      seconds: Math.round(seconds * 100) / 100,
      firstDeliveryMs,
      cpuMsPerDelivery: Math.round((cpuMs / deliveries) * 1000) / 1000,
      postingThreadMsPerDelivery: Math.round((busiestMs / deliveries) * 1000) / 1000,
      postingThreadBusy: Math.round(busiestMs / (seconds * 10)) / 100,
      note,
    });
    return seconds;
  };

  // The product: reveal → result cue → asynchronous fan-out over 4 scan segments. A show
  // reveals many quizzes: the first runs in fan-out containers whose JIT has never seen a post,
  // the later ones in warm containers. Each reveal posts to the stale batch in the table and
  // must delete it.
  const host = new HostClient({
    apiUrl: config.httpApiUrl,
    region: config.region,
    credentials: config.credentials,
    sha256: NodeSha256 as never,
  });
  const staleLeftNow = async () => {
    let left = stale;
    for (let i = 0; i < 100 && left > 0; i++) {
      left = (await scanIds()).filter(isStale).length;
      if (left > 0) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    return left;
  };
  const timeReveal = async (variant: string) => {
    revealTag = variant;
    const quiz = await host.createQuiz({
      question: 'Bench?',
      choices: ['a', 'b'],
      correctIndex: 0,
      durationSeconds: 300,
    });
    const seconds = await timed(
      variant,
      live,
      async () => {
        await host.revealQuiz(quiz.quizId);
        return {};
      },
      `${stale} stale posted to and deleted, scan included`,
    );
    return { seconds, staleLeft: await staleLeftNow() };
  };
  await addStale('reveal-1');
  const first = await timeReveal('reveal 1 (cold container)');

  // The baselines post from worker threads that stand for a fan-out container (see p2-poster.ts),
  // to the same mix of records as a reveal, from ids in memory (read before the clock starts).
  const startPoster = () =>
    Poster.start(
      { managementUrl: config.managementUrl, dynamoDbEndpoint: config.dynamoDbEndpoint, table },
      config,
      lambdaHeapLimits(fanOutMemorySize(root)),
    );
  const poolJob = (run: string, ids: readonly string[], concurrency: number) =>
    ({ run, mode: 'pool', ids, concurrency }) as const;
  let ids = await prepare('limit-1');

  // The best concurrency, probed on the full set (as few as 1,000 ids cannot tell 1,024 in flight
  // from more), every post at once included, in a worker of its own that is thrown away after.
  // One untimed run first: otherwise the first candidate alone pays the worker's cold JIT, and
  // loses by a second or more whatever its concurrency.
  const prober = await startPoster();
  const stales = ids.filter(isStale).length;
  await clock('probe warm-up', live, async () => ({
    done: prober.run(poolJob('probe warm-up', ids, PROBE_CANDIDATES[0]), stales),
  }));
  let best = { concurrency: PROBE_CANDIDATES[0], seconds: Number.POSITIVE_INFINITY };
  for (const concurrency of [...PROBE_CANDIDATES, ids.length]) {
    const tag = `probe-${concurrency}`;
    const { seconds } = await clock(tag, live, async () => ({
      done: prober.run(poolJob(tag, ids, concurrency), stales),
    }));
    if (seconds < best.seconds) best = { concurrency, seconds };
  }
  await prober.stop();
  const bestLabel = best.concurrency === ids.length ? 'all at once' : String(best.concurrency);

  // The limit, first from a fresh worker, whose start (loading the SDK, building the client) is
  // timed as well, as the first reveal's time includes its fan-out container's start. Then warm,
  // each run followed by a warm reveal over the same records, so drift on these shared cores
  // hits both alike.
  const limitNote = `tight loop, ids in memory (${stale} stale), ${bestLabel} in flight`;
  let poster!: Poster;
  const coldLimit = await timed(
    'limit 1 (fresh worker)',
    live,
    async () => {
      poster = await startPoster();
      const job = poolJob('limit 1 (fresh worker)', ids, best.concurrency);
      return { done: poster.run(job, ids.filter(isStale).length) };
    },
    `${limitNote}, worker start included`,
  );
  const limitRun = (variant: string, list: readonly string[], note = limitNote) =>
    timed(
      variant,
      list.filter((id) => !isStale(id)).length,
      async () => ({
        done: poster.run(poolJob(variant, list, best.concurrency), list.filter(isStale).length),
      }),
      note,
    );
  const warmLimits: number[] = [];
  const warmReveals: Array<{ seconds: number; staleLeft: number }> = [];
  // Pairs in ABBA order (limit, reveal; reveal, limit; …): on these shared cores the run right
  // after an "all at once" run was often slower by a second or more, whatever it was (scratch
  // runs, see the README). Strict alternation would make every reveal pay for a limit.
  for (let i = 2; i < 2 + warmRepeats; i++) {
    if (i > 2) ids = await prepare(`limit-${i}`);
    const limit = () => limitRun(`limit ${i} (warm)`, ids).then((seconds) => warmLimits.push(seconds));
    const reveal = () => timeReveal(`reveal ${i} (warm container)`).then((r) => warmReveals.push(r));
    for (const step of i % 2 === 0 ? [limit, reveal] : [reveal, limit]) await step();
  }
  // The stricter reading, once: the limit without the stale records (it posts 5 % less).
  const liveOnly = await limitRun(
    'limit, live ids only (warm)',
    ids.filter((id) => !isStale(id)),
    `tight loop, ${bestLabel} in flight, no stale records`,
  );

  ids = await prepare('baselines');
  await timed(
    'promise-all',
    live,
    async () => ({
      done: poster.run({ run: 'promise-all', mode: 'promise-all' }, ids.filter(isStale).length),
    }),
    'Scan, then Promise.all over every id',
  );
  const sample = sequentialSample ? ids.slice(0, sequentialSample) : ids;
  const sampleLive = sample.filter((id) => !isStale(id)).length;
  const seqSeconds = await timed(
    'sequential',
    sampleLive,
    async () => ({
      done: poster.run(poolJob('sequential', sample, 1), sample.length - sampleLive),
    }),
    sequentialSample ? `${sample.length} posts, scaled linearly below` : undefined,
  );
  await poster.stop();
  const sequentialFull = seqSeconds * (ids.length / sample.length);
  if (sequentialSample)
    rows.push({
      variant: 'sequential (scaled)',
      posts: live,
      seconds: Math.round(sequentialFull * 100) / 100,
      firstDeliveryMs: rows[rows.length - 1].firstDeliveryMs,
      cpuMsPerDelivery: rows[rows.length - 1].cpuMsPerDelivery,
      postingThreadMsPerDelivery: rows[rows.length - 1].postingThreadMsPerDelivery,
      postingThreadBusy: rows[rows.length - 1].postingThreadBusy,
      note: `${sample.length} measured × ${(ids.length / sample.length).toFixed(1)}`,
    });

  const warmReveal = median(warmReveals.map((r) => r.seconds));
  const warmLimit = median(warmLimits);
  const ratio = (a: number, b: number) => Math.round((a / b) * 100) / 100;
  for (const socket of sockets) socket.terminate();
  dynamo.destroy();
  return {
    latencyMs,
    connections: total,
    stale,
    warmRepeats,
    staleLeft: Math.max(first.staleLeft, ...warmReveals.map((r) => r.staleLeft)),
    limitConcurrency: bestLabel,
    rows,
    revealVsLimit: ratio(warmReveal, warmLimit),
    warmPairRatios: warmReveals.map((r, i) => ratio(r.seconds, warmLimits[i])),
    revealVsLiveOnlyLimit: ratio(warmReveal, liveOnly),
    firstRevealVsLimit: ratio(first.seconds, coldLimit),
    firstRevealVsWarmLimit: ratio(first.seconds, warmLimit),
    revealVsSequential: Math.round((sequentialFull / warmReveal) * 10) / 10,
    // The conservative figure: the slowest reveal.
    audienceIn10s: Math.floor((live / Math.max(first.seconds, ...warmReveals.map((r) => r.seconds))) * 10),
  };
}
