import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import * as http from 'node:http';
import * as net from 'node:net';
import { GetStreamCommand, GetStreamKeyCommand, IvsClient, PutMetadataCommand } from '@aws-sdk/client-ivs';
import type { LocalRuntime } from '../../local/runtime';
import { runFfmpeg, stopFfmpeg } from '../../local/video/ffmpeg';
import { bootTestRuntime, callApi, setStream, Viewer, waitForIdle, waitUntil } from './harness';

/**
 * The local ingest as a streamer meets it: ffmpeg publishes RTMP to `<ingestUrl><streamKey>` with
 * the key `GetStreamKey` returns, and the stack, the viewers and the playlist follow. The tests
 * are the steps of one broadcast, in order, on one runtime.
 */
let runtime: LocalRuntime;
let ivsClient: IvsClient;
let streamKey: string;
const logLines: string[] = [];
/** `IVS Stream State Change` events the runtime's event bus delivered, by `detail.event_name`. */
const streamEvents: string[] = [];
const viewers: Viewer[] = [];
let publisher: ChildProcessWithoutNullStreams | undefined;

const channelArn = () => runtime.config.channelArn;
const logSince = (mark: number) => logLines.slice(mark).join('\n');

/** ffmpeg's test pattern and a tone, H.264 + AAC in FLV, in real time to `key` on the ingest. */
const PUBLISH_ARGS =
  '-re -f lavfi -i testsrc2=size=320x180:rate=30 -f lavfi -i sine=frequency=440 -c:v libx264 ' +
  '-preset ultrafast -tune zerolatency -g 30 -pix_fmt yuv420p -c:a aac -f flv';
const publish = (key: string) =>
  runFfmpeg([...PUBLISH_ARGS.split(' '), `${runtime.config.ingestUrl}${key}`], () => undefined);

/** The exit code of an ffmpeg that should stop by itself, or 'running' after `ms`. */
const exitOf = (child: ChildProcessWithoutNullStreams, ms: number): Promise<number | string | null> =>
  new Promise((resolve) => {
    if (child.exitCode !== null) return resolve(child.exitCode);
    const timer = setTimeout(() => resolve('running'), ms);
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve(code);
    });
  });

/**
 * Polls `probe` until it returns something truthy, or fails after `ms` saying what it waited for,
 * what the probe last gave, and the runtime's last log lines.
 */
async function until<T>(what: string, probe: () => Promise<T | undefined | false>, ms = 15_000): Promise<T> {
  let last: unknown;
  return waitUntil(
    what,
    async () => {
      last = await probe();
      return last as T | undefined | false;
    },
    {
      timeoutMs: ms,
      // Some probes download every listed segment: a gentler pace than the default.
      intervalMs: 100,
      describe: () => `the probe gave ${JSON.stringify(last)}\nlog:\n${logLines.slice(-30).join('\n')}`,
    },
  ) as Promise<T>;
}

const streamState = async () => {
  const states = (await (await fetch(`${runtime.config.ivsEndpoint}/_local/stream`)).json()) as Array<{
    channelArn: string;
    state: string;
  }>;
  return states.find((s) => s.channelArn === channelArn())?.state;
};

const playlist = async () => {
  const res = await fetch(runtime.config.playbackUrl);
  return { status: res.status, text: await res.text() };
};

/** The segments the live playlist lists now, downloaded. */
const segments = async () => {
  const { status, text } = await playlist();
  if (status !== 200) return [];
  const names = text.split('\n').filter((line) => line.endsWith('.ts'));
  return Promise.all(
    names.map(async (name) => {
      const res = await fetch(new URL(name, runtime.config.playbackUrl));
      return {
        name,
        status: res.status,
        type: res.headers.get('content-type'),
        data: Buffer.from(await res.arrayBuffer()),
      };
    }),
  );
};

const connect = async () => {
  const viewer = await Viewer.connect(runtime.config.webSocketUrl);
  viewers.push(viewer);
  return viewer;
};

