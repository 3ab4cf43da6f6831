import { type ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { HostClient } from '../client/host-client';
import { NodeSha256 } from '../client/sha256-node';
import { ENV } from '../lambda/env-names';
import { lambdaHeapLimits } from '../local/lambda-host';
import { freeBasePort } from '../local/ports';
import type { LocalConfig } from '../local/runtime';
import { Audience, isStale } from './p2-audience';
import { Poster } from './p2-poster';
import { type FanOutRow, Stopwatch } from './p2-stopwatch';
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

/** The fan-out function's memory and posting concurrency in the synthesized template. */
export function fanOutSettings(root: string): { memorySize: number; concurrency: number } {
  const template = JSON.parse(
    fs.readFileSync(path.join(root, 'cdk.out', 'Cuecast.template.json'), 'utf8'),
  ) as {
    Resources: Record<
      string,
      {
        Type: string;
        Properties?: { MemorySize?: number; Environment?: { Variables?: Record<string, string> } };
      }
    >;
  };
  const fanOut = Object.values(template.Resources).find(
    (r) =>
      r.Type === 'AWS::Lambda::Function' &&
      ENV.FAN_OUT_CONCURRENCY in (r.Properties?.Environment?.Variables ?? {}),
  );
  const memorySize = fanOut?.Properties?.MemorySize;
  const concurrency = Number(fanOut?.Properties?.Environment?.Variables?.[ENV.FAN_OUT_CONCURRENCY]);
  if (!memorySize || !Number.isInteger(concurrency))
    throw new Error('no fan-out function with a MemorySize and a posting concurrency in cdk.out');
  return { memorySize, concurrency };
}

/** The fan-out function's memory in the synthesized template: the baselines get its heap. */
function fanOutMemorySize(root: string): number {
  return fanOutSettings(root).memorySize;
}

export type { FanOutRow } from './p2-stopwatch';

/** A measured row's per-delivery figures, for a row scaled from it. */
const pick = ({
  firstDeliveryMs,
  cpuMsPerDelivery,
  postingThreadMsPerDelivery,
  postingThreadBusy,
}: FanOutRow) => ({
  firstDeliveryMs,
  cpuMsPerDelivery,
  postingThreadMsPerDelivery,
  postingThreadBusy,
});

/** Posts in flight the limit is probed at, besides every id at once. */
const PROBE_CANDIDATES = [64, 128, 256, 512];

const poolJob = (run: string, ids: readonly string[], concurrency: number) =>
  ({ run, mode: 'pool', ids, concurrency }) as const;

/**
 * The best concurrency for the limit, probed on the full set (as few as 1,000 ids cannot tell
 * 1,024 in flight from more), every post at once included, in a worker of its own that is thrown
 * away after. One untimed run first: otherwise the first candidate alone pays the worker's cold
 * JIT, and loses by a second or more whatever its concurrency.
 */
async function probeLimit(
  watch: Stopwatch,
  startPoster: () => Promise<Poster>,
  ids: readonly string[],
  live: number,
): Promise<{ concurrency: number; seconds: number }> {
  const prober = await startPoster();
  const stales = ids.filter(isStale).length;
  await watch.clock('probe warm-up', live, async () => ({
    done: prober.run(poolJob('probe warm-up', ids, PROBE_CANDIDATES[0]), stales),
  }));
  let best = { concurrency: PROBE_CANDIDATES[0], seconds: Number.POSITIVE_INFINITY };
  for (const concurrency of [...PROBE_CANDIDATES, ids.length]) {
    const tag = `probe-${concurrency}`;
    const { seconds } = await watch.clock(tag, live, async () => ({
      done: prober.run(poolJob(tag, ids, concurrency), stales),
    }));
    if (seconds < best.seconds) best = { concurrency, seconds };
  }
  await prober.stop();
  return best;
}

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
  const audience = await Audience.connect(config, live, stale);
  const table = audience.connectionsTable;
  const watch = new Stopwatch(audience, child.pid ?? 0);
  const timed = watch.timed.bind(watch);

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
  const timeReveal = async (variant: string) => {
    audience.revealTag = variant;
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
        await host.revealQuiz(quiz.quizId, { force: true });
        return {};
      },
      `${stale} stale posted to and deleted, scan included`,
    );
    return { seconds, staleLeft: await audience.staleLeft() };
  };
  await audience.addStale('reveal-1');
  const first = await timeReveal('reveal 1 (cold container)');

  // The baselines post from worker threads that stand for a fan-out container (see p2-poster.ts),
  // to the same mix of records as a reveal, from ids in memory (read before the clock starts).
  const startPoster = () =>
    Poster.start(
      { managementUrl: config.managementUrl, dynamoDbEndpoint: config.dynamoDbEndpoint, table },
      config,
      lambdaHeapLimits(fanOutMemorySize(root)),
    );
  let ids = await audience.prepare('limit-1');

  const best = await probeLimit(watch, startPoster, ids, live);
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
    if (i > 2) ids = await audience.prepare(`limit-${i}`);
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

  ids = await audience.prepare('baselines');
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
    watch.rows.push({
      variant: 'sequential (scaled)',
      posts: live,
      seconds: Math.round(sequentialFull * 100) / 100,
      ...pick(watch.rows[watch.rows.length - 1]),
      note: `${sample.length} measured × ${(ids.length / sample.length).toFixed(1)}`,
    });

  const warmReveal = median(warmReveals.map((r) => r.seconds));
  const warmLimit = median(warmLimits);
  const ratio = (a: number, b: number) => Math.round((a / b) * 100) / 100;
  audience.close();
  return {
    latencyMs,
    connections: total,
    stale,
    warmRepeats,
    staleLeft: Math.max(first.staleLeft, ...warmReveals.map((r) => r.staleLeft)),
    limitConcurrency: bestLabel,
    rows: watch.rows,
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
