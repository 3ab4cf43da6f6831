import * as net from 'node:net';
import nmsLogger from 'node-media-server/src/core/logger.js';
import Flv, { type AvPacket } from 'node-media-server/src/protocol/flv.js';
import Rtmp from 'node-media-server/src/protocol/rtmp.js';

/** The RTMP application every IVS ingest URL ends in: `rtmp(s)://<ingest>/app/<streamKey>`. */
export const INGEST_APP = 'app';

const FLV_AUDIO = 8;
const FLV_VIDEO = 9;
/** C0, the first byte of every RTMP connection: the protocol version, 3. */
const RTMP_VERSION = 0x03;
/** A connection that has not started publishing by then is closed. */
const PUBLISH_WITHIN_MS = 10_000;

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

  private connection(socket: net.Socket): void {
    this.sockets.add(socket);
    const { log } = this.options;
    const peer = `${socket.remoteAddress}:${socket.remotePort}`;
    const rtmp = new Rtmp();
    let sink: PublishSink | undefined;
    rtmp.onOutputCallback = (buffer) => {
      if (!socket.destroyed) socket.write(buffer);
    };
    rtmp.onPublish = (message) => {
      const streamName = String(message.streamName ?? '').split('?')[0];
      const streamId = rtmp.parserPacket.header.stream_id;
      const refuse = (why: string) => {
        log(`[ingest] publish refused from ${peer}: ${why}`);
        rtmp.sendStatusMessage(streamId, 'error', 'NetStream.Publish.BadName', why);
        socket.end();
      };
      if (rtmp.streamApp !== INGEST_APP)
        return refuse(`the application must be "${INGEST_APP}", not "${rtmp.streamApp}"`);
      const channelArn = this.options.channelForKey(streamName);
      // Never echo the key: a wrong one may be a real key for something else.
      if (!channelArn) return refuse('wrong stream key (npm run stream-key -- --local prints the right one)');
      const started = this.options.publish(channelArn);
      if (typeof started === 'string') return refuse(started);
      sink = started;
      sink.write(Flv.createHeader(true, true));
      rtmp.sendStatusMessage(
        streamId,
        'status',
        'NetStream.Publish.Start',
        `${INGEST_APP}/… is now published.`,
      );
      log(`[ingest] publishing from ${peer} to ${channelArn}`);
    };
    rtmp.onPlay = () => {
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
      // ffmpeg reads the codecs from the streams' own headers. The parser reuses the packet's
      // buffer, so createMessage copies it before the next one.
      if (packet.codec_type === FLV_AUDIO || packet.codec_type === FLV_VIDEO)
        sink?.write(Flv.createMessage(packet));
    };
    const unpublish = () => {
      if (!sink) return;
      log(`[ingest] publisher ${peer} stopped`);
      sink.end();
      sink = undefined;
    };
    // OBS says deleteStream when it stops; a dropped connection just closes.
    rtmp.onDeleteStream = unpublish;
    let greeted = false;
    // The parser takes any first byte as a version and waits for a handshake that never comes.
    socket.setTimeout(PUBLISH_WITHIN_MS, () => {
      if (sink) return;
      log(`[ingest] ${peer} did not publish within ${PUBLISH_WITHIN_MS / 1000} s; closing`);
      socket.destroy();
    });
    socket.on('data', (data: Buffer) => {
      if (!greeted && data.length > 0) {
        greeted = true;
        if (data[0] !== RTMP_VERSION) {
          log(
            `[ingest] ${peer} sent something that is not RTMP (first byte 0x${data[0].toString(16)}); closing`,
          );
          socket.destroy();
          return;
        }
      }
      let error: string | null;
      try {
        error = rtmp.parserData(data);
      } catch (thrown) {
        error = (thrown as Error).message;
      }
      if (error) {
        log(`[ingest] ${peer} sent something that is not RTMP (${error}); closing`);
        socket.destroy();
      }
    });
    const finish = () => {
      this.sockets.delete(socket);
      unpublish();
    };
    socket.on('close', finish);
    socket.on('error', () => socket.destroy());
  }
}
