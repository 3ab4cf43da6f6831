import { id3PrivateTag, id3TextTag } from './id3';
import {
  metadataPes,
  PAT_PID,
  type ProgramMap,
  PTS_HZ,
  pmtWithMetadata,
  readHeader,
  readPatPmtPid,
  readPmt,
  readPts,
  STREAM_TYPE,
  SYNC_BYTE,
  TS_PACKET_SIZE,
  withContinuity,
} from './ts';

export interface HlsPackagerOptions {
  /** Shortest segment, in seconds: a segment is cut at the first key frame after it. @default 1 */
  readonly targetSeconds?: number;
  /** Segments listed in the live playlist. @default 6 */
  readonly playlistLength?: number;
  readonly now?: () => number;
}

export interface Segment {
  readonly sequence: number;
  readonly durationSeconds: number;
  /** Wall clock when its first packet arrived, for `EXT-X-PROGRAM-DATE-TIME`. */
  readonly startedAt: number;
  readonly firstPts: number;
  readonly data: Buffer;
}

/** A cue written into the video: its text and the PTS of the frame it belongs to. */
export interface InsertedCue {
  readonly text: string;
  readonly pts: number;
  readonly segment: number;
  readonly insertedAt: number;
}

/** PTS count modulo 2^33 (about 26.5 hours). */
const PTS_WRAP = 2 ** 33;
/** How far `pts` is after `from`, across a wrap. */
const ptsSince = (pts: number, from: number): number => (((pts - from) % PTS_WRAP) + PTS_WRAP) % PTS_WRAP;

/** The owner of the private ID3 frame that starts every segment. */
export const HEARTBEAT_OWNER = 'com.cuecast.segment-start';

interface OpenSegment {
  readonly sequence: number;
  readonly startedAt: number;
  readonly firstPts: number;
  readonly packets: Buffer[];
}

/**
 * Turns a live MPEG-TS (ffmpeg's `-c copy` remux of the ingest) into an HLS live playlist of
 * short segments, and writes timed metadata into it as IVS does: each cue is an ID3 `TXXX` tag in
 * a PES on its own stream, declared in the PMT, stamped with the PTS of the newest video frame
 * (the live edge) at the moment `PutMetadata` accepted it.
 *
 * Segments start on a key frame, with a PAT and the rewritten PMT, so each one plays on its own.
 */
export class HlsPackager {
  private pending = Buffer.alloc(0);
  private pmtPid?: number;
  private videoPid?: number;
  private metadataPid?: number;
  private patPacket?: Buffer;
  private pmtPacket?: Buffer;
  private readonly continuity = new Map<number, number>();
  private open?: OpenSegment;
  private nextSequence = 0;
  private readonly done: Segment[] = [];
  private lastVideoPts?: number;
  /** Cues written into the video, oldest first (the bench reads their PTS). */
  readonly cues: InsertedCue[] = [];
  private readonly targetPts: number;
  private readonly playlistLength: number;
  private readonly now: () => number;
  /** Set once the stream ended: the playlist gets `EXT-X-ENDLIST`. */
  private ended = false;

  constructor(options: HlsPackagerOptions = {}) {
    this.targetPts = (options.targetSeconds ?? 1) * PTS_HZ;
    this.playlistLength = options.playlistLength ?? 6;
    this.now = options.now ?? Date.now;
  }

  /** Feeds the next bytes of the transport stream (any chunking). */
  push(chunk: Buffer): void {
    let buf = this.pending.length > 0 ? Buffer.concat([this.pending, chunk]) : chunk;
    let at = 0;
    while (at + TS_PACKET_SIZE <= buf.length) {
      if (buf[at] !== SYNC_BYTE) {
        at++; // Lost sync: find the next packet start.
        continue;
      }
      this.packet(buf.subarray(at, at + TS_PACKET_SIZE));
      at += TS_PACKET_SIZE;
    }
    buf = buf.subarray(at);
    this.pending = Buffer.from(buf);
  }

  /** Ends the stream: the open segment is closed and the playlist ends. */
  end(): void {
    if (this.open && this.lastVideoPts !== undefined) this.close(this.lastVideoPts);
    this.ended = true;
  }

  /** The PTS of the newest video frame seen: the live edge. */
  get liveEdgePts(): number | undefined {
    return this.lastVideoPts;
  }

  /**
   * Writes `text` into the video at the live edge. Returns the cue, or undefined when no video has
   * arrived yet (there is no frame to attach it to).
   */
  insertText(text: string): InsertedCue | undefined {
    if (!this.open || this.lastVideoPts === undefined || this.metadataPid === undefined) return undefined;
    this.writeMetadata(id3TextTag(text), this.lastVideoPts);
    const cue = { text, pts: this.lastVideoPts, segment: this.open.sequence, insertedAt: this.now() };
    this.cues.push(cue);
    return cue;
  }

