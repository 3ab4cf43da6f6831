/**
 * Jest's node environment, plus a check at the end of each test file: which handles (timers,
 * sockets, child processes, worker threads) the file left open that were not open when it began.
 * An open handle keeps the jest worker alive after the run ("A worker process has failed to exit
 * gracefully"), so test/support/timing-reporter.js lists the files that left any.
 */
const fs = require('node:fs');
const path = require('node:path');
const { TestEnvironment } = require('jest-environment-node');

/** Counts of the process's active resources, by type. */
function activeResources() {
  const counts = {};
  for (const type of process.getActiveResourcesInfo()) counts[type] = (counts[type] ?? 0) + 1;
  return counts;
}

/** A few turns of the event loop: what a test closed has then closed (no fixed time). */
async function settle() {
  for (let i = 0; i < 10; i++) await new Promise((resolve) => setImmediate(resolve));
}

class LeakCheckingEnvironment extends TestEnvironment {
  constructor(config, context) {
    super(config, context);
    this.testPath = context.testPath;
  }

  async setup() {
    await super.setup();
    // Node opens stdout and stderr (pipes, in a jest worker) on first use: opened now, so the
    // first test file to print is not blamed for them.
    void process.stdout;
    void process.stderr;
    this.before = activeResources();
  }

  async teardown() {
    await super.teardown();
    const dir = process.env.CUECAST_TIMING_DIR;
    if (!dir || !this.before) return;
    await settle();
    const after = activeResources();
    if (process.env.CUECAST_LEAK_TRACE)
      fs.appendFileSync(
        process.env.CUECAST_LEAK_TRACE,
        `${JSON.stringify({
          pid: process.pid,
          at: Date.now(),
          file: this.testPath,
          before: this.before,
          after,
          messageListeners: process.listenerCount('message'),
          handles: process
            ._getActiveHandles()
            .map(
              (h) =>
                `${h.constructor?.name}:${typeof h.hasRef === 'function' ? h.hasRef() : '?'}:${h.fd ?? ''}`,
            ),
        })}\n`,
      );
    const left = Object.fromEntries(
      Object.entries(after)
        .map(([type, n]) => [type, n - (this.before[type] ?? 0)])
        .filter(([, n]) => n > 0),
    );
    if (Object.keys(left).length === 0) return;
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(
      path.join(dir, `leak-${process.pid}-${Date.now()}-${Math.random()}.json`),
      JSON.stringify({ leak: true, file: this.testPath, left }),
    );
  }
}

module.exports = LeakCheckingEnvironment;
