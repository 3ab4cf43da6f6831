import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HEARTBEAT_OWNER, HlsPackager, type InsertedCue, type Segment } from '../../local/video/hls-packager';
import { id3TextTag } from '../../local/video/id3';
import { decodePts, muxTimedMetadata, packetsOf, pesOn, requireTool } from './support';

/**
 * The local HLS packager on a real ffmpeg stream (4 s, 30 fps, a key frame every second), pushed
 * in odd-sized chunks with a cue written mid-stream; its segments are then read by ffprobe, ffmpeg
 * and mux.js, none of which share code with it.
 */

const VIDEO_PID = 0x100;
const AUDIO_PID = 0x101;
const METADATA_PID = 0x102;
/** Long enough to span three packets, as IVS's 1 KB payloads may. */
const CUE_TEXT = JSON.stringify({ text: 'héllo ✓', choices: ['a'.repeat(200), 'b'.repeat(200)] });

const inspector = require('mux.js/lib/tools/ts-inspector.js') as {
  inspect(bytes: Uint8Array): { video?: Array<{ pts: number }>; firstKeyFrame?: { pts: number } } | null;
};

let dir: string;
let ffmpeg: string;
let ffprobe: string;
let input: Buffer;
let packager: HlsPackager;
let segments: Segment[];
let cue: InsertedCue | undefined;
let liveEdgeAtCue: number | undefined;
let playlistBeforeFirstSegment: string | undefined;
let playlistBeforeEnd: string | undefined;
let clock = Date.UTC(2030, 0, 1);

const probe = (file: string, ...args: string[]) =>
  JSON.parse(execFileSync(ffprobe, ['-v', 'error', ...args, '-of', 'json', file], { encoding: 'utf8' }));
const segmentFile = (segment: Segment) => {
  const file = join(dir, `${segment.sequence}.ts`);
  writeFileSync(file, segment.data);
  return file;
};
/** ffprobe's `-show_data` hex dump back to bytes. */
const dumpBytes = (dump: string) =>
  Buffer.from(
    [...dump.matchAll(/^[0-9a-f]{8}: ((?:[0-9a-f]{2,4} )+)/gm)].map((m) => m[1].replace(/ /g, '')).join(''),
    'hex',
  );