  /** The live playlist, or undefined before the first segment is complete. */
  playlist(): string | undefined {
    const listed = this.done.slice(-this.playlistLength);
    if (listed.length === 0) return undefined;
    const target = Math.max(1, ...listed.map((s) => Math.ceil(s.durationSeconds)));
    const lines = [
      '#EXTM3U',
      '#EXT-X-VERSION:3',
      `#EXT-X-TARGETDURATION:${target}`,
      `#EXT-X-MEDIA-SEQUENCE:${listed[0].sequence}`,
    ];
    for (const segment of listed) {
      lines.push(`#EXT-X-PROGRAM-DATE-TIME:${new Date(segment.startedAt).toISOString()}`);
      lines.push(`#EXTINF:${segment.durationSeconds.toFixed(3)},`, `${segment.sequence}.ts`);
    }
    if (this.ended) lines.push('#EXT-X-ENDLIST');
    return `${lines.join('\n')}\n`;
  }

  /** A segment still held (the playlist's and a few before), by sequence number. */
  segment(sequence: number): Segment | undefined {
    return this.done.find((s) => s.sequence === sequence);
  }

  private packet(packet: Buffer): void {
    const header = readHeader(packet);
    if (header.pid === PAT_PID) {
      const pmtPid = readPatPmtPid(packet, header);
      if (pmtPid !== undefined) {
        this.pmtPid = pmtPid;
        this.patPacket = Buffer.from(packet);
        this.append(this.patPacket);
      }
      return;
    }
    if (header.pid === this.pmtPid) {
      const pmt = readPmt(packet, header);
      if (pmt) this.programMap(pmt);
      if (this.pmtPacket) this.append(this.pmtPacket);
      return;
    }
    if (header.pid === this.videoPid && header.unitStart) {
      const pts = readPts(packet, header);
      if (pts !== undefined) {
        if (header.randomAccess && (!this.open || ptsSince(pts, this.open.firstPts) >= this.targetPts)) {
          if (this.open) this.close(pts);
          this.open = { sequence: this.nextSequence++, startedAt: this.now(), firstPts: pts, packets: [] };
          // Each segment starts with the tables, so a player can join at any segment.
          if (this.patPacket) this.append(this.patPacket);
          if (this.pmtPacket) this.append(this.pmtPacket);
          // The IVS Player needs metadata in every segment, at its start: it plays a stream with a
          // metadata track only as far as that track has data, and it times a segment's cues from
          // the segment's first metadata. A private frame (which raises no cue) gives it both.
          this.writeMetadata(id3PrivateTag(HEARTBEAT_OWNER, Buffer.alloc(0)), pts);
        }
        // The newest frame in presentation order: with B-frames, PES order is not PTS order.
        if (this.lastVideoPts === undefined || ptsSince(pts, this.lastVideoPts) < PTS_WRAP / 2)
          this.lastVideoPts = pts;
      }
    }
    this.append(Buffer.from(packet));
  }

  private programMap(pmt: ProgramMap): void {
    if (this.pmtPid === undefined) return;
    this.videoPid = pmt.streams.find((s) => s.type === STREAM_TYPE.h264)?.pid;
    // A PID no stream of the program uses.
    this.metadataPid ??= Math.max(0x100, ...pmt.streams.map((s) => s.pid)) + 1;
    this.pmtPacket = pmtWithMetadata(pmt, this.pmtPid, this.metadataPid, 0);
  }

  /** Appends to the open segment (nothing before the first key frame), renumbering PSI. */
  private append(packet: Buffer): void {
    if (!this.open) return;
    const header = readHeader(packet);
    if (header.pid === PAT_PID || header.pid === this.pmtPid) {
      const cc = this.continuity.get(header.pid) ?? 0;
      this.continuity.set(header.pid, (cc + 1) & 0x0f);
      this.open.packets.push(withContinuity(packet, cc));
      return;
    }
    this.open.packets.push(packet);
  }

  /** Appends one ID3 tag at `pts` to the open segment, on the metadata stream. */
  private writeMetadata(tag: Buffer, pts: number): void {
    const pid = this.metadataPid;
    if (!this.open || pid === undefined) return;
    const packets = metadataPes(pid, pts, tag, this.continuity.get(pid) ?? 0);
    this.continuity.set(pid, ((this.continuity.get(pid) ?? 0) + packets.length) & 0x0f);
    this.open.packets.push(...packets);
  }

  private close(nextPts: number): void {
    const open = this.open;
    if (!open) return;

    this.done.push({
      sequence: open.sequence,
      durationSeconds: Math.max(0.001, ptsSince(nextPts, open.firstPts) / PTS_HZ),
      startedAt: open.startedAt,
      firstPts: open.firstPts,
      data: Buffer.concat(open.packets),
    });
    // Keep the playlist's segments and as many again, for players a little behind.
    while (this.done.length > this.playlistLength * 2) this.done.shift();
    this.open = undefined;
  }
}