beforeAll(async () => {
  // One container per function: nothing here needs two side by side, and the stream's fan-outs
  // then start one container for their four segments instead of four.
  runtime = await bootTestRuntime({ log: (line) => logLines.push(line), containersPerFunction: 1 });
  // Viewers connect on an idle runtime (see waitForIdle): the boot's stream push done.
  await waitForIdle(runtime, 'the boot’s stream fan-out to finish');
  // The event bus hands every event to the host: record the stream ones, in the order they go out.
  const invoke = runtime.host.invoke.bind(runtime.host);
  jest.spyOn(runtime.host, 'invoke').mockImplementation((fn, event: any) => {
    if (event?.['detail-type'] === 'IVS Stream State Change') streamEvents.push(event.detail.event_name);
    return invoke(fn, event);
  });
  const { region, ivsEndpoint, credentials, streamKeyArn } = runtime.config;
  ivsClient = new IvsClient({ region, endpoint: ivsEndpoint, credentials });
  const reply = await ivsClient.send(new GetStreamKeyCommand({ arn: streamKeyArn }));
  streamKey = reply.streamKey?.value as string;
  expect(streamKey).toMatch(/^sk_local_/);
}, 180_000);

afterEach(async () => {
  await Promise.all(viewers.splice(0).map((v) => v.close()));
  // A fan-out a test left running would delete the next test's viewers as they connect.
  await waitForIdle(runtime, 'the test’s fan-outs to finish');
});

afterAll(async () => {
  if (publisher) await stopFfmpeg(publisher);
  ivsClient?.destroy();
  await runtime?.stop();
});

