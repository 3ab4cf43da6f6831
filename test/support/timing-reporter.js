/**
 * A jest reporter: after the run, the slowest test files and tests, and for each file the time its
 * worker computed (CPU) against the time it waited. Written to test-output/timing.txt (and every
 * file to timing.json) and, with CUECAST_TIMING=1 (or in CI), printed too. The CPU figures come
 * from test/support/timing-setup.ts.
 */
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const TOP = 15;

class TimingReporter {
  constructor(globalConfig) {
    this.rootDir = globalConfig.rootDir;
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cuecast-timing-'));
    // Workers are forked after reporters are made, so they inherit this.
    process.env.CUECAST_TIMING_DIR = this.dir;
    this.started = Date.now();
  }

  onRunComplete(_contexts, results) {
    const cpu = new Map();
    const leaks = [];
    for (const name of fs.existsSync(this.dir) ? fs.readdirSync(this.dir) : []) {
      try {
        const record = JSON.parse(fs.readFileSync(path.join(this.dir, name), 'utf8'));
        if (record.leak) leaks.push(record);
        else cpu.set(record.file, record);
      } catch {
        // a file half-written by a crashed worker: skip it
      }
    }
    fs.rmSync(this.dir, { recursive: true, force: true });
    const rel = (file) => path.relative(this.rootDir, file);
    const s = (ms) => `${(ms / 1000).toFixed(1)} s`;
    const files = results.testResults.map((r) => {
      const wall = r.perfStats.end - r.perfStats.start;
      const c = cpu.get(r.testFilePath);
      return { file: rel(r.testFilePath), wall, cpu: c ? c.cpuMs : undefined, tests: r.testResults.length };
    });
    files.sort((a, b) => b.wall - a.wall);
    const tests = results.testResults
      .flatMap((r) =>
        r.testResults.map((t) => ({ file: rel(r.testFilePath), name: t.fullName, ms: t.duration ?? 0 })),
      )
      .sort((a, b) => b.ms - a.ms);
    const sumWall = files.reduce((a, f) => a + f.wall, 0);
    const sumCpu = files.reduce((a, f) => a + (f.cpu ?? 0), 0);
    const lines = [
      `timing: ${results.numTotalTests} tests in ${files.length} files, ${s(Date.now() - this.started)} wall`,
      `  file time summed over workers ${s(sumWall)}: computing ${s(sumCpu)} (jest worker CPU), waiting ${s(sumWall - sumCpu)}`,
      '',
      `slowest ${TOP} files              wall      cpu     wait  tests`,
      ...files.slice(0, TOP).map((f) => {
        const c = f.cpu === undefined ? '      ?' : s(f.cpu).padStart(7);
        const w = f.cpu === undefined ? '      ?' : s(f.wall - f.cpu).padStart(7);
        return `  ${s(f.wall).padStart(7)}  ${c}  ${w}  ${String(f.tests).padStart(4)}  ${f.file}`;
      }),
      '',
      `slowest ${TOP} tests`,
      ...tests.slice(0, TOP).map((t) => `  ${s(t.ms).padStart(7)}  ${t.file} › ${t.name}`),
      '',
      leaks.length === 0
        ? 'handles left open by a test file: none'
        : 'handles left open by a test file (they keep a jest worker alive after the run):',
      ...leaks
        .sort((a, b) => a.file.localeCompare(b.file))
        .map(
          (l) =>
            `  ${rel(l.file)}: ${Object.entries(l.left)
              .map(([type, n]) => `${n} ${type}`)
              .join(', ')}`,
        ),
    ];
    const out = path.join(this.rootDir, 'test-output');
    fs.mkdirSync(out, { recursive: true });
    fs.writeFileSync(path.join(out, 'timing.txt'), `${lines.join('\n')}\n`);
    // Every file, for a closer look than the top 15 (when each ran, on which worker's clock).
    const started = new Map(
      results.testResults.map((r) => [rel(r.testFilePath), r.perfStats.start - this.started]),
    );
    const all = files.map((f) => ({ ...f, startedAt: started.get(f.file) }));
    fs.writeFileSync(path.join(out, 'timing.json'), `${JSON.stringify(all, null, 1)}\n`);
    if (process.env.CUECAST_TIMING === '1' || process.env.CI) process.stdout.write(`\n${lines.join('\n')}\n`);
  }
}

module.exports = TimingReporter;
