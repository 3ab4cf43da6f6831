import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

/** What a part run in a process of its own printed, and the results it wrote. */
export interface BesideRun {
  readonly output: string;
  readonly code: number | null;
  readonly results?: { aims?: Record<string, boolean> } & Record<string, unknown>;
}

/** Runs this bench for `part` alone in a child process (cdk.out as it is), writing its results apart. */
export function runBeside(part: string): Promise<BesideRun> {
  const resultsFile = path.join(os.tmpdir(), `cuecast-bench-${part}-${process.pid}.json`);
  const tsx = path.join(path.dirname(require.resolve('tsx/package.json')), 'dist', 'cli.mjs');
  const child = spawn(process.execPath, [tsx, path.join(__dirname, 'run.ts')], {
    env: {
      ...process.env,
      BENCH_ONLY: part,
      BENCH_SYNTH: '0',
      BENCH_BESIDE: '0',
      BENCH_RESULTS: resultsFile,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (d) => (output += d));
  child.stderr.on('data', (d) => (output += d));
  return new Promise((resolve) => {
    child.on('error', (error) => resolve({ output: `${output}\n${error.message}`, code: null }));
    child.on('close', (code) => {
      let results: BesideRun['results'];
      try {
        results = JSON.parse(fs.readFileSync(resultsFile, 'utf8'));
        fs.rmSync(resultsFile, { force: true });
      } catch {
        // it crashed before writing them: its output says why
      }
      resolve({ output, code, results });
    });
  });
}
