import * as net from 'node:net';
import nmsLogger from 'node-media-server/src/core/logger.js';
import Flv, { type AvPacket } from 'node-media-server/src/protocol/flv.js';
import { type BoundedRtmp, createBoundedRtmp } from './bounded-rtmp';
import { type ChunkLimits, RtmpLimitError } from './rtmp-chunks';
import { escapeForLog, nameForLog } from './rtmp-names';

/** The RTMP application every IVS ingest URL ends in: `rtmp(s)://<ingest>/app/<streamKey>`. */
export const INGEST_APP = 'app';

const FLV_AUDIO = 8;
const FLV_VIDEO = 9;
/** C0, the first byte of every RTMP connection: the protocol version, 3. */
const RTMP_VERSION = 0x03;
/** A connection that has not started publishing this long after it opened is closed. */
export const PUBLISH_WITHIN_MS = 10_000;
/** A publisher that sends nothing for this long is ended, as IVS ends a broadcast. */
export const MEDIA_IDLE_MS = 10_000;

/**
 * Before a publish is accepted: commands only (`connect` is a few hundred bytes), on the few chunk
 * streams OBS and ffmpeg use (2 and 3; node-media-server keeps 8). docs/local-video.md, "Bounds".
 */
export const BEFORE_PUBLISH_LIMITS: ChunkLimits = {
  maxMessageBytes: 64 * 1024,
  maxChunkStreams: 8,
  maxBufferedBytes: 128 * 1024,
};

/**
 * While publishing: any RTMP message (24-bit lengths, so under 16 MiB; OBS key frames at high
 * bitrates are a few MB), on up to 16 chunk streams, with 32 MiB held in all.
 */
export const PUBLISHING_LIMITS: ChunkLimits = {
  maxMessageBytes: 0xffffff,
  maxChunkStreams: 16,
  maxBufferedBytes: 32 * 1024 * 1024,
};

/** Replies a client has not read yet: a client that sends commands and never reads is closed. */
export const MAX_UNSENT_BYTES = 256 * 1024;
/**
 * Connections not publishing yet, at once: more are closed on arrival. With the limits above each
 * holds at most 128 KiB + 256 KiB, so a flood of connections is bounded too (OBS needs one).
 */
export const MAX_WAITING_CONNECTIONS = 64;

/** Where a publisher's FLV tags go while it publishes. */
export interface PublishSink {
  write(flv: Buffer): void;
  end(): void;
}

export interface RtmpIngestOptions {
  readonly port: number;
  /** Finds the channel a stream key belongs to; undefined refuses the publish. */
  readonly channelForKey: (streamKey: string) => string | undefined;
  /** Starts a session for the channel, or says why it cannot (e.g. already publishing). */
  readonly publish: (channelArn: string) => PublishSink | string;
  readonly log: (line: string) => void;
  /** How long after it opens a connection must be publishing, in ms. @default PUBLISH_WITHIN_MS */
  readonly publishWithinMs?: number;
  /** How long a publisher may send nothing before it is ended, in ms. @default MEDIA_IDLE_MS */
  readonly mediaIdleMs?: number;
}

/** What the ingest holds now, for tests and the fuzz (docs/reliability.md, "Hostile RTMP clients"). */
export interface RtmpIngestStats {
  /** Open connections. */
  readonly connections: number;
  /** Bytes held for incomplete RTMP messages, all connections together. */
  readonly bufferedBytes: number;
  /** Bytes of replies written but not yet taken by the kernel. */
  readonly unsentBytes: number;
}

/**
 * The local ingest: an RTMP server on 127.0.0.1 that takes what OBS or ffmpeg publishes to
 * `rtmp://127.0.0.1:<port>/app/<streamKey>`, as IVS takes it at its ingest endpoint. A wrong
 * application or stream key is refused with `NetStream.Publish.BadName` before any video is read,
 * and playing from the ingest is refused (IVS ingest does not serve viewers).
 *
 * The RTMP wire protocol (handshake, chunks, AMF commands) is node-media-server's parser, used on
 * its own: its server keeps one global context per process, and the runtime boots side by side.
 */
