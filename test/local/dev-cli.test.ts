import { type ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { synthesize } from '../../local/synth';
import { freeBasePort } from './harness';

/** `npm run dev` as a person runs it: the ready line, .cuecast/local.json, and a clean stop. */
const root = path.join(__dirname, '..', '..');
const stateFile = path.join(root, '.cuecast', 'local.json');

function runDev(
  env: Record<string, string>,
  args: string[] = [],
): {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
} {
  const child = spawn(
    process.execPath,
    [path.join(root, 'node_modules', 'tsx', 'dist', 'cli.mjs'), 'local/dev.ts', '--no-synth', ...args],
    {
      cwd: root,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let output = '';
  child.stdout?.on('data', (d) => (output += d));
  child.stderr?.on('data', (d) => (output += d));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, output: () => output, exited };
}

async function waitFor(test: () => boolean, timeoutMs: number, what: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!test()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting; output so far:\n${what()}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe('when a person runs npm run dev', () => {
  it('prints every URL, writes .cuecast/local.json, and stops cleanly on SIGINT', async () => {
    const port = await freeBasePort();
    const dev = runDev({ CUECAST_LOCAL_PORT: String(port) });
    try {
      await waitFor(() => dev.output().includes('ready:'), 60_000, dev.output);
      const out = dev.output();
      for (const url of [
        `http://127.0.0.1:${port}/`,
        `ws://127.0.0.1:${port + 1}`,
        `http://127.0.0.1:${port + 2}`,
      ]) {
        expect(out).toContain(url);
      }
      const config = JSON.parse(fs.readFileSync(stateFile, 'utf8'));
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
      await waitFor(
        () => /\[http\] GET \/state -> \S*GetState\S* 200 \d+ms/.test(dev.output()),
        10_000,
        dev.output,
      );
    } finally {
      dev.child.kill('SIGINT');
    }
    expect(await dev.exited).toBe(0);
    expect(dev.output()).toContain('stopped');
    expect(fs.existsSync(stateFile)).toBe(false);
    // Every port is free again.
    await new Promise<void>((resolve, reject) => {
      const server = net.createServer().once('error', reject);
      server.listen(port, '127.0.0.1', () => server.close(() => resolve()));
    });
  }, 90_000);

  it('says which port is taken instead of printing a stack trace', async () => {
    const port = await freeBasePort();
    const blocker = net.createServer();
    await new Promise<void>((resolve) => blocker.listen(port + 1, '127.0.0.1', () => resolve()));
    try {
      const dev = runDev({ CUECAST_LOCAL_PORT: String(port) });
      expect(await dev.exited).toBe(1);
      expect(dev.output()).toContain(`cuecast dev: port ${port + 1} (WebSocket API) is already in use`);
      expect(dev.output()).not.toMatch(/\n\s+at /);
    } finally {
      blocker.close();
    }
  }, 60_000);

  it('boots the viewer-auth variant with --viewer-auth and says how viewers get a token', async () => {
    const port = await freeBasePort();
    const dev = runDev({ CUECAST_LOCAL_PORT: String(port) }, ['--viewer-auth']);
    try {
      await waitFor(() => dev.output().includes('ready:'), 60_000, dev.output);
      expect(dev.output()).toContain(
        `viewer auth     on: viewers get a token from POST http://127.0.0.1:${port}/viewer-token`,
      );
      const config = JSON.parse(fs.readFileSync(stateFile, 'utf8'));
      expect(config).toMatchObject({
        viewerAuth: true,
        secretsManagerEndpoint: `http://127.0.0.1:${port + 6}`,
      });
      const issued = await fetch(`http://127.0.0.1:${port}/viewer-token`, { method: 'POST' });
      expect(issued.status).toBe(201);
      expect(await issued.json()).toMatchObject({ token: expect.stringMatching(/^v1\./) });
    } finally {
      dev.child.kill('SIGINT');
    }
    expect(await dev.exited).toBe(0);
  }, 90_000);

  it('refuses an option it does not know, with the usage', async () => {
    const dev = runDev({}, ['--viewerauth']);
    expect(await dev.exited).toBe(1);
    expect(dev.output()).toContain(
      'unknown option --viewerauth; usage: npm run dev [-- --no-synth] [--viewer-auth] [--data DIR]',
    );
  }, 30_000);

  it('keeps the tables in the directory of --data DIR and says so', async () => {
    const port = await freeBasePort();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cuecast-dev-data-'));
    const dev = runDev({ CUECAST_LOCAL_PORT: String(port) }, ['--data', dir]);
    try {
      await waitFor(() => dev.output().includes('ready:'), 60_000, dev.output);
      expect(dev.output()).toContain(
        `DynamoDB        http://127.0.0.1:${port + 3}   (tables kept in ${dir})`,
      );
      expect(fs.existsSync(path.join(dir, 'CURRENT'))).toBe(true);
    } finally {
      dev.child.kill('SIGINT');
      await dev.exited;
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }, 90_000);

  it('refuses --data without a directory, with the usage', async () => {
    const dev = runDev({}, ['--data']);
    expect(await dev.exited).toBe(1);
    expect(dev.output()).toContain(
      '--data needs a directory; usage: npm run dev [-- --no-synth] [--viewer-auth] [--data DIR]',
    );
  }, 30_000);

  it('says a --data that is a file is no directory, instead of printing a stack trace', async () => {
    const port = await freeBasePort();
    const file = path.join(os.tmpdir(), `cuecast-dev-data-${process.pid}-${Date.now()}`);
    fs.writeFileSync(file, 'not a directory');
    try {
      const dev = runDev({ CUECAST_LOCAL_PORT: String(port) }, [`--data=${file}`]);
      expect(await dev.exited).toBe(1);
      expect(dev.output()).toContain(`cuecast dev: data directory ${file} is a file, not a directory`);
      expect(dev.output()).not.toMatch(/\n\s+at /);
    } finally {
      fs.rmSync(file, { force: true });
    }
  }, 60_000);

  it('publishes the test stream with --test-stream and says where OBS would publish', async () => {
    const port = await freeBasePort();
    const dev = runDev({ CUECAST_LOCAL_PORT: String(port) }, ['--test-stream']);
    try {
      await waitFor(() => dev.output().includes('ready:'), 60_000, dev.output);
      expect(dev.output()).toContain(`OBS server      rtmp://127.0.0.1:${port + 7}/app/`);
      expect(dev.output()).toContain('(the test stream is publishing)');
      const config = JSON.parse(fs.readFileSync(stateFile, 'utf8'));
      expect(config.ingestUrl).toBe(`rtmp://127.0.0.1:${port + 7}/app/`);
      expect(config.playbackUrl).toMatch(
        new RegExp(`^http://127\\.0\\.0\\.1:${port + 2}/_local/playback/.+/live\\.m3u8$`),
      );
      // Video within seconds: the playlist lists segments.
      let playlist = '';
      for (const deadline = Date.now() + 30_000; !playlist.includes('.ts') && Date.now() < deadline; ) {
        const res = await fetch(config.playbackUrl);
        playlist = res.ok ? await res.text() : '';
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
      expect(playlist).toMatch(/^#EXTM3U[\s\S]*\n\d+\.ts\n/);
    } finally {
      dev.child.kill('SIGINT');
    }
    expect(await dev.exited).toBe(0);
    // The ingest's port is free again: no publisher or packager outlives the runtime.
    await new Promise<void>((resolve, reject) => {
      const server = net.createServer().once('error', reject);
      server.listen(port + 7, '127.0.0.1', () => server.close(() => resolve()));
    });
  }, 90_000);

  it('refuses a CUECAST_LOCAL_PORT that is not a port', async () => {
    const dev = runDev({ CUECAST_LOCAL_PORT: 'eighty' });
    expect(await dev.exited).toBe(1);
    expect(dev.output()).toContain('CUECAST_LOCAL_PORT must be an integer from 1024 to 65527');
  }, 30_000);
});

describe('when synthesis fails', () => {
  it('reports the failing app output, not a stack trace', async () => {
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
