/**
 * `npm run bench`: measures cuecast and prints each figure beside a baseline measured in the
 * same run (these machines are noisy; an absolute time alone means little). Results go to
 * bench/results.json. BENCH_RUNS sets the P1 runs per variant (default 10);
 * BENCH_P2_CONNECTIONS the P2 audience (default 10,000); BENCH_ONLY=p1,p2,… runs a subset; BENCH_P5_CUES the P5 cues (default 10); BENCH_P6_VIEWERS the P6 audience (default 1,000); BENCH_P7_VIEWERS the P7 audience (default 400).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { launchChromium } from '../local/chromium';
import { freeBasePort } from '../local/ports';
import { type LocalRuntimeOptions, startLocalRuntime } from '../local/runtime';
import { synthesize } from '../local/synth';
import { measureColdStart } from './p1-cold-start';
import { type FanOutResult, measureFanOut } from './p2-fan-out';
import { measureAnswerPath } from './p3-answer-path';
import { measureMetadata } from './p4-metadata';
import { measureSync } from './p5-sync';
import { measurePosts } from './p6-posts';
import { measureCost } from './p7-cost';
import { printCost } from './p7-report';

const root = path.join(__dirname, '..');
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
  const runs = Number(process.env.BENCH_RUNS ?? 10);
  const audience = Number(process.env.BENCH_P2_CONNECTIONS ?? 10_000);
  const only = (process.env.BENCH_ONLY ?? 'p1,p2,p3,p4,p5,p6,p7').split(',');
  const machine = `${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}`;
  console.log(`cuecast bench on ${machine}\n`);
  console.log('synthesizing (npx cdk synth) ...');
  await synthesize(root);
  const results: Record<string, unknown> = { machine, when: new Date().toISOString() };
  const aims: Record<string, boolean> = {};

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
  }

  if (only.includes('p2')) {
    const p2: FanOutResult[] = [];
    for (const [label, latency, sample] of [
      ['(a) loopback', 0, undefined],
      ['(b) 15 ms per @connections call', 15, 1000],
    ] as const) {
      console.log(`P2 reveal fan-out ${label}: ${audience} connections, 5% stale ...`);
      const result = await measureFanOut(root, audience, latency, sample);
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
    }
    const cleaned = p2.every((r) => r.staleLeft === 0);
    const fastEnough = (p2[1]?.revealVsSequential ?? 0) >= 10;
    aims.p2 = cleaned && fastEnough && p2.every((r) => r.revealVsLimit <= 1.2 && r.firstRevealVsLimit <= 1.2);
    console.log(
      `P2 aim (within 1.2x of the limit in (a) and (b), warm and first reveal alike; stale cleaned; ` +
        `>= 10x sequential in (b)): ${verdict(aims.p2)}\n`,
    );
    results.p2 = p2;
  }

  if (only.includes('p3') || only.includes('p4')) {
    const runtime = await benchRuntime();
    try {
      if (only.includes('p3')) {
        console.log('P3 answer path: 2,000 answers, 50 in flight, client middleware counting ...');
        const p3 = await measureAnswerPath(runtime, 2000, 50);
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
        console.log('P4 metadata: 10 hosts offering 50 events/s for 10 s through the HTTP API ...');
        const p4 = await measureMetadata(runtime, 10, 5, 10);
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
  }
  if (only.includes('p5')) {
    const cues = Number(process.env.BENCH_P5_CUES ?? 10);
    console.log(`P5 sync: two viewer pages on the test stream, ${cues} cues 2.5 s apart ...`);
    const runtime = await benchRuntime({ testStream: true, webDir: undefined });
    const browser = await launchChromium();
    try {
      const p5 = await measureSync(runtime, browser, cues, 2500);
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
  }
  if (only.includes('p6')) {
    const viewers = Number(process.env.BENCH_P6_VIEWERS ?? 1000);
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
  }
  if (only.includes('p7')) {
    const viewers = Number(process.env.BENCH_P7_VIEWERS ?? 400);
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
  }
  results.aims = aims;
  fs.writeFileSync(path.join(root, 'bench', 'results.json'), `${JSON.stringify(results, null, 2)}\n`);
  console.log('written: bench/results.json');
}

main().catch((error: Error) => {
  console.error(`bench: ${error.message}`);
  process.exit(1);
});