export class RtmpIngest {
  private server?: net.Server;
  private readonly sockets = new Set<net.Socket>();
  private readonly connections = new Map<net.Socket, BoundedRtmp>();
  /** Connections not publishing yet, and how many were closed on arrival since the last log. */
  private waiting = 0;
  private turnedAway = 0;
  readonly url: string;

  constructor(private readonly options: RtmpIngestOptions) {
    this.url = `rtmp://127.0.0.1:${options.port}/${INGEST_APP}/`;
    // The parser logs every unknown command at trace level; keep the runtime log readable.
    nmsLogger.level = 'error';
  }

  async start(): Promise<void> {
    const server = net.createServer((socket) => this.connection(socket));
    await new Promise<void>((resolve, reject) => {
      server.once('error', (error: NodeJS.ErrnoException) =>
        reject(
          new Error(
            `RTMP ingest: port ${this.options.port} on 127.0.0.1 is taken (${error.code}); set CUECAST_LOCAL_PORT`,
          ),
        ),
      );
      server.listen(this.options.port, '127.0.0.1', () => resolve());
    });
    this.server = server;
  }

  async stop(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    const server = this.server;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** What the open connections hold now. */
  stats(): RtmpIngestStats {
    let bufferedBytes = 0;
    let unsentBytes = 0;
    for (const [socket, rtmp] of this.connections) {
      bufferedBytes += rtmp.chunks.bufferedBytes;
      unsentBytes += socket.writableLength;
    }
    return { connections: this.connections.size, bufferedBytes, unsentBytes };
  }

  private connection(socket: net.Socket): void {
    const { log } = this.options;
    const peer = `${socket.remoteAddress}:${socket.remotePort}`;
    if (this.waiting >= MAX_WAITING_CONNECTIONS) {
      // One line for a flood, not one per connection.
      if (this.turnedAway++ === 0)
        log(
          `[ingest] ${MAX_WAITING_CONNECTIONS} connections are waiting to publish; closing new ones until some end`,
        );
      socket.destroy();
      return;
    }
    if (this.turnedAway > 0) {
      log(`[ingest] taking connections again (${this.turnedAway} closed on arrival)`);
      this.turnedAway = 0;
    }
    let waiting = true;
    const stopWaiting = () => {
      if (waiting) this.waiting--;
      waiting = false;
    };
    this.waiting++;
    this.sockets.add(socket);
    const rtmp = createBoundedRtmp(BEFORE_PUBLISH_LIMITS);
    this.connections.set(socket, rtmp);
    let sink: PublishSink | undefined;
    /** Set once a publish is refused or the connection broke a rule: nothing more is read. */
    let done = false;
    const close = (why: string) => {
      if (done && socket.destroyed) return;
      done = true;
      log(`[ingest] ${peer} ${why}; closing`);
      socket.destroy();
    };
    rtmp.onOutputCallback = (buffer) => {
      if (socket.destroyed) return;
      socket.write(buffer);
      if (socket.writableLength > MAX_UNSENT_BYTES)
        close(`left ${socket.writableLength} bytes of replies unread`);
    };
    // A fixed deadline from the connection's start, not an idle timer: a client trickling a byte
    // at a time must not stay for ever.
    const publishWithinMs = this.options.publishWithinMs ?? PUBLISH_WITHIN_MS;
    const deadline = setTimeout(
      () => close(`did not publish within ${publishWithinMs / 1000} s`),
      publishWithinMs,
    );
    const mediaIdleMs = this.options.mediaIdleMs ?? MEDIA_IDLE_MS;
    let idle: NodeJS.Timeout | undefined;
    rtmp.onPublish = (message) => {
      const streamName = String(message.streamName ?? '').split('?')[0];
      const streamId = rtmp.parserPacket.header.stream_id;
      const refuse = (why: string) => {
        done = true;
        log(`[ingest] publish refused from ${peer}: ${why}`);
        rtmp.sendStatusMessage(streamId, 'error', 'NetStream.Publish.BadName', why);
        socket.end();
      };
      if (sink) return refuse('this connection is already publishing');
      const app = String(rtmp.streamApp ?? '');
      // Never print the app in full: `app/<key>` as the server URL is a common OBS mistake.
      if (app !== INGEST_APP)
        return refuse(
          `the application must be "${INGEST_APP}", not ${nameForLog(app)}` +
            (app.startsWith(`${INGEST_APP}/`)
              ? ' (the stream key goes in its own field, not the server URL)'
              : ''),
        );
      const channelArn = this.options.channelForKey(streamName);
      // Never echo the key: a wrong one may be a real key for something else.
      if (!channelArn) return refuse('wrong stream key (npm run stream-key -- --local prints the right one)');
      const started = this.options.publish(channelArn);
      if (typeof started === 'string') return refuse(started);
      sink = started;
      clearTimeout(deadline);
      stopWaiting();
      rtmp.chunks.setLimits(PUBLISHING_LIMITS);
      sink.write(Flv.createHeader(true, true));
      rtmp.sendStatusMessage(
        streamId,
        'status',
        'NetStream.Publish.Start',
        `${INGEST_APP}/… is now published.`,
      );
      log(`[ingest] publishing from ${peer} to ${channelArn}`);
      // A stalled publisher (a frozen OBS, a SIGSTOP) ends as a disconnected one does.
      idle = setTimeout(() => {
        if (!sink) return;
        log(`[ingest] publisher ${peer} sent nothing for ${mediaIdleMs / 1000} s; ending the stream`);
        unpublish();
        close('stalled');
      }, mediaIdleMs);
    };
    rtmp.onPlay = () => {
      done = true;
      log(`[ingest] play refused from ${peer}: the ingest takes publishers only`);
      rtmp.sendStatusMessage(
        rtmp.parserPacket.header.stream_id,
        'error',
        'NetStream.Play.Failed',
        'ingest only',
      );
      socket.end();
    };
    rtmp.onPacketCallback = (packet: AvPacket) => {
      // Audio and video only: RTMP's `@setDataFrame` script tag is not FLV's `onMetaData`, and
      // ffmpeg reads the codecs from the streams' own headers.
      if (!sink || (packet.codec_type !== FLV_AUDIO && packet.codec_type !== FLV_VIDEO)) return;
      idle?.refresh();
      sink.write(Flv.createMessage(packet));
    };
    const unpublish = () => {
      clearTimeout(idle);
      if (!sink) return;
      log(`[ingest] publisher ${peer} stopped`);
      sink.end();
      sink = undefined;
    };
    // OBS says deleteStream when it stops; a dropped connection just closes. A connection that
    // stopped publishing is done: it would otherwise keep the publishing limits with no deadline.
    rtmp.onDeleteStream = () => {
      if (!sink) return;
      unpublish();
      done = true;
      socket.destroy();
    };
    let greeted = false;
    socket.on('data', (data: Buffer) => {
      if (done) return;
      // Any bytes keep a publisher alive: a large key frame arrives in many chunks before its
      // message completes, and on a slow link that can take longer than the idle time.
      if (sink) idle?.refresh();
      if (!greeted && data.length > 0) {
        greeted = true;
        // The parser takes any first byte as a version and waits for a handshake that never comes.
        if (data[0] !== RTMP_VERSION)
          return close(`sent something that is not RTMP (first byte 0x${data[0].toString(16)})`);
      }
      try {
        const error = rtmp.parserData(data);
        if (error) close(`sent something that is not RTMP (${escapeForLog(error)})`);
      } catch (thrown) {
        const text = escapeForLog((thrown as Error).message);
        close(
          thrown instanceof RtmpLimitError
            ? `went past a limit: ${text}`
            : `sent something that is not RTMP (${text})`,
        );
      }
    });
    const finish = () => {
      clearTimeout(deadline);
      stopWaiting();
      this.sockets.delete(socket);
      this.connections.delete(socket);
      rtmp.chunks.release();
      unpublish();
    };
    socket.on('close', finish);
    socket.on('error', () => socket.destroy());
  }
}
