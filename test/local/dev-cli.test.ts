import { type ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { synthesize } from '../../local/synth';
import { waitUntil } from '../support/wait';
import { freeBasePort } from './harness';

/**
 * `npm run dev` as a person runs it: the ready line, .cuecast/local.json, and a clean stop.
 *
 * Nearly all of this suite's time is other processes' (the timing report counts only the jest
 * worker's CPU): each run starts tsx and the Node it runs, loads the whole runtime (once its
 * arguments are good: a usage error answers before) and boots it, ffmpeg publishes real-time
 * video, and the CDK CLI starts and, seeing the test's AWS_ACCESS_KEY_ID, asks STS for the
 * account (retrying) before it runs the app. So the cases that refuse to start run side by side
 * (`it.concurrent`), each owning its process and its directory.
 *
 * Each run gets a project directory of its own, with the synthesized assemblies linked in, as
 * `npm run dev -- --no-synth` needs: its .cuecast/local.json is its own, so neither another run of
 * this suite in the same checkout (another engineer, another worker) nor a developer's own
 * `npm run dev` can overwrite the file a test reads, or lose theirs to a test's stop.
 */
const root = path.join(__dirname, '..', '..');

interface DevRun {
  readonly child: ChildProcess;
  readonly output: () => string;
  /** The exit code, once the process has exited and its output is all read. */
  readonly exited: Promise<number | null>;
  /** Its project directory's .cuecast/local.json. */
  readonly stateFile: string;
}

/**
 * Runs `npm run dev` in a project directory of its own for `body`, then cleans up what `body`
 * left: a run still going (a test that failed before its stop) is killed with the Node that tsx
 * runs, and the directory is removed.
 */
async function withDev<T>(
  env: Record<string, string>,
  args: string[],
  body: (dev: DevRun) => Promise<T>,
): Promise<T> {
  const project = fs.mkdtempSync(path.join(os.tmpdir(), 'cuecast-dev-project-'));
  for (const assembly of ['cdk.out', 'cdk.out.viewer-auth'])
    fs.symlinkSync(path.join(root, assembly), path.join(project, assembly), 'dir');
  const child = spawn(
    process.execPath,
    [
      path.join(root, 'node_modules', 'tsx', 'dist', 'cli.mjs'),
      '--tsconfig',
      path.join(root, 'tsconfig.json'),
      path.join(root, 'local', 'dev.ts'),
      '--no-synth',
      ...args,
    ],
    {
      cwd: project,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
      // Its own process group, so the clean-up can stop tsx and the Node it runs together.
      detached: true,
    },
  );
  let output = '';
  child.stdout?.on('data', (d) => (output += d));
  child.stderr?.on('data', (d) => (output += d));
  // 'close', not 'exit': the output may still be on its way when the process exits.
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  const dev = {
    child,
    output: () => output,
    exited,
    stateFile: path.join(project, '.cuecast', 'local.json'),
  };
  try {
    return await body(dev);
  } finally {
    if (child.exitCode === null && child.signalCode === null && child.pid) {
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        // gone already
      }
      await exited;
    }
    fs.rmSync(project, { recursive: true, force: true });
  }
}

/** Waits until `dev` has printed what `test` looks for; fails with everything it printed. */
const printed = (dev: DevRun, what: string, test: (output: string) => boolean, timeoutMs = 60_000) =>
  waitUntil(what, () => test(dev.output()) || dev.child.exitCode !== null || dev.child.signalCode !== null, {
    timeoutMs,
    describe: () => `its output so far:\n${dev.output()}`,
  }).then(() => {
    if (!test(dev.output()))
      throw new Error(
        `npm run dev exited (${dev.child.exitCode}) before ${what}; it printed:\n${dev.output()}`,
      );
  });
const ready = (dev: DevRun) => printed(dev, 'the ready line', (out) => out.includes('ready:'));

