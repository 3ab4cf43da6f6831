import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HlsPackager, type InsertedCue, type Segment } from '../../local/video/hls-packager';
import { decodePts, muxTimedMetadata, packetsOf, pesOn, type RawPacket, requireTool } from './support';

/**
 * The packager at the edges of a real ffmpeg stream: the 33-bit PTS wrap, B-frames (PES order is
 * not presentation order), and a stream without audio.
 */

const VIDEO_PID = 0x100;
const PTS_WRAP = 2 ** 33;
/** ffmpeg's MPEG-TS muxer starts video at 1.4 s (twice its 0.7 s default delay). */
const MUX_DELAY = 126_000;
/** Puts the wrap 2.5 s into the stream, half way between two frames of the third segment. */
const WRAP_OFFSET = ((PTS_WRAP - 2.5 * 90_000 + 1500 - MUX_DELAY) / 90_000).toFixed(6);

let dir: string;
afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** 320x180 at 30 fps, a key frame every second, encoded by ffmpeg with `extra` arguments. */
function encode(name: string, seconds: number, extra: string[]): Buffer {
  const ffmpeg = requireTool('ffmpeg');
  dir ??= mkdtempSync(join(tmpdir(), 'cuecast-hls-edges-'));
  const file = join(dir, `${name}.ts`);
  // biome-ignore format: ffmpeg arguments read best in their pairs
  execFileSync(ffmpeg, [
    '-hide_banner', '-loglevel', 'error',
    '-f', 'lavfi', '-i', 'testsrc2=size=320x180:rate=30',
    '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000',
    '-t', String(seconds), '-g', '30', '-c:v', 'libx264', '-pix_fmt', 'yuv420p', '-c:a', 'aac',
    ...extra, '-pes_payload_size', '0', '-f', 'mpegts', file,
  ]);
  return readFileSync(file);
}

/** The PTS of the video PES starting in this packet, read without the packager's code. */
const videoPts = (p: RawPacket) =>
  p.pid === VIDEO_PID && p.unitStart && p.payload[7] & 0x80 ? decodePts(p.payload, 9) : undefined;
const keyFramePts = (ts: Buffer) =>
  packetsOf(ts)
    .filter((p) => p.randomAccess && videoPts(p) !== undefined)
    .map((p) => videoPts(p) as number);
const segmentsOf = (packager: HlsPackager) => {
  const segments: Segment[] = [];
  for (let seq = 0; packager.segment(seq); seq++) segments.push(packager.segment(seq) as Segment);
  return segments;
};
const metadataPtsIn = (segment: Segment, pid: number) =>
  pesOn(packetsOf(segment.data), pid).map((pes) => decodePts(pes, 9));

describe('across the 33-bit PTS wrap', () => {
  let input: Buffer;
  let keys: number[];
  let packager: HlsPackager;
  let cue: InsertedCue | undefined;
  let edgeAtCue: number | undefined;
  const edges: number[] = [];

  beforeAll(() => {
    input = encode('wrap', 4, ['-preset', 'ultrafast', '-output_ts_offset', WRAP_OFFSET]);
    keys = keyFramePts(input);
    packager = new HlsPackager();
    for (let at = 0; at < input.length; at += 1000) {
      packager.push(input.subarray(at, at + 1000));
      if (packager.liveEdgePts !== undefined) edges.push(packager.liveEdgePts);
      // Half way into the fourth segment, which starts after the wrap.
      if (!cue && packager.segment(2) && (packager.liveEdgePts ?? 0) >= keys[3] + 45_000) {
        edgeAtCue = packager.liveEdgePts;
        cue = packager.insertText('after the wrap');
      }
    }
    packager.end();
  });

  it('has an input whose PTS wraps inside the third segment', () => {
    expect(keys).toHaveLength(4);
    expect(keys[2]).toBeGreaterThan(PTS_WRAP - 90_000);
    expect(keys[3]).toBeLessThan(90_000);
  });

  it('still cuts a segment at each key frame after one second, each about 1 s long', () => {
    const segments = segmentsOf(packager);
    expect(segments.map((s) => s.firstPts)).toEqual(keys);
    for (const s of segments.slice(0, -1)) expect(s.durationSeconds).toBeCloseTo(1, 3);
    expect(segments.at(-1)?.durationSeconds).toBeGreaterThan(0.9);
    expect(segments.at(-1)?.durationSeconds).toBeLessThan(1);
    expect(packager.playlist()).toContain('#EXT-X-TARGETDURATION:1\n');
  });

  it('moves the live edge forward through the wrap, to the last frame', () => {
    const back = edges.filter((e, i) => i > 0 && (e - edges[i - 1] + PTS_WRAP) % PTS_WRAP > PTS_WRAP / 2);
    expect(back).toEqual([]);
    const lastVideoPts = packetsOf(input)
      .map(videoPts)
      .filter((p) => p !== undefined)
      .at(-1);
    expect(packager.liveEdgePts).toBe(lastVideoPts);
    expect(packager.liveEdgePts).toBeLessThan(2 * 90_000);
  });

  it('stamps a cue after the wrap with the small wrapped PTS of the live edge', () => {
    expect(cue).toMatchObject({ text: 'after the wrap', segment: 3, pts: edgeAtCue });
    expect(cue?.pts).toBeGreaterThan(keys[3]);
    expect(cue?.pts).toBeLessThan(keys[3] + 90_000);
    const segment = packager.segment(3) as Segment;
    expect(metadataPtsIn(segment, 0x102)).toEqual([keys[3], cue?.pts]);
  });
});

