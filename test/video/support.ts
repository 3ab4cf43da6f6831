import { spawnSync } from 'node:child_process';

/**
 * Readers for the video tests that share no code with local/video: a plain MPEG-TS packet
 * splitter, a PTS decoder, and mux.js (the parser video.js and hls.js descend from) for ID3.
 */

/** mux.js ships no types: the few pieces the tests use. */
export interface MuxId3Frame {
  readonly id: string;
  readonly description?: string;
  readonly value?: string;
  readonly owner?: string;
  readonly data: Uint8Array | string;
}
export interface MuxTimedTag {
  readonly pts: number;
  readonly frames: MuxId3Frame[];
}

const parseId3 = require('mux.js/lib/tools/parse-id3.js') as {
  parseId3Frames(data: Uint8Array): MuxId3Frame[] | undefined;
  parseSyncSafeInteger(data: Uint8Array): number;
};
const m2ts = require('mux.js/lib/m2ts/m2ts.js') as Record<string, new () => any>;

export const muxParseId3Frames = (tag: Buffer) => parseId3.parseId3Frames(new Uint8Array(tag));
export const muxSyncSafe = (bytes: Buffer) => parseId3.parseSyncSafeInteger(new Uint8Array(bytes));

export interface MuxTransportResult {
  readonly tags: MuxTimedTag[];
  /** The last program map mux.js parsed: video and audio PIDs, metadata PIDs to stream type. */
  readonly programMapTable?: {
    video: number | null;
    audio: number | null;
    'timed-metadata': Record<number, number>;
  };
  readonly warnings: string[];
}

/** Runs a transport stream through mux.js's demuxing pipeline down to its ID3 metadata stream. */
export function muxTimedMetadata(ts: Buffer): MuxTransportResult {
  const packets = new m2ts.TransportPacketStream();
  const parse = new m2ts.TransportParseStream();
  const elementary = new m2ts.ElementaryStream();
  const metadata = new m2ts.MetadataStream();
  packets.pipe(parse).pipe(elementary).pipe(metadata);
  const tags: MuxTimedTag[] = [];
  const warnings: string[] = [];
  metadata.on('data', (tag: MuxTimedTag) => tags.push(tag));
  metadata.on('log', (log: { message: string }) => warnings.push(log.message));
  packets.push(new Uint8Array(ts));
  packets.flush();
  return { tags, programMapTable: parse.programMapTable, warnings };
}

export interface RawPacket {
  readonly pid: number;
  readonly unitStart: boolean;
  readonly continuity: number;
  readonly adaptationControl: number;
  readonly randomAccess: boolean;
  readonly payload: Buffer;
  readonly bytes: Buffer;
}

/** Splits a buffer into 188-byte packets, failing on anything that is not whole packets. */
export function packetsOf(buf: Buffer): RawPacket[] {
  if (buf.length % 188 !== 0) throw new Error(`${buf.length} bytes is not a whole number of packets`);
  const packets: RawPacket[] = [];
  for (let at = 0; at < buf.length; at += 188) {
    const bytes = buf.subarray(at, at + 188);
    if (bytes[0] !== 0x47) throw new Error(`no sync byte at ${at}`);
    const adaptationControl = (bytes[3] >> 4) & 0x03;
    const hasAdaptation = (adaptationControl & 0x02) !== 0;
    const start = hasAdaptation ? 5 + bytes[4] : 4;
    if (start > 188) throw new Error(`adaptation field overruns the packet at ${at}`);
    packets.push({
      pid: ((bytes[1] & 0x1f) << 8) | bytes[2],
      unitStart: (bytes[1] & 0x40) !== 0,
      continuity: bytes[3] & 0x0f,
      adaptationControl,
      randomAccess: hasAdaptation && bytes[4] > 0 && (bytes[5] & 0x40) !== 0,
      payload: adaptationControl & 0x01 ? bytes.subarray(start) : Buffer.alloc(0),
      bytes,
    });
  }
  return packets;
}

/** The PES packets on `pid`, each the concatenated payloads from one unit start to the next. */
export function pesOn(packets: readonly RawPacket[], pid: number): Buffer[] {
  const pes: Buffer[][] = [];
  for (const packet of packets.filter((p) => p.pid === pid)) {
    if (packet.unitStart) pes.push([]);
    pes.at(-1)?.push(packet.payload);
  }
  return pes.map((parts) => Buffer.concat(parts));
}

/** A 33-bit PES timestamp, with its marker bits checked. */
export function decodePts(bytes: Buffer, at: number): number {
  if ((bytes[at] & 1) !== 1 || (bytes[at + 2] & 1) !== 1 || (bytes[at + 4] & 1) !== 1)
    throw new Error('PTS marker bits missing');
  const value =
    (BigInt((bytes[at] >> 1) & 0x07) << 30n) |
    (BigInt(bytes[at + 1]) << 22n) |
    (BigInt(bytes[at + 2] >> 1) << 15n) |
    (BigInt(bytes[at + 3]) << 7n) |
    BigInt(bytes[at + 4] >> 1);
  return Number(value);
}

/** The path of a tool the test needs; throws (never skips) when it is not installed. */
export function requireTool(name: 'ffmpeg' | 'ffprobe'): string {
  const path = `/usr/bin/${name}`;
  const run = spawnSync(path, ['-version'], { encoding: 'utf8' });
  if (run.error || run.status !== 0)
    throw new Error(`${name} is required at ${path} for the video tests (apt-get install ffmpeg)`);
  return path;
}
