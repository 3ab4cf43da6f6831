import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { GetStreamKeyCommand, IvsClient } from '@aws-sdk/client-ivs';
import type { LocalRuntime } from '../../local/runtime';
import { runFfmpeg, stopFfmpeg } from '../../local/video/ffmpeg';
import { MEDIA_IDLE_MS } from '../../local/video/rtmp-ingest';
import { bootTestRuntime, waitForIdle, waitUntil } from '../local/harness';

/**
 * A stalled publisher on the whole runtime (hardening-2): ffmpeg publishing, then frozen with
 * SIGSTOP, its socket still open. The ingest ends the broadcast after `MEDIA_IDLE_MS` without
 * audio or video, with the Stream End a disconnect emits, and the key publishes again.
 */
let runtime: LocalRuntime;
let streamKey: string;
const logLines: string[] = [];
const streamEvents: string[] = [];
const publishers: ChildProcessWithoutNullStreams[] = [];

const PUBLISH_ARGS =
  '-re -f lavfi -i testsrc2=size=320x180:rate=30 -f lavfi -i sine=frequency=440 -c:v libx264 ' +
  '-preset ultrafast -tune zerolatency -g 30 -pix_fmt yuv420p -c:a aac -f flv';
const publish = () => {
  const child = runFfmpeg(
    [...PUBLISH_ARGS.split(' '), `${runtime.config.ingestUrl}${streamKey}`],
    () => undefined,
  );
  publishers.push(child);
  return child;
};

const streamState = async () => {
  const states = (await (await fetch(`${runtime.config.ivsEndpoint}/_local/stream`)).json()) as Array<{
    channelArn: string;
    state: string;
  }>;
  return states.find((s) => s.channelArn === runtime.config.channelArn)?.state;
};
const until = (what: string, probe: () => Promise<boolean>, timeoutMs = 15_000) =>
  waitUntil(what, probe, {
    timeoutMs,
    intervalMs: 100,
    describe: () => `events ${JSON.stringify(streamEvents)}\nlog:\n${logLines.slice(-20).join('\n')}`,
  });

beforeAll(async () => {
  runtime = await bootTestRuntime({ log: (line) => logLines.push(line), containersPerFunction: 1 });
  await waitForIdle(runtime, 'the boot’s stream fan-out to finish');
  const invoke = runtime.host.invoke.bind(runtime.host);
  jest.spyOn(runtime.host, 'invoke').mockImplementation((fn, event: any) => {
    if (event?.['detail-type'] === 'IVS Stream State Change') streamEvents.push(event.detail.event_name);
    return invoke(fn, event);
  });
  const { region, ivsEndpoint, credentials, streamKeyArn } = runtime.config;
  const ivs = new IvsClient({ region, endpoint: ivsEndpoint, credentials });
  streamKey = (await ivs.send(new GetStreamKeyCommand({ arn: streamKeyArn }))).streamKey?.value as string;
  ivs.destroy();
}, 180_000);

afterAll(async () => {
  for (const child of publishers) {
    // A stopped process takes no SIGTERM until it runs again.
    child.kill('SIGCONT');
    await stopFfmpeg(child, 500);
  }
  await runtime?.stop();
});

describe('when the publisher stalls with its connection open', () => {
  it(
    'ends the broadcast after the media idle time, and the key publishes again',
    async () => {
      const first = publish();
      await until('the stream to go live', async () => (await streamState()) === 'live');
      await until('a playlist', async () => (await fetch(runtime.config.playbackUrl)).status === 200);
      const [mark, eventsMark] = [logLines.length, streamEvents.length];
      const stoppedAt = Date.now();
      first.kill('SIGSTOP');

      await until(
        'the stalled stream to go offline',
        async () => (await streamState()) === 'offline',
        MEDIA_IDLE_MS + 20_000,
      );
      expect(Date.now() - stoppedAt).toBeGreaterThanOrEqual(MEDIA_IDLE_MS - 1000);
      const log = logLines.slice(mark).join('\n');
      expect(log).toMatch(/\[ingest\] publisher \S+ sent nothing for 10 s; ending the stream/);
      expect(log).toContain('[ivs] stream offline (publisher gone)');
      await until('Stream End and Session Ended', async () => streamEvents.length >= eventsMark + 2);
      expect(streamEvents.slice(eventsMark)).toEqual(['Stream End', 'Session Ended']);
      expect((await fetch(runtime.config.playbackUrl)).status).toBe(404);

      const reconnectMark = logLines.length;
      publish();
      await until('the reconnect to go live', async () => (await streamState()) === 'live');
      const after = logLines.slice(reconnectMark).join('\n');
      expect(after).toContain('[ingest] publishing from');
      expect(after).not.toContain('already has a publisher');
      expect(logLines.join('\n')).not.toContain(streamKey);
    },
    MEDIA_IDLE_MS + 90_000,
  );
});
