/**
 * `npm run bench`: measures cuecast and prints each figure beside a baseline measured in the
 * same run (these machines are noisy; an absolute time alone means little). Results go to
 * bench/results.json. The process exits non-zero if any part crashes (a MISSED aim is a result,
 * not a crash).
 *
 * Sizes (each variable overrides the size's default):
 * - BENCH_SIZE=tiny shrinks every part (full / tiny below): a smoke test that every part P1..P7
 *   still runs (about 65 s on the 2-core machine, without the synthesis; docs/benchmarks.md).
 *   CI runs it. Its figures are too small to read and its aims may print MISSED: record only a
 *   full run's.
 * - BENCH_RUNS: P1 runs per variant (10 / 1).
 * - BENCH_P2_CONNECTIONS: P2 audience (10,000 / 200); BENCH_P2_REPEATS: P2 warm pairs (5 / 1);
 *   the sequential baseline in (b) posts to 1,000 ids (tiny: 40) and is scaled. Tiny runs (b)
 *   only: it runs every code path (a) does, and each variant boots a runtime of its own.
 * - BENCH_P3_ANSWERS: P3 answers (2,000 / 200).
 * - BENCH_P4_SECONDS: P4 duration (10 / 2).
 * - BENCH_P5_CUES: P5 cues (10 / 1); viewer B settles on its slow network for 6 s (tiny: 1 s).
 * - BENCH_P6_VIEWERS: P6 audience (1,000 / 10).
 * - BENCH_P7_VIEWERS: P7 audience (400 / 60; it needs at least 54).
 * - BENCH_ONLY=p1,p2,… runs a subset.
 * - At the tiny size P5, which mostly waits on real-time video, runs beside the other parts in a
 *   process of its own (its output follows theirs); BENCH_BESIDE=0 runs it in turn.
 * - BENCH_SYNTH=0 skips the synthesis (about 20 s here) and measures cdk.out as it is: only right
 *   after `npx cdk synth` of the same tree.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { launchChromium } from '../local/chromium';
import { freeBasePort } from '../local/ports';
import { type LocalRuntimeOptions, startLocalRuntime } from '../local/runtime';
import { synthesize } from '../local/synth';
import { runBeside } from './beside';
import { measureColdStart } from './p1-cold-start';
import { type FanOutResult, measureFanOut } from './p2-fan-out';
import { measureAnswerPath } from './p3-answer-path';
import { measureMetadata } from './p4-metadata';
import { measureSync } from './p5-sync';
import { measurePosts } from './p6-posts';
import { measureCost } from './p7-cost';
import { printCost } from './p7-report';

const root = path.join(__dirname, '..');

/** Every size the bench runs at: full (the recorded figures) and tiny (a smoke test). */
const SIZES = {
  full: {
    runs: 10,
    p2: 10_000,
    p2Repeats: 5,
    p2Sequential: 1000,
    /** Which P2 variants run: (a) loopback and (b) 15 ms per call. */
    p2Variants: ['a', 'b'],
    p3: 2000,
    p4: 10,
    p5: 10,
    p5SettleMs: 6000,
    p6: 1000,
    p7: 400,
  },
  tiny: {
    runs: 1,
    p2: 200,
    p2Repeats: 1,
    p2Sequential: 40,
    // (b) runs every code path (a) does, with the latency besides: each variant boots a runtime.
    p2Variants: ['b'],
    p3: 200,
    p4: 2,
    p5: 1,
    p5SettleMs: 1000,
    p6: 10,
    p7: 60,
  },
} as const;

/** The sizes for this run: BENCH_SIZE's defaults, each overridden by its own variable. */
function sizes() {
  const name = process.env.BENCH_SIZE || 'full';
  if (name !== 'full' && name !== 'tiny') throw new Error(`BENCH_SIZE must be full or tiny, got "${name}"`);
  const base = SIZES[name];
  const pick = (variable: string, fallback: number) => {
    const raw = process.env[variable];
    if (raw === undefined || raw === '') return fallback;
    const value = Number(raw);
    if (!Number.isInteger(value) || value < 1)
      throw new Error(`${variable} must be a positive integer, got "${raw}"`);
    return value;
  };
  return {
    name,
    runs: pick('BENCH_RUNS', base.runs),
    p2: pick('BENCH_P2_CONNECTIONS', base.p2),
    p2Repeats: pick('BENCH_P2_REPEATS', base.p2Repeats),
    p2Sequential: base.p2Sequential,
    p2Variants: base.p2Variants as readonly string[],
    p3: pick('BENCH_P3_ANSWERS', base.p3),
    p4: pick('BENCH_P4_SECONDS', base.p4),
    p5: pick('BENCH_P5_CUES', base.p5),
    p5SettleMs: base.p5SettleMs,
    p6: pick('BENCH_P6_VIEWERS', base.p6),
    p7: pick('BENCH_P7_VIEWERS', base.p7),
  };
}