describe('with B-frames (x264 medium)', () => {
  let packets: RawPacket[];
  let packager: HlsPackager;
  const edges: Array<number | undefined> = [];
  const expected: Array<number | undefined> = [];
  const cues: Array<InsertedCue | undefined> = [];
  let bFramePts: number | undefined;
  let newestAtCues: number | undefined;

  beforeAll(() => {
    const input = encode('bframes', 3, ['-preset', 'medium', '-bf', '3']);
    packets = packetsOf(input);
    packager = new HlsPackager();
    let newest: number | undefined;
    for (const packet of packets) {
      const pts = videoPts(packet);
      // The first frame after the first segment that presents before one already seen.
      const bFrame = pts !== undefined && newest !== undefined && pts < newest && packager.segment(0);
      if (bFrame && cues.length === 0) {
        newestAtCues = newest;
        cues.push(packager.insertText('before a B-frame'));
      }
      packager.push(packet.bytes);
      if (bFrame && cues.length === 1) {
        bFramePts = pts;
        cues.push(packager.insertText('after it'));
      }
      if (pts !== undefined) newest = Math.max(pts, newest ?? pts);
      edges.push(packager.liveEdgePts);
      expected.push(newest);
    }
    packager.end();
  });

  it('has an input whose PES order is not PTS order', () => {
    const pts = packets.map(videoPts).filter((p) => p !== undefined);
    expect(pts.some((p, i) => i > 0 && p < pts[i - 1])).toBe(true);
  });

  it('keeps the live edge at the newest video PTS seen, never going back, pushed packet by packet', () => {
    const back = edges.flatMap((e, i) =>
      i > 0 && (e ?? 0) < (edges[i - 1] ?? 0) ? [{ packet: i, from: edges[i - 1], to: e }] : [],
    );
    expect(back.slice(0, 3)).toEqual([]);
    const wrong = edges.flatMap((e, i) =>
      e === expected[i] ? [] : [{ packet: i, edge: e, newest: expected[i] }],
    );
    expect(wrong.slice(0, 3)).toEqual([]);
  });

  it('gives two cues either side of a B-frame non-decreasing PTS, both at the live edge', () => {
    expect(bFramePts).toBeDefined();
    const [first, second] = cues;
    expect(newestAtCues).toBeGreaterThan(bFramePts as number);
    expect(second?.pts).toBeGreaterThanOrEqual(first?.pts as number);
    // The B-frame presents before the newest frame: the edge, and so both cues, stay on the newest.
    expect([first?.pts, second?.pts]).toEqual([newestAtCues, newestAtCues]);
  });

  it('still cuts about 1 s segments at the key frames', () => {
    const segments = segmentsOf(packager);
    expect(segments.map((s) => s.firstPts)).toEqual(keyFramePts(Buffer.concat(packets.map((p) => p.bytes))));
    for (const s of segments.slice(0, -1)) expect(s.durationSeconds).toBeCloseTo(1, 3);
  });
});

describe('a stream with video only', () => {
  it('is segmented, and takes a cue, with no audio at all', () => {
    const input = encode('video-only', 2.5, ['-preset', 'ultrafast', '-an']);
    const packager = new HlsPackager();
    let cue: InsertedCue | undefined;
    for (let at = 0; at < input.length; at += 1000) {
      packager.push(input.subarray(at, at + 1000));
      if (!cue && packager.segment(0)) cue = packager.insertText('no audio');
    }
    packager.end();
    const segments = segmentsOf(packager);
    expect(segments.map((s) => s.firstPts)).toEqual(keyFramePts(input));
    expect(segments.map((s) => Math.round(s.durationSeconds * 10))).toEqual([10, 10, 5]);
    expect(cue?.segment).toBe(1);
    const { programMapTable, tags } = muxTimedMetadata(segments[1].data);
    expect(programMapTable).toEqual({ video: VIDEO_PID, audio: null, 'timed-metadata': { 257: 0x15 } });
    expect(tags.map((t) => [t.pts, t.frames.at(-1)?.value])).toContainEqual([cue?.pts, 'no audio']);
  });
});