describe('when ffmpeg publishes to the local ingest', () => {
  it('refuses a wrong stream key without saying it, and nothing changes', async () => {
    const stateBefore = await streamState();
    const [mark, eventsMark] = [logLines.length, streamEvents.length];
    const wrongKey = `sk_local_${randomBytes(18).toString('base64url')}`;

    const refused = publish(wrongKey);
    const code = await exitOf(refused, 15_000);
    if (code === 'running') await stopFfmpeg(refused);
    expect(code).not.toBe('running');
    expect(code).not.toBe(0);

    const log = logSince(mark);
    expect(log).toMatch(/^\[ingest\] publish refused.*wrong stream key/m);
    expect(log).not.toContain(wrongKey);
    expect(await streamState()).toBe(stateBefore);
    expect(streamEvents.slice(eventsMark)).toEqual([]);
    expect(runtime.video.publishing(channelArn())).toBe(false);
    expect((await playlist()).status).toBe(404);
  });

  it('takes the right key: the stream goes live, viewers hear it and the playlist fills', async () => {
    expect((await setStream(runtime.config, 'offline')).status).toBe(200);
    await until('the stack to store offline', async () => {
      return (await callApi(runtime.config, 'GET', '/state')).body.stream === 'offline';
    });
    // The viewer connects once the offline push is done (see waitForIdle).
    await waitForIdle(runtime, 'the offline push to finish');
    expect(await streamState()).toBe('offline');
    expect((await playlist()).status).toBe(404);
    const viewer = await connect();
    const [mark, eventsMark] = [logLines.length, streamEvents.length];

    publisher = publish(streamKey);
    await until('the stream to go live', async () => (await streamState()) === 'live');
    expect(runtime.video.publishing(channelArn())).toBe(true);
    expect(await viewer.waitFor((f) => f.type === 'stream' && f.state === 'live')).toEqual({
      type: 'stream',
      state: 'live',
    });
    expect(streamEvents.slice(eventsMark)).toEqual(['Session Created', 'Stream Start']);
    await until('both events delivered', async () => {
      return (logSince(mark).match(/\[events\] IVS Stream State Change -> \S+ ok/g) ?? []).length >= 2;
    });
    expect(logSince(mark)).toContain('[ivs] stream live (publisher)');

    const listed = await until('a playlist with segments', async () => {
      const { status, text } = await playlist();
      return status === 200 && text;
    });
    expect(listed).toMatch(/^#EXTM3U/);
    expect(listed).toMatch(/^\d+\.ts$/m);
    const served = await segments();
    expect(served.length).toBeGreaterThan(0);
    for (const segment of served) {
      expect(segment).toMatchObject({ status: 200, type: 'video/mp2t' });
      expect(segment.data[0]).toBe(0x47);
      expect(segment.data.length % 188).toBe(0);
    }
  });

  it('refuses a second publisher while one is live, as IVS takes one at a time', async () => {
    const [mark, eventsMark] = [logLines.length, streamEvents.length];
    const second = publish(streamKey);
    const code = await exitOf(second, 15_000);
    if (code === 'running') await stopFfmpeg(second);
    expect(code).not.toBe('running');
    expect(code).not.toBe(0);

    expect(logSince(mark)).toMatch(/^\[ingest\] publish refused.*already has a publisher/m);
    expect(streamEvents.slice(eventsMark)).toEqual([]);
    expect(await streamState()).toBe('live');
    expect(runtime.video.publishing(channelArn())).toBe(true);
    expect((await playlist()).status).toBe(200);
  });

  it('writes a PutMetadata cue into the video that the playlist serves', async () => {
    const text = JSON.stringify({ v: 1, type: 'probe', id: randomUUID() });
    await ivsClient.send(new PutMetadataCommand({ channelArn: channelArn(), metadata: text }));

    const cue = runtime.video.cues(channelArn()).find((c) => c.text === text);
    expect(cue).toBeDefined();
    expect(typeof cue?.pts).toBe('number');
    expect(Number.isFinite(cue?.pts)).toBe(true);

    // The cue goes into the open segment; it is listed once the next key frame closes it.
    const holding = await until('a served segment holding the cue', async () =>
      (await segments()).find((s) => s.data.includes(Buffer.from(text, 'utf8'))),
    );
    expect(holding).toMatchObject({ status: 200, type: 'video/mp2t' });
  });

  it('counts viewers for GetStream as IVS does: each connection polling the live playlist', async () => {
    const viewers = async () =>
      (await ivsClient.send(new GetStreamCommand({ channelArn: channelArn() }))).stream?.viewerCount ?? -1;
    const before = await viewers();
    // Two players, each on its own connection.
    for (let i = 0; i < 2; i++) {
      await new Promise<void>((resolve, reject) => {
        http
          .get(runtime.config.playbackUrl, { agent: false }, (res) => res.resume().on('end', resolve))
          .on('error', reject);
      });
    }
    expect(await viewers()).toBe(before + 2);
  });

  it('goes offline when the publisher stops: Stream End, Session Ended, a push, and no playlist', async () => {
    const viewer = await connect();
    await viewer.request({ action: 'ping' }, ['pong']);
    const [mark, eventsMark] = [logLines.length, streamEvents.length];

    await stopFfmpeg(publisher as ChildProcessWithoutNullStreams);
    publisher = undefined;
    await until('the stream to go offline', async () => (await streamState()) === 'offline');
    expect(await viewer.waitFor((f) => f.type === 'stream' && f.state === 'offline')).toEqual({
      type: 'stream',
      state: 'offline',
    });
    expect(streamEvents.slice(eventsMark)).toEqual(['Stream End', 'Session Ended']);
    expect(logSince(mark)).toContain('[ivs] stream offline (publisher gone)');
    expect(runtime.video.publishing(channelArn())).toBe(false);
    expect((await playlist()).status).toBe(404);
    expect(logLines.join('\n')).not.toContain(streamKey);
  });
});

describe('when something that is not RTMP reaches the ingest', () => {
  const ingestPort = () => Number(new URL(runtime.config.ingestUrl).port);
  const httpGet = 'GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n';

  /** Resolves true when the ingest closes the socket within `ms`. */
  const closedWithin = (socket: net.Socket, ms: number) =>
    new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(socket.destroyed), ms);
      socket.once('close', () => {
        clearTimeout(timer);
        resolve(true);
      });
    });

  it('closes a connection that sends an HTTP GET', async () => {
    const socket = net.connect(ingestPort(), '127.0.0.1');
    socket.on('error', () => undefined);
    socket.write(httpGet);
    const closed = await closedWithin(socket, 5000);
    socket.destroy();
    expect(closed).toBe(true);
  });

  it('keeps taking connections and publishers afterwards', async () => {
    const socket = net.connect(ingestPort(), '127.0.0.1');
    socket.on('error', () => undefined);
    socket.write(httpGet + 'X'.repeat(8192));
    // Afterwards: once the ingest has dealt with it, closing it.
    const closed = await closedWithin(socket, 5000);
    socket.destroy();
    expect(closed).toBe(true);

    const probe = net.connect(ingestPort(), '127.0.0.1');
    await new Promise<void>((resolve, reject) => probe.once('connect', resolve).once('error', reject));
    probe.destroy();

    const mark = logLines.length;
    publisher = publish(streamKey);
    await until('the stream to go live again', async () => (await streamState()) === 'live');
    await until('a playlist again', async () => (await playlist()).status === 200);
    expect(logSince(mark)).toContain('[ingest] publishing from');
    await stopFfmpeg(publisher);
    publisher = undefined;
    await until('the stream to go offline again', async () => (await streamState()) === 'offline');
  });
});