beforeAll(() => {
  ffmpeg = requireTool('ffmpeg');
  ffprobe = requireTool('ffprobe');
  dir = mkdtempSync(join(tmpdir(), 'cuecast-hls-'));
  const source = join(dir, 'source.ts');
  // biome-ignore format: ffmpeg arguments read best in their pairs
  execFileSync(ffmpeg, [
    '-hide_banner', '-loglevel', 'error',
    '-f', 'lavfi', '-i', 'testsrc2=size=320x180:rate=30',
    '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000',
    '-t', '4', '-c:v', 'libx264', '-preset', 'ultrafast', '-g', '30', '-pix_fmt', 'yuv420p',
    '-c:a', 'aac', '-pes_payload_size', '0', '-f', 'mpegts', source,
  ]);
  input = readFileSync(source);

  packager = new HlsPackager({ now: () => (clock += 100) });
  let firstEdge: number | undefined;
  for (let at = 0, i = 0; at < input.length; i++) {
    const size = i % 2 === 0 ? 1000 : 7;
    packager.push(input.subarray(at, at + size));
    at += size;
    firstEdge ??= packager.liveEdgePts;
    if (firstEdge !== undefined && packager.segment(0) === undefined)
      playlistBeforeFirstSegment = packager.playlist();
    // Half way into the second segment, away from any key frame.
    if (!cue && firstEdge !== undefined && (packager.liveEdgePts ?? 0) >= firstEdge + 1.5 * 90_000) {
      liveEdgeAtCue = packager.liveEdgePts;
      cue = packager.insertText(CUE_TEXT);
    }
  }
  playlistBeforeEnd = packager.playlist();
  packager.end();
  segments = [];
  for (let seq = 0; packager.segment(seq); seq++) segments.push(packager.segment(seq) as Segment);
});

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('the live playlist', () => {
  it('lists every segment with its duration, and ends only after end()', () => {
    expect(playlistBeforeFirstSegment).toBeUndefined();
    const lines = packager.playlist()?.trimEnd().split('\n') ?? [];
    expect(lines.slice(0, 4)).toEqual([
      '#EXTM3U',
      '#EXT-X-VERSION:3',
      `#EXT-X-TARGETDURATION:${Math.max(...segments.map((s) => Math.ceil(s.durationSeconds)))}`,
      '#EXT-X-MEDIA-SEQUENCE:0',
    ]);
    expect(lines.slice(4, -1)).toEqual(
      segments.flatMap((s) => [
        `#EXT-X-PROGRAM-DATE-TIME:${new Date(s.startedAt).toISOString()}`,
        `#EXTINF:${s.durationSeconds.toFixed(3)},`,
        `${s.sequence}.ts`,
      ]),
    );
    expect(lines.at(-1)).toBe('#EXT-X-ENDLIST');
    expect(playlistBeforeEnd).not.toContain('#EXT-X-ENDLIST');
    expect(playlistBeforeEnd?.match(/#EXTINF:/g)).toHaveLength(segments.length - 1);
  });
});

describe('the segments', () => {
  it('are cut at each key frame after one second, the last at the end of the stream', () => {
    expect(segments.map((s) => s.sequence)).toEqual([0, 1, 2, 3]);
    for (const [i, s] of segments.slice(0, -1).entries()) {
      expect(s.durationSeconds).toBeCloseTo(1, 3);
      expect(segments[i + 1].firstPts - s.firstPts).toBe(90_000);
    }
    expect(segments.at(-1)?.durationSeconds).toBeGreaterThan(0.9);
    expect(segments.at(-1)?.durationSeconds).toBeLessThan(1);
  });

  it('each start with the PAT, the PMT, the heartbeat, then a video key frame at the segment PTS', () => {
    for (const segment of segments) {
      const [pat, pmt, heartbeat, video] = packetsOf(segment.data);
      expect(heartbeat.pid).toBe(METADATA_PID);
      expect(pat.pid).toBe(0);
      const pmtPid = ((pat.payload[1 + 10] & 0x1f) << 8) | pat.payload[1 + 11];
      expect(pmt).toMatchObject({ pid: pmtPid, unitStart: true });
      expect(pmt.payload[1]).toBe(0x02); // table_id of a PMT
      expect(video).toMatchObject({ pid: VIDEO_PID, unitStart: true, randomAccess: true });
      expect(decodePts(video.payload, 9)).toBe(segment.firstPts);
      expect(muxTimedMetadata(segment.data).programMapTable).toEqual({
        video: VIDEO_PID,
        audio: AUDIO_PID,
        'timed-metadata': { [METADATA_PID]: 0x15 },
      });
      const inspected = inspector.inspect(new Uint8Array(segment.data));
      expect(inspected?.firstKeyFrame?.pts).toBe(segment.firstPts);
      expect(inspected?.video?.[0].pts).toBe(segment.firstPts);
    }
  });

  it('carry every audio and video packet from the first key frame on, unchanged and in order', () => {
    const source = packetsOf(input);
    const start = source.findIndex((p) => p.pid === VIDEO_PID && p.randomAccess);
    const media = (packets: typeof source) =>
      Buffer.concat(packets.filter((p) => p.pid === VIDEO_PID || p.pid === AUDIO_PID).map((p) => p.bytes));
    expect(
      media(packetsOf(Buffer.concat(segments.map((s) => s.data)))).equals(media(source.slice(start))),
    ).toBe(true);
  });

  it('played in order, never skip a continuity counter on any PID', () => {
    const last = new Map<number, number>();
    const skips: string[] = [];
    for (const packet of packetsOf(Buffer.concat(segments.map((s) => s.data)))) {
      const previous = last.get(packet.pid);
      const expected =
        previous === undefined || packet.adaptationControl === 2 ? previous : (previous + 1) % 16;
      if (previous !== undefined && packet.continuity !== expected)
        skips.push(`PID ${packet.pid}: ${previous} then ${packet.continuity}`);
      last.set(packet.pid, packet.continuity);
    }
    expect(skips).toEqual([]);
    expect([...last.keys()]).toEqual(expect.arrayContaining([0, VIDEO_PID, AUDIO_PID, METADATA_PID]));
  });

  it('each play alone in ffmpeg without an error', () => {
    for (const segment of segments) {
      const args = ['-v', 'error', '-i', segmentFile(segment), '-f', 'null', '-'];
      const { status, stderr } = spawnSync(ffmpeg, args, { encoding: 'utf8' });
      expect({ segment: segment.sequence, status, stderr }).toEqual({
        segment: segment.sequence,
        status: 0,
        stderr: '',
      });
    }
  });

  it('each open with the heartbeat PRIV frame at their own first PTS, the IVS Player’s anchor', () => {
    for (const segment of segments) {
      const { tags, warnings } = muxTimedMetadata(segment.data);
      expect(warnings).toEqual([]);
      const heartbeat = tags[0];
      expect(heartbeat?.frames.map((f) => [f.id, f.owner])).toEqual([['PRIV', HEARTBEAT_OWNER]]);
      expect(heartbeat?.pts).toBe(segment.firstPts);
    }
  });
});

describe('a cue', () => {
  it('is refused before any video arrived: there is no frame to attach it to', () => {
    const early = new HlsPackager();
    expect(early.insertText('too early')).toBeUndefined();
    const tables = input.subarray(0, 3 * 188);
    expect(packetsOf(tables).some((p) => p.pid === VIDEO_PID)).toBe(false);
    early.push(tables);
    expect(early.liveEdgePts).toBeUndefined();
    expect(early.insertText('too early')).toBeUndefined();
    expect(early.cues).toEqual([]);
  });

  it('is stamped with the live edge and written into the open segment', () => {
    expect(cue).toBeDefined();
    expect(cue?.pts).toBe(liveEdgeAtCue);
    expect(cue).toMatchObject({ text: CUE_TEXT, segment: 1 });
    expect(packager.cues).toEqual([cue]);
    expect(cue?.pts).toBeGreaterThan(segments[1].firstPts);
    expect(cue?.pts).toBeLessThan(segments[2].firstPts);
    const pes = pesOn(packetsOf(segments[1].data), METADATA_PID);
    expect(pes.map((p) => decodePts(p, 9))).toContain(cue?.pts);
  });

  it('is a timed_id3 data stream packet at its PTS for ffprobe', () => {
    const file = segmentFile(segments[1]);
    const { streams } = probe(file, '-show_streams');
    expect(streams).toContainEqual(
      expect.objectContaining({ codec_type: 'data', codec_name: 'timed_id3', id: '0x102' }),
    );
    const { packets } = probe(file, '-select_streams', 'd', '-show_packets', '-show_data');
    // ffprobe reports the raw 90 kHz PTS, no offset.
    expect(packets.map((p: { pts: number }) => p.pts)).toEqual([segments[1].firstPts, cue?.pts]);
    // ffmpeg 5.1 takes the first 5 bytes of every stream-type-0x15 PES for a metadata access unit
    // header (ffmpeg 6+ does so only for KLV on stream id 0xFC): the ID3 frame itself is intact.
    const tag = id3TextTag(CUE_TEXT);
    const size = Number(packets[1].size);
    expect([tag.length, tag.length - 5]).toContain(size);
    expect(dumpBytes(packets[1].data).equals(tag.subarray(tag.length - size))).toBe(true);
  });

  it('is read by mux.js with its text and PTS, after the heartbeat', () => {
    const { tags } = muxTimedMetadata(segments[1].data);
    expect(
      tags.map((t) => ({
        pts: t.pts,
        frames: t.frames.map(({ id, description, value, owner }) => ({ id, description, value, owner })),
      })),
    ).toEqual([
      {
        pts: segments[1].firstPts,
        frames: [{ id: 'PRIV', description: undefined, value: undefined, owner: HEARTBEAT_OWNER }],
      },
      { pts: cue?.pts, frames: [{ id: 'TXXX', description: '', value: CUE_TEXT, owner: undefined }] },
    ]);
  });
});
