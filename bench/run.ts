/**
 * `npm run bench`: measures cuecast and prints each figure beside a baseline measured in the
 * same run (these machines are noisy; an absolute time alone means little). Results go to
 * bench/results.json. BENCH_RUNS sets the P1 runs per variant (default 10).
 *
 * Done here: P1 cold start, P3 answer path, P4 metadata. Not yet: P2 reveal fan-out at 10,000
 * connections (see the README's status).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { startLocalRuntime, synthesize } from '../local/runtime';
import { freeBasePort } from '../test/local/harness';
import { measureColdStart } from './p1-cold-start';
import { measureAnswerPath } from './p3-answer-path';
import { measureMetadata } from './p4-metadata';

const root = path.join(__dirname, '..');
const verdict = (ok: boolean) => (ok ? 'met' : 'MISSED');

async function main(): Promise<void> {
  const runs = Number(process.env.BENCH_RUNS ?? 10);
  const machine = `${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}`;
  console.log(`cuecast bench on ${machine}\n`);
  console.log('synthesizing (npx cdk synth) ...');
  await synthesize(root);

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
  const p1Ok = p1.every((r) => r.bundleKb <= 400 && r.ratio <= 0.5);
  console.log(`P1 aim (every bundle <= 400 KB and init <= 0.5x baseline): ${verdict(p1Ok)}\n`);

  const runtime = await startLocalRuntime({
    basePort: await freeBasePort(6),
    synth: false,
    stateFile: null,
    webDir: null,
    log: () => undefined,
  });
  try {
    console.log('P3 answer path: 2,000 answers, 50 in flight, client middleware counting ...');
    const p3 = await measureAnswerPath(runtime, 2000, 50);
    console.table([p3]);
    const p3Ok =
      p3.accepted === p3.answers &&
      p3.writesPerAccepted <= 2 &&
      p3.consistentReads === 0 &&
      p3.maxWritesOneKey < p3.accepted;
    console.log(
      `P3 aim (<= 2 writes and 0 consistent reads per answer; no key takes every answer): ${verdict(p3Ok)}\n`,
    );

    console.log('P4 metadata: 10 hosts offering 50 events/s for 10 s through the HTTP API ...');
    const p4 = await measureMetadata(runtime, 10, 5, 10);
    console.table([p4]);
    const p4Ok =
      p4.maxPerRollingSecondAtIvs <= 5 &&
      p4.serverErrors === 0 &&
      p4.silentlyDropped === 0 &&
      p4.rateLimited === p4.rateLimitedWithRetryAfter &&
      p4.otherErrors === 0;
    console.log(
      `P4 aim (<= 5 PutMetadata per rolling second, 0 5xx, every event delivered or 429 + Retry-After): ${verdict(p4Ok)}\n`,
    );

    const results = {
      machine,
      when: new Date().toISOString(),
      p1,
      p3,
      p4,
      aims: { p1: p1Ok, p3: p3Ok, p4: p4Ok },
    };
    fs.writeFileSync(path.join(root, 'bench', 'results.json'), `${JSON.stringify(results, null, 2)}\n`);
    console.log('written: bench/results.json');
  } finally {
    await runtime.stop();
  }
}

main().catch((error: Error) => {
  console.error(`bench: ${error.message}`);
  process.exit(1);
});
