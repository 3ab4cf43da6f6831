import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import { median } from './stats';

/**
 * P1: each deployed bundle's size and init cost (a fresh `node` importing it and building its
 * clients, minus an empty `node`), against the same handler unbundled, resolving the SDK file
 * by file from node_modules as typical samples deploy it. Runs are interleaved.
 */
export interface ColdStartRow {
  handler: string;
  bundleKb: number;
  initMs: number;
  baselineInitMs: number;
  ratio: number;
}

const ENV = {
  AWS_REGION: 'us-east-1',
  AWS_ACCESS_KEY_ID: 'AKIABENCH',
  AWS_SECRET_ACCESS_KEY: 'bench',
  POWERTOOLS_LOG_LEVEL: 'SILENT',
  CUECAST_QUIZZES_TABLE: 'q',
  CUECAST_ANSWERS_TABLE: 'a',
  CUECAST_TALLY_TABLE: 't',
  CUECAST_CONTROL_TABLE: 'c',
  CUECAST_CONNECTIONS_TABLE: 'n',
  CUECAST_CHANNEL_ARN: 'arn:aws:ivs:us-east-1:000000000000:channel/bench',
  CUECAST_CALLBACK_URL: 'https://example.execute-api.us-east-1.amazonaws.com/live',
  CUECAST_FAN_OUT_FUNCTION: 'bench-fan-out',
};

/** Wall time of one fresh node process running `code`, in ms. */
function timeNode(code: string, cwd: string): number {
  const started = process.hrtime.bigint();
  const out = spawnSync(process.execPath, ['--input-type=module', '-e', code], {
    cwd,
    env: { ...process.env, ...ENV },
    encoding: 'utf8',
  });
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  if (out.status !== 0) throw new Error(`node failed: ${out.stderr.slice(0, 400)}`);
  return ms;
}

/** The handler source a bundle was built from, read from its source map. */
function entryOf(bundle: string): string | undefined {
  const map = JSON.parse(fs.readFileSync(`${bundle}.map`, 'utf8')) as { sources: string[] };
  return map.sources
    .map((s) => path.basename(s))
    .find((s) => /^[a-z-]+\.ts$/.test(s) && map.sources.some((x) => x.includes(`handlers/${s}`)));
}

export async function measureColdStart(root: string, runs: number): Promise<ColdStartRow[]> {
  const outDir = path.join(root, 'cdk.out');
  const template = JSON.parse(fs.readFileSync(path.join(outDir, 'Cuecast.template.json'), 'utf8'));
  const work = path.join(root, 'bench', '.work');
  fs.mkdirSync(work, { recursive: true });
  const targets: Array<{ handler: string; bundle: string; unbundled: string }> = [];
  const resources = template.Resources as Record<
    string,
    { Type: string; Properties: { Runtime?: string; Code: { S3Key: string } } }
  >;
  for (const [logicalId, resource] of Object.entries(resources)) {
    if (resource.Type !== 'AWS::Lambda::Function') continue;
    // The stack's own functions only: CDK adds others of its own (BucketDeployment's is Python).
    if (!String(resource.Properties.Runtime ?? '').startsWith('nodejs')) continue;
    const bundle = path.join(
      outDir,
      `asset.${String(resource.Properties.Code.S3Key).replace(/\.zip$/, '')}`,
      'index.mjs',
    );
    if (!fs.existsSync(`${bundle}.map`))
      throw new Error(
        `${logicalId} (${resource.Properties.Runtime}): no bundle with a source map at ${bundle}`,
      );
    const entry = entryOf(bundle);
    if (!entry) throw new Error(`cannot tell which handler ${bundle} was built from`);
    // Baseline: our code compiled, every package left to node_modules (resolved file by file).
    const unbundled = path.join(work, entry.replace(/\.ts$/, '.cjs'));
    await build({
      entryPoints: [path.join(root, 'lambda', 'handlers', entry)],
      bundle: true,
      packages: 'external',
      platform: 'node',
      format: 'cjs',
      target: 'node24',
      outfile: unbundled,
      logLevel: 'silent',
    });
    targets.push({ handler: entry.replace(/\.ts$/, ''), bundle, unbundled });
  }
  if (targets.length === 0) throw new Error(`no Node.js function in ${outDir}/Cuecast.template.json`);

  const load = (file: string) => `await import(${JSON.stringify(pathToFileURL(file).href)});`;
  const empty: number[] = [];
  const times = new Map(
    targets.map((t) => [t.handler, { bundled: [] as number[], unbundled: [] as number[] }]),
  );
  for (let run = 0; run < runs; run++) {
    for (const target of targets) {
      empty.push(timeNode('', root));
      times.get(target.handler)?.bundled.push(timeNode(load(target.bundle), root));
      times.get(target.handler)?.unbundled.push(timeNode(load(target.unbundled), root));
    }
  }
  const base = median(empty);
  return targets.map((t) => {
    const m = times.get(t.handler) ?? { bundled: [], unbundled: [] };
    const initMs = median(m.bundled) - base;
    const baselineInitMs = median(m.unbundled) - base;
    return {
      handler: t.handler,
      bundleKb: Math.round(fs.statSync(t.bundle).size / 102.4) / 10,
      initMs: Math.round(initMs * 10) / 10,
      baselineInitMs: Math.round(baselineInitMs * 10) / 10,
      ratio: Math.round((initMs / baselineInitMs) * 100) / 100,
    };
  });
}