/** The exit code of a run that ends (by itself, or stopped), failing with its output if it does not. */
async function exitCode(dev: DevRun, timeoutMs = 30_000): Promise<number | null> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(new Error(`npm run dev still running after ${timeoutMs} ms; it printed:\n${dev.output()}`)),
      timeoutMs,
    );
  });
  try {
    return await Promise.race([dev.exited, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Stops `dev` as Ctrl-C stops `npm run dev`: SIGINT to the Node process that runs dev.ts, which
 * tsx started. Not to tsx: tsx relays a SIGINT it gets itself only if that process confirms it
 * within 30 ms, and otherwise kills it (exit 130, no clean stop), which a loaded machine did to
 * the test stream's run once. tsx exits with its child's code, so the code is what a person sees.
 * Where /proc cannot name the child (not Linux), tsx gets it, as before.
 */
function interrupt(dev: DevRun): void {
  const tsx = dev.child.pid;
  const runner = tsx === undefined ? undefined : childRunning(tsx, 'dev.ts');
  if (runner === undefined) dev.child.kill('SIGINT');
  else process.kill(runner, 'SIGINT');
}

/** The child of process `pid` whose command line mentions `script`, from Linux's /proc. */
function childRunning(pid: number, script: string): number | undefined {
  try {
    const children = fs.readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/);
    return children
      .map(Number)
      .find((child) => fs.readFileSync(`/proc/${child}/cmdline`, 'utf8').includes(script));
  } catch {
    return undefined;
  }
}

/** Resolves once `port` on 127.0.0.1 can be listened on again. */
const portFree = (port: number) =>
  new Promise<void>((resolve, reject) => {
    const server = net.createServer().once('error', reject);
    server.listen(port, '127.0.0.1', () => server.close(() => resolve()));
  });

describe('when a person runs npm run dev', () => {
  it('prints every URL, writes .cuecast/local.json, and stops cleanly on SIGINT', async () => {
    const port = await freeBasePort();
    await withDev({ CUECAST_LOCAL_PORT: String(port) }, [], async (dev) => {
      try {
        await ready(dev);
        const out = dev.output();
        for (const url of [
          `http://127.0.0.1:${port}/`,
          `ws://127.0.0.1:${port + 1}`,
          `http://127.0.0.1:${port + 2}`,
        ]) {
          expect(out).toContain(url);
        }
        const config = JSON.parse(fs.readFileSync(dev.stateFile, 'utf8'));
        expect(config).toMatchObject({
          httpApiUrl: `http://127.0.0.1:${port}/`,
          webSocketUrl: `ws://127.0.0.1:${port + 1}`,
          managementUrl: `http://127.0.0.1:${port + 1}/live`,
          ivsEndpoint: `http://127.0.0.1:${port + 2}`,
          channelArn: expect.stringMatching(/^arn:aws:ivs:/),
          region: expect.any(String),
          credentials: { accessKeyId: expect.any(String), secretAccessKey: expect.any(String) },
        });
        const state = await fetch(`http://127.0.0.1:${port}/state`);
        expect(state.status).toBe(200);
        // One log line per invocation: route, function, status, milliseconds.
        await printed(
          dev,
          'the log line of GET /state',
          (out) => /\[http\] GET \/state -> \S*GetState\S* 200 \d+ms/.test(out),
          10_000,
        );
      } finally {
        interrupt(dev);
      }
      expect(await exitCode(dev)).toBe(0);
      expect(dev.output()).toContain('stopped');
      expect(fs.existsSync(dev.stateFile)).toBe(false);
    });
    // Every port is free again.
    await portFree(port);
  }, 90_000);

  // Not side by side with the others: a run that binds ports could take one of this test's range.
  it('says which port is taken instead of printing a stack trace', async () => {
    const port = await freeBasePort();
    const blocker = net.createServer();
    await new Promise<void>((resolve) => blocker.listen(port + 1, '127.0.0.1', () => resolve()));
    try {
      await withDev({ CUECAST_LOCAL_PORT: String(port) }, [], async (dev) => {
        expect(await exitCode(dev)).toBe(1);
        expect(dev.output()).toContain(`cuecast dev: port ${port + 1} (WebSocket API) is already in use`);
        expect(dev.output()).not.toMatch(/\n\s+at /);
      });
    } finally {
      await new Promise((resolve) => blocker.close(resolve));
    }
  }, 60_000);

  it('boots the viewer-auth variant with --viewer-auth and says how viewers get a token', async () => {
    const port = await freeBasePort();
    await withDev({ CUECAST_LOCAL_PORT: String(port) }, ['--viewer-auth'], async (dev) => {
      try {
        await ready(dev);
        expect(dev.output()).toContain(
          `viewer auth     on: viewers get a token from POST http://127.0.0.1:${port}/viewer-token`,
        );
        const config = JSON.parse(fs.readFileSync(dev.stateFile, 'utf8'));
        expect(config).toMatchObject({
          viewerAuth: true,
          secretsManagerEndpoint: `http://127.0.0.1:${port + 6}`,
        });
        const issued = await fetch(`http://127.0.0.1:${port}/viewer-token`, { method: 'POST' });
        expect(issued.status).toBe(201);
        expect(await issued.json()).toMatchObject({ token: expect.stringMatching(/^v1\./) });
      } finally {
        interrupt(dev);
      }
      expect(await exitCode(dev)).toBe(0);
    });
  }, 90_000);

  it.concurrent('refuses an option it does not know, with the usage', async () => {
    await withDev({}, ['--viewerauth'], async (dev) => {
      expect(await exitCode(dev)).toBe(1);
      expect(dev.output()).toContain(
        'unknown option --viewerauth; usage: npm run dev [-- --no-synth] [--viewer-auth] [--data DIR]',
      );
    });
  }, 30_000);

  it('keeps the tables in the directory of --data DIR and says so', async () => {
    const port = await freeBasePort();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cuecast-dev-data-'));
    try {
      await withDev({ CUECAST_LOCAL_PORT: String(port) }, ['--data', dir], async (dev) => {
        try {
          await ready(dev);
          expect(dev.output()).toContain(
            `DynamoDB        http://127.0.0.1:${port + 3}   (tables kept in ${dir})`,
          );
          expect(fs.existsSync(path.join(dir, 'CURRENT'))).toBe(true);
        } finally {
          interrupt(dev);
          await exitCode(dev);
        }
      });
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }, 90_000);

  it.concurrent('refuses --data without a directory, with the usage', async () => {
    await withDev({}, ['--data'], async (dev) => {
      expect(await exitCode(dev)).toBe(1);
      expect(dev.output()).toContain(
        '--data needs a directory; usage: npm run dev [-- --no-synth] [--viewer-auth] [--data DIR]',
      );
    });
  }, 30_000);

  it.concurrent('says a --data that is a file is no directory, instead of printing a stack trace', async () => {
    const port = await freeBasePort();
    const file = path.join(os.tmpdir(), `cuecast-dev-data-${process.pid}-${Date.now()}`);
    fs.writeFileSync(file, 'not a directory');
    try {
      await withDev({ CUECAST_LOCAL_PORT: String(port) }, [`--data=${file}`], async (dev) => {
        expect(await exitCode(dev)).toBe(1);
        expect(dev.output()).toContain(`cuecast dev: data directory ${file} is a file, not a directory`);
        expect(dev.output()).not.toMatch(/\n\s+at /);
      });
    } finally {
      fs.rmSync(file, { force: true });
    }
  }, 60_000);

  it('publishes the test stream with --test-stream and says where OBS would publish', async () => {
    const port = await freeBasePort();
    await withDev({ CUECAST_LOCAL_PORT: String(port) }, ['--test-stream'], async (dev) => {
      try {
        await ready(dev);
        expect(dev.output()).toContain(`OBS server      rtmp://127.0.0.1:${port + 7}/app/`);
        expect(dev.output()).toContain('(the test stream is publishing)');
        const config = JSON.parse(fs.readFileSync(dev.stateFile, 'utf8'));
        expect(config.ingestUrl).toBe(`rtmp://127.0.0.1:${port + 7}/app/`);
        expect(config.playbackUrl).toMatch(
          new RegExp(`^http://127\\.0\\.0\\.1:${port + 2}/_local/playback/.+/live\\.m3u8$`),
        );
        // Video within seconds: the playlist lists segments.
        let playlist = '';
        let status = 0;
        await waitUntil(
          'the playlist to list a segment',
          async () => {
            const res = await fetch(config.playbackUrl);
            status = res.status;
            playlist = res.ok ? await res.text() : '';
            return playlist.includes('.ts');
          },
          {
            timeoutMs: 30_000,
            intervalMs: 100,
            describe: () => `HTTP ${status}: ${playlist}\noutput:\n${dev.output()}`,
          },
        );
        expect(playlist).toMatch(/^#EXTM3U[\s\S]*\n\d+\.ts\n/);
      } finally {
        interrupt(dev);
      }
      expect(await exitCode(dev)).toBe(0);
    });
    // The ingest's port is free again: no publisher or packager outlives the runtime.
    await portFree(port + 7);
  }, 90_000);

  it.concurrent('refuses a CUECAST_LOCAL_PORT that is not a port', async () => {
    await withDev({ CUECAST_LOCAL_PORT: 'eighty' }, [], async (dev) => {
      expect(await exitCode(dev)).toBe(1);
      expect(dev.output()).toContain('CUECAST_LOCAL_PORT must be an integer from 1024 to 65527');
    });
  }, 30_000);
});

describe('when synthesis fails', () => {
  it.concurrent('reports the failing app output, not a stack trace', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cuecast-badapp-'));
    fs.writeFileSync(
      path.join(dir, 'cdk.json'),
      JSON.stringify({
        app: `${process.execPath} -e "console.error('boom: the app is broken'); process.exit(3)"`,
      }),
    );
    try {
      await expect(synthesize(dir)).rejects.toThrow(/cdk synth failed[\s\S]*boom: the app is broken/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
