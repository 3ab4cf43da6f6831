import * as net from 'node:net';
import { freeBasePort } from '../../local/ports';
import {
  BEFORE_PUBLISH_LIMITS,
  MAX_UNSENT_BYTES,
  MAX_WAITING_CONNECTIONS,
  type PublishSink,
  RtmpIngest,
} from '../../local/video/rtmp-ingest';
import { waitUntil } from '../support/wait';
import { amf0, chunkHeader, message, RtmpClient, sendLengthBomb } from './rtmp-client';

/**
 * The ingest against hostile RTMP clients (hardening-2): bounded memory before a publish, a
 * publish deadline from the connection's start, stalled publishers ended, and no key in the log.
 * The ingest runs on its own with a stand-in for the video session, so no ffmpeg is needed.
 */
const KEY = 'sk_local_ThisIsTheSecretKeyOfTheTest';
const CHANNEL = 'arn:aws:ivs:us-east-1:000000000000:channel/test';
const log: string[] = [];
/** Every FLV write and end each session received, in order. */
const sessions: { writes: Buffer[]; ended: boolean }[] = [];
let ingest: RtmpIngest;
let port: number;
const clients: RtmpClient[] = [];

const connect = async (handshake = true) => {
  const client = await RtmpClient.connect(port, handshake);
  clients.push(client);
  return client;
};
const logText = () => log.join('\n');

beforeAll(async () => {
  port = await freeBasePort(1);
  ingest = new RtmpIngest({
    port,
    log: (line) => log.push(line),
    channelForKey: (key) => (key === KEY ? CHANNEL : undefined),
    // As LocalVideo: one session at a time, free again once the last one ended.
    publish: () => {
      if (sessions.some((s) => !s.ended))
        return 'the channel already has a publisher (IVS takes one at a time)';
      const session = { writes: [] as Buffer[], ended: false };
      sessions.push(session);
      const sink: PublishSink = {
        write: (flv) => session.writes.push(flv),
        end: () => (session.ended = true),
      };
      return sink;
    },
    publishWithinMs: 1500,
    mediaIdleMs: 2000,
  });
  await ingest.start();
});

afterEach(async () => {
  for (const client of clients.splice(0)) client.close();
  await waitUntil('every connection to close', () => ingest.stats().connections === 0, {
    describe: () => ingest.stats(),
  });
});

afterAll(() => ingest?.stop());

describe('when a client sends 16 MB headers on many chunk streams before publishing', () => {
  it('closes it at the first one and holds nothing for it', async () => {
    const client = await connect();
    const mark = log.length;
    sendLengthBomb(client, 300);
    await client.waitClosed('a client declaring 16 MB messages before publishing');
    expect(log.slice(mark).join('\n')).toMatch(/went past a limit: a message of 16777215 bytes/);
    expect(ingest.stats()).toMatchObject({ bufferedBytes: 0 });
  });

  it('closes a client naming more chunk streams than the limit, even with small messages', async () => {
    const client = await connect();
    const mark = log.length;
    const ids = BEFORE_PUBLISH_LIMITS.maxChunkStreams + 1;
    // Each message is 1 KB, left incomplete at 128 bytes: within the message limit.
    for (let cid = 2; cid < 2 + ids; cid++)
      client.send(Buffer.concat([chunkHeader(cid, 1024, 20), Buffer.alloc(128)]));
    await client.waitClosed(`a client using ${ids} chunk streams before publishing`);
    expect(log.slice(mark).join('\n')).toMatch(/more than 8 chunk streams/);
  });

  it('grows a buffer as bytes arrive, not to the declared length, and frees it on close', async () => {
    const client = await connect();
    // 60 KB declared (under the limit), 200 bytes sent: the ingest holds a few KB, not 60.
    client.send(Buffer.concat([chunkHeader(3, 60_000, 20), Buffer.alloc(128)]));
    client.send(Buffer.concat([Buffer.from([0xc3]), Buffer.alloc(72)]));
    const held = await waitUntil(
      'the ingest to hold the partial message',
      () => ingest.stats().bufferedBytes,
      {
        describe: () => ingest.stats(),
      },
    );
    expect(held).toBeGreaterThanOrEqual(200);
    expect(held).toBeLessThanOrEqual(4096);
    client.close();
    await waitUntil('the connection to go and its buffer with it', () => {
      const stats = ingest.stats();
      return stats.connections === 0 && stats.bufferedBytes === 0;
    });
  });
});

describe('when a client sends commands and never reads the replies', () => {
  it('closes it once the unread replies pass their limit', async () => {
    // An ingest of its own with the default publish deadline: the kernel's buffers take
    // megabytes of replies before the ingest's queue grows, which may take more than 1.5 s.
    const own = await freeBasePort(1);
    const lines: string[] = [];
    const quiet = new RtmpIngest({
      port: own,
      log: (l) => lines.push(l),
      channelForKey: () => undefined,
      publish: () => 'no',
    });
    await quiet.start();
    // A raw socket that never reads: the handshake's C2 is not checked, so it needs no S1.
    const socket = net.connect(own, '127.0.0.1');
    socket.on('error', () => undefined);
    const connect = message(3, 20, 0, amf0('connect', 1, { app: 'app', tcUrl: 'rtmp://127.0.0.1/app' }));
    socket.write(Buffer.alloc(1 + 1536 * 2, 3));
    // Each connect draws about 4 replies: bursts until the ingest gives up on the client.
    const burst = Buffer.concat(Array.from({ length: 2000 }, () => connect));
    const dropped = () => lines.some((line) => line.includes('replies unread'));
    try {
      // The paused socket does not read the close: the ingest's side tells it.
      await waitUntil(
        'the ingest to close a client that does not read',
        () => {
          if (!dropped() && socket.writableLength < 1024 * 1024) socket.write(burst);
          return dropped() && quiet.stats().connections === 0;
        },
        { timeoutMs: 9000, describe: () => ({ stats: quiet.stats(), log: lines }) },
      );
    } finally {
      socket.destroy();
      await quiet.stop();
    }
    const [line] = lines;
    expect(line).toMatch(/left \d+ bytes of replies unread; closing/);
    // Closed as soon as it passed the limit: by one burst of replies at most.
    expect(Number(/left (\d+) bytes/.exec(line)?.[1])).toBeLessThan(MAX_UNSENT_BYTES + 64 * 1024);
  });
});