const verdict = (ok: boolean) => (ok ? 'met' : 'MISSED');

/** A runtime for one part of the bench: free ports, the cdk.out synthesized first, no state file, quiet. */
const benchRuntime = async (options: LocalRuntimeOptions = {}) =>
  startLocalRuntime({
    basePort: await freeBasePort(),
    synth: false,
    stateFile: null,
    webDir: null,
    log: () => undefined,
    ...options,
  });

async function main(): Promise<void> {
  const size = sizes();
  const { runs, p2: audience } = size;
  const only = (process.env.BENCH_ONLY ?? 'p1,p2,p3,p4,p5,p6,p7').split(',');
  const machine = `${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}`;
  console.log(`cuecast bench on ${machine}, size ${size.name}\n`);
  // Each part says how long it took, so a slow part shows where the bench's time goes.
  const began = Date.now();
  let lapStart = began;
  const lap = (label: string) => {
    const now = Date.now();
    console.log(
      `[${label} took ${((now - lapStart) / 1000).toFixed(1)} s; ${Math.round((now - began) / 1000)} s in all]\n`,
    );
    lapStart = now;
  };
  if (process.env.BENCH_SYNTH === '0') {
    if (!fs.existsSync(path.join(root, 'cdk.out', 'Cuecast.template.json')))
      throw new Error('BENCH_SYNTH=0 needs a synthesized cdk.out: run `npx cdk synth` first');
    console.log('using cdk.out as it is (BENCH_SYNTH=0) ...');
  } else {
    console.log('synthesizing (npx cdk synth) ...');
    await synthesize(root);
    lap('synthesis');
  }
  const results: Record<string, unknown> = { machine, when: new Date().toISOString(), size };
  const aims: Record<string, boolean> = {};
  const p5Beside =
    size.name === 'tiny' && process.env.BENCH_BESIDE !== '0' && only.includes('p5') && only.length > 1
      ? runBeside('p5')
      : undefined;
  if (p5Beside)
    console.log('P5 runs beside the other parts, in a process of its own: its output comes last\n');

  if (only.includes('p1')) {
    console.log(`P1 cold start: ${runs} interleaved runs per variant ...`);
    const p1 = await measureColdStart(root, runs);
    console.table(
      p1.map((r) => ({
        handler: r.handler,
        'bundle KB': r.bundleKb,
        'init ms (bundle)': r.initMs,
        'init ms (unbundled baseline)': r.baselineInitMs,
        ratio: r.ratio,
      })),
    );
    aims.p1 = p1.every((r) => r.bundleKb <= 400 && r.ratio <= 0.5);
    console.log(`P1 aim (every bundle <= 400 KB and init <= 0.5x baseline): ${verdict(aims.p1)}\n`);
    results.p1 = p1;
    lap('P1');
  }

  if (only.includes('p2')) {
    const p2: FanOutResult[] = [];
    let withLatency: FanOutResult | undefined;
    for (const [variant, label, latency, sample] of [
      ['a', '(a) loopback', 0, undefined],
      ['b', '(b) 15 ms per @connections call', 15, size.p2Sequential],
    ] as const) {
      if (!size.p2Variants.includes(variant)) continue;
      console.log(`P2 reveal fan-out ${label}: ${audience} connections, 5% stale ...`);
      const result = await measureFanOut(root, audience, latency, sample, size.p2Repeats);
      console.table(result.rows);
      console.log(
        `  limit: ${result.limitConcurrency} in flight (probed on every id); ` +
          `reveal / limit: ${result.revealVsLimit}x warm (median of ${result.warmRepeats} each, in ABBA order; ` +
          `pair by pair ${Math.min(...result.warmPairRatios)}x to ${Math.max(...result.warmPairRatios)}x; ` +
          `${result.revealVsLiveOnlyLimit}x against one limit run over the live ids only); ` +
          `${result.firstRevealVsLimit}x first reveal (cold container) / limit from a fresh worker ` +
          `(${result.firstRevealVsWarmLimit}x against the warm limit); ` +
          `sequential / reveal = ${result.revealVsSequential}x; stale records left: ${result.staleLeft} of ` +
          `${result.stale}; audience one reveal reaches in 10 s: ${result.audienceIn10s}\n`,
      );
      p2.push(result);
      if (variant === 'b') withLatency = result;
    }
    const cleaned = p2.every((r) => r.staleLeft === 0);
    const fastEnough = (withLatency?.revealVsSequential ?? 0) >= 10;
    aims.p2 = cleaned && fastEnough && p2.every((r) => r.revealVsLimit <= 1.2 && r.firstRevealVsLimit <= 1.2);
    console.log(
      `P2 aim (within 1.2x of the limit in (a) and (b), warm and first reveal alike; stale cleaned; ` +
        `>= 10x sequential in (b)): ${verdict(aims.p2)}\n`,
    );
    results.p2 = p2;
    lap('P2');
  }

  if (only.includes('p3') || only.includes('p4')) {
    const runtime = await benchRuntime();
    try {
      if (only.includes('p3')) {
        console.log(`P3 answer path: ${size.p3} answers, 50 in flight, client middleware counting ...`);
        const p3 = await measureAnswerPath(runtime, size.p3, 50);
        console.table([p3]);
        aims.p3 =
          p3.accepted === p3.answers &&
          p3.writesPerAccepted <= 2 &&
          p3.consistentReads === 0 &&
          p3.maxWritesOneKey < p3.accepted &&
          p3.sealedTotalMatches;
        console.log(
          `P3 aim (<= 2 writes and 0 consistent reads per answer; no key takes every answer; the seal holds every accepted answer): ${verdict(aims.p3)}\n`,
        );
        results.p3 = p3;
      }
      if (only.includes('p4')) {
        console.log(`P4 metadata: 10 hosts offering 50 events/s for ${size.p4} s through the HTTP API ...`);
        const p4 = await measureMetadata(runtime, 10, 5, size.p4);
        console.table([p4]);
        aims.p4 =
          p4.maxPerRollingSecondAtIvs <= 5 &&
          p4.serverErrors === 0 &&
          p4.silentlyDropped === 0 &&
          p4.rateLimited === p4.rateLimitedWithRetryAfter &&
          p4.otherErrors === 0;
        console.log(
          `P4 aim (<= 5 PutMetadata per rolling second, 0 5xx, every event delivered or 429 + Retry-After): ${verdict(aims.p4)}\n`,
        );
        results.p4 = p4;
      }
    } finally {
      await runtime.stop();
    }
    lap('P3 and P4');
  }
  if (only.includes('p5') && !p5Beside) {
    const cues = size.p5;
    console.log(`P5 sync: two viewer pages on the test stream, ${cues} cues 2.5 s apart ...`);
    const runtime = await benchRuntime({ testStream: true, webDir: undefined });
    const browser = await launchChromium();
    try {
      const p5 = await measureSync(runtime, browser, cues, 2500, size.p5SettleMs);
      console.table(p5.rows);
      const { rows: _rows, ...summary } = p5;
      console.table([summary]);
      aims.p5 = p5.playerMaxSpreadMs <= 100;
      console.log(
        `P5 aim (through the player, the two pages show each cue within 100 ms of video position of each other): ${verdict(aims.p5)}\n` +
          `  through the feed (wall clock) they were up to ${p5.feedMaxSpreadMs} ms apart\n`,
      );
      results.p5 = p5;
    } finally {
      await browser.close();
      await runtime.stop();
    }
    lap('P5');
  }
  if (only.includes('p6')) {
    const viewers = size.p6;
    console.log(`P6 posts per viewer: ${viewers} viewers, every one answering, pushes v1 then v2 ...`);
    const runtime = await benchRuntime();
    try {
      const p6 = await measurePosts(runtime, root, viewers);
      console.table(p6);
      const v2 = p6.find((r) => r.pushes === 'v2');
      aims.p6 = v2 !== undefined && v2.postsPerViewer <= 1 && v2.answered === v2.viewers;
      console.log(
        `P6 aim (pushes v2, every viewer answered: <= 1.00 post per connected viewer per reveal): ${verdict(aims.p6)}\n`,
      );
      results.p6 = p6;
    } finally {
      await runtime.stop();
    }
    lap('P6');
  }
  if (only.includes('p7')) {
    const viewers = size.p7;
    console.log(
      `P7 dollars per show-hour: a show's units metered at ${viewers} viewers (80% answering), priced from bench/prices.json ...`,
    );
    const runtime = await benchRuntime();
    try {
      const p7 = await measureCost(runtime, root, viewers);
      results.p7 = { ...p7, ...printCost(p7, path.join(root, 'bench', 'prices.json')) };
    } finally {
      await runtime.stop();
    }
    lap('P7');
  }
  if (p5Beside) {
    const beside = await p5Beside;
    console.log(`---- P5, which ran beside the parts above ----\n${beside.output.trim()}\n`);
    if (beside.code !== 0 || !beside.results)
      throw new Error(`P5 failed (exit ${beside.code}): its output is above`);
    results.p5 = beside.results.p5;
    if (beside.results.aims?.p5 !== undefined) aims.p5 = beside.results.aims.p5;
    lap('the rest of P5');
  }
  results.aims = aims;
  const resultsFile = process.env.BENCH_RESULTS || path.join(root, 'bench', 'results.json');
  fs.writeFileSync(resultsFile, `${JSON.stringify(results, null, 2)}\n`);
  console.log(`written: ${path.relative(process.cwd(), resultsFile)}`);
}

main().then(
  () => process.exit(0),
  (error: Error) => {
    console.error(`bench: ${error.stack ?? error.message}`);
    process.exit(1);
  },
);
