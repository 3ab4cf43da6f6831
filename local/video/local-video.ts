import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import type { ServerResponse } from 'node:http';
import { FFMPEG_MISSING, hasFfmpeg, remuxFlvToTs, stopFfmpeg } from './ffmpeg';
import { HlsPackager, type InsertedCue } from './hls-packager';
import type { PublishSink } from './rtmp-ingest';

export interface LocalVideoOptions {
  readonly log: (line: string) => void;
  /** A publisher started (true) or stopped (false) on a channel: the stream state follows it. */
  readonly onPublishing: (channelArn: string, publishing: boolean) => void;
  /** Shortest HLS segment, in seconds. @default 1 */
  readonly segmentSeconds?: number;
}

interface Session {
  readonly channelArn: string;
  readonly packager: HlsPackager;
  readonly ffmpeg: ChildProcessWithoutNullStreams;
  ended: boolean;
}

/** The last part of a channel ARN (`arn:aws:ivs:…:channel/<id>`): the id in its playback path. */
export const channelIdOf = (channelArn: string): string => channelArn.slice(channelArn.lastIndexOf('/') + 1);

/** Where a channel's live playlist is served, under the IVS stand-in's endpoint. */
export const playbackPath = (channelId: string): string => `/_local/playback/${channelId}/live.m3u8`;

/**
 * Local video for the IVS stand-in: each publish runs ffmpeg (`-c copy`, FLV to MPEG-TS) into an
 * `HlsPackager`, whose live playlist is served at the channel's local `PlaybackUrl`, and every cue
 * `PutMetadata` accepts is written into that video at the live edge.
 */
/** How recently a connection must have fetched the playlist to count as a viewer. */
const VIEWER_WINDOW_MS = 10_000;

export class LocalVideo {
  private readonly sessions = new Map<string, Session>();
  /** The last session's packager per channel, kept after it ends so its cues can be read. */
  private readonly last = new Map<string, HlsPackager>();
  /** Per channel: each connection that fetched the playlist, and when it last did. */
  private readonly audience = new Map<string, Map<string, number>>();

  constructor(private readonly options: LocalVideoOptions) {}

  /** Starts a publish session, or says why not (as the ingest's refusal text). */
  publish(channelArn: string): PublishSink | string {
    if (this.sessions.has(channelArn)) return 'the channel already has a publisher (IVS takes one at a time)';
    if (!hasFfmpeg()) return FFMPEG_MISSING;
    const { log } = this.options;
    const packager = new HlsPackager({ targetSeconds: this.options.segmentSeconds ?? 1 });
    const ffmpeg = remuxFlvToTs(log);
    const session: Session = { channelArn, packager, ffmpeg, ended: false };
    this.sessions.set(channelArn, session);
    this.last.set(channelArn, packager);
    ffmpeg.stdout.on('data', (chunk: Buffer) => packager.push(chunk));
    ffmpeg.on('close', (code) => {
      if (!session.ended) log(`[video] ffmpeg stopped unexpectedly (exit ${code}); the stream ends`);
      this.finish(session);
    });
    this.options.onPublishing(channelArn, true);
    return {
      write: (flv) => {
        if (!session.ended) session.ffmpeg.stdin.write(flv);
      },
      end: () => {
        if (session.ended) return;
        session.ended = true;
        session.ffmpeg.stdin.end();
        // ffmpeg drains what it has, then exits: `close` finishes the session.
        setTimeout(() => session.ffmpeg.kill('SIGKILL'), 3000).unref();
      },
    };
  }

  private finish(session: Session): void {
    if (this.sessions.get(session.channelArn) !== session) return;
    session.ended = true;
    session.packager.end();
    this.sessions.delete(session.channelArn);
    this.options.onPublishing(session.channelArn, false);
  }

  /** Whether a publisher is sending video to the channel now. */
  publishing(channelArn: string): boolean {
    return this.sessions.has(channelArn);
  }

  /** Writes a cue into the channel's video at the live edge; undefined when there is no video. */
  insertCue(channelArn: string, text: string): InsertedCue | undefined {
    return this.sessions.get(channelArn)?.packager.insertText(text);
  }

  /** Cues written into the channel's current (or last) stream, with their PTS. */
  cues(channelArn: string): readonly InsertedCue[] {
    return this.last.get(channelArn)?.cues ?? [];
  }

  /**
   * Serves `/_local/playback/<channelId>/live.m3u8` and its segments, with CORS open to any
   * origin as IVS playback is. 404 while the channel has no video, as for an offline IVS channel.
   */
  /**
   * IVS's `viewerCount`, locally: the connections that fetched a channel's live playlist in the
   * last 10 s. A player polls its playlist every segment (1 s here) over one kept-alive
   * connection, so each playing page counts once.
   */
  viewerCount(channelArn: string, now = Date.now()): number {
    const seen = this.audience.get(channelArn);
    if (!seen) return 0;
    for (const [connection, at] of seen) if (now - at > VIEWER_WINDOW_MS) seen.delete(connection);
    return seen.size;
  }

  private saw(channelArn: string, res: ServerResponse): void {
    const seen = this.audience.get(channelArn) ?? new Map<string, number>();
    seen.set(`${res.socket?.remoteAddress}:${res.socket?.remotePort}`, Date.now());
    this.audience.set(channelArn, seen);
  }

  serve(res: ServerResponse, channelArns: readonly string[], pathname: string): void {
    const match = /^\/_local\/playback\/([a-z0-9-]+)\/(live\.m3u8|(\d{1,9})\.ts)$/.exec(pathname);
    const channelArn = match && channelArns.find((arn) => channelIdOf(arn) === match[1]);
    const packager = channelArn ? this.sessions.get(channelArn)?.packager : undefined;
    const headers = { 'Access-Control-Allow-Origin': '*', 'Cache-Control': 'no-cache' };
    if (!match || !packager) {
      res
        .writeHead(404, { ...headers, 'Content-Type': 'text/plain' })
        .end('no live stream on this channel\n');
      return;
    }
    if (match[3] === undefined) {
      const playlist = packager.playlist();
      if (!playlist) {
        res.writeHead(404, { ...headers, 'Content-Type': 'text/plain' }).end('the stream is starting\n');
        return;
      }
      this.saw(channelArn as string, res);
      res.writeHead(200, { ...headers, 'Content-Type': 'application/vnd.apple.mpegurl' }).end(playlist);
      return;
    }
    const segment = packager.segment(Number(match[3]));
    if (!segment) {
      res.writeHead(404, { ...headers, 'Content-Type': 'text/plain' }).end('no such segment\n');
      return;
    }
    res
      .writeHead(200, { ...headers, 'Content-Type': 'video/mp2t', 'Cache-Control': 'max-age=60' })
      .end(segment.data);
  }

  /** Stops every session's ffmpeg. */
  async stop(): Promise<void> {
    await Promise.all(
      [...this.sessions.values()].map((session) => {
        session.ended = true;
        return stopFfmpeg(session.ffmpeg);
      }),
    );
  }
}