describe('when more clients wait to publish than the ingest takes', () => {
  it('closes the extra ones on arrival with one log line, and takes new ones once some end', async () => {
    const mark = log.length;
    const waiting = await Promise.all(Array.from({ length: MAX_WAITING_CONNECTIONS }, () => connect()));
    const extra = await connect(false);
    await extra.waitClosed('a connection past the waiting limit');
    expect(waiting.every((c) => !c.closed)).toBe(true);
    expect(log.slice(mark).filter((l) => l.includes('waiting to publish'))).toHaveLength(1);
    for (const client of waiting) client.close();
    await waitUntil('the waiting connections to go', () => ingest.stats().connections === 0, {
      describe: () => ingest.stats(),
    });
    const later = await connect();
    later.publish('app', KEY);
    await later.waitFor('a publish after the flood', () => later.heard('NetStream.Publish.Start'));
  });
});

describe('when a client does not publish', () => {
  it('closes it at the deadline from its start, however often it sends a byte', async () => {
    const client = await connect();
    const opened = Date.now();
    // One harmless byte at a time, far more often than the deadline: each is a chunk header's start.
    client.send(chunkHeader(3, 4000, 20));
    const trickle = setInterval(() => client.send(Buffer.alloc(1)), 200);
    try {
      await client.waitClosed('a client trickling bytes without publishing', 8000);
    } finally {
      clearInterval(trickle);
    }
    expect(Date.now() - opened).toBeLessThan(6000);
    expect(logText()).toMatch(/did not publish within 1\.5 s; closing/);
  });
});

describe('when a publisher stalls', () => {
  it('ends the session after the media idle time, and the key publishes again', async () => {
    const first = await connect();
    first.publish('app', KEY);
    await first.waitFor('NetStream.Publish.Start', () => first.heard('NetStream.Publish.Start'));
    // A little video, then nothing: the socket stays open, as a SIGSTOPped OBS's does.
    first.send(message(6, 9, 1, Buffer.from([0x17, 0x01, 0, 0, 0, 1, 2, 3])));
    const session = sessions.at(-1);
    await waitUntil('the video tag to reach the session', () => (session?.writes.length ?? 0) >= 2);
    await first.waitClosed('a publisher that stopped sending media');
    expect(session?.ended).toBe(true);
    expect(logText()).toMatch(/sent nothing for 2 s; ending the stream/);

    const second = await connect();
    second.publish('app', KEY);
    await second.waitFor('the reconnect to be accepted', () => second.heard('NetStream.Publish.Start'));
    expect(second.heard('already has a publisher')).toBe(false);
  });

  it('takes a 3 MB key frame in 4 KB chunks, and ends the session on deleteStream', async () => {
    const client = await connect();
    client.publish('app', KEY);
    await client.waitFor('NetStream.Publish.Start', () => client.heard('NetStream.Publish.Start'));
    client.send(message(2, 1, 0, Buffer.from([0, 0, 0x10, 0])));
    const frame = Buffer.alloc(3 * 1024 * 1024, 0x42);
    frame[0] = 0x17;
    const session = sessions.at(-1);
    client.send(message(6, 9, 1, frame, 4096));
    const tag = await waitUntil('the key frame as one FLV tag', () =>
      session?.writes.find((w) => w.length > frame.length),
    );
    // FLV tag: 11-byte header, the data, then the 4-byte previous tag size.
    expect(tag.length).toBe(11 + frame.length + 4);
    expect(tag.readUIntBE(1, 3)).toBe(frame.length);
    expect(client.closed).toBe(false);
    expect(ingest.stats().bufferedBytes).toBe(0);
    // OBS's stop: the session ends and the connection, now without a deadline, is closed.
    client.send(message(3, 20, 0, amf0('deleteStream', 4, null, 1)));
    await client.waitClosed('a publisher that said deleteStream');
    expect(session?.ended).toBe(true);
  });
});

describe('when names in the request hold a key or control characters', () => {
  it('logs neither the key nor a forged line', async () => {
    const client = await connect();
    const mark = log.length;
    client.publish(`app/${KEY}\n[ingest] publishing from 6.6.6.6 to forged`, KEY);
    await client.waitFor('the refusal', () => client.heard('NetStream.Publish.BadName'));
    const lines = log.slice(mark);
    expect(lines.join('\n')).toMatch(/application must be "app", not "app\/…" \(\d+ characters\)/);
    for (const line of lines) {
      expect(line).not.toContain(KEY.slice(9));
      expect([...line].filter((c) => c.charCodeAt(0) < 0x20 || c.charCodeAt(0) === 0x7f)).toEqual([]);
    }
    expect(lines.join('\n')).not.toMatch(/^\[ingest\] publishing from 6\.6\.6\.6/m);
  });
});
