import { id3TextTag } from '../../local/video/id3';
import {
  crc32Mpeg,
  metadataPes,
  pmtWithMetadata,
  psiPacket,
  readHeader,
  readPatPmtPid,
  readPmt,
  readPts,
  withContinuity,
} from '../../local/video/ts';
import { decodePts, muxTimedMetadata, packetsOf, pesOn } from './support';

/**
 * The MPEG-TS pieces of the local packager, read back with a separate packet splitter and with
 * mux.js. The PAT and PMT below are the ones ffmpeg 5.1 writes for one H.264 and one AAC stream.
 */

const FFMPEG_PAT = Buffer.from('00b00d0001c100000001f0002ab104b2', 'hex');
const FFMPEG_PMT = Buffer.from('02b0170001c10000e100f0001be100f0000fe101f0002f44b99b', 'hex');
/** What ffmpeg 5.1 itself writes when it muxes those streams plus a timed_id3 one on PID 0x102. */
const FFMPEG_PMT_WITH_ID3 =
  '02b02b0001c10000e100f0001be100f0000fe101f00015e102f00f260dffff49443320ff49443320000f5ee9d58f';
const PMT_PID = 0x1000;
const METADATA_PID = 0x102;
const MAX_PTS = 2 ** 33 - 1;

const pmtPacket = () => psiPacket(PMT_PID, FFMPEG_PMT, 0);
const programMap = () => {
  const map = readPmt(pmtPacket(), readHeader(pmtPacket()));
  if (!map) throw new Error('the PMT did not parse');
  return map;
};
const tagOf = (bytes: number) => Buffer.concat([id3TextTag(''), Buffer.alloc(bytes - 22, 0x41)]);

describe('the CRC-32/MPEG-2 of PSI sections', () => {
  it('matches the check value of the standard', () => {
    expect(crc32Mpeg(Buffer.from('123456789', 'ascii'))).toBe(0x0376e6e7);
    expect(crc32Mpeg(Buffer.alloc(0))).toBe(0xffffffff);
  });

  it('computes the CRC ffmpeg wrote, and is zero over a section with its CRC appended', () => {
    for (const section of [FFMPEG_PAT, FFMPEG_PMT, Buffer.from(FFMPEG_PMT_WITH_ID3, 'hex')]) {
      const body = section.subarray(0, -4);
      expect(crc32Mpeg(body)).toBe(section.readUInt32BE(section.length - 4));
      expect(crc32Mpeg(section)).toBe(0);
    }
  });
});

describe('reading ffmpeg tables', () => {
  it('finds the PMT PID in the PAT and the streams in the PMT', () => {
    const pat = psiPacket(0, FFMPEG_PAT, 0);
    expect(readPatPmtPid(pat, readHeader(pat))).toBe(PMT_PID);
    expect(programMap().streams).toEqual([
      { type: 0x1b, pid: 0x100 },
      { type: 0x0f, pid: 0x101 },
    ]);
    expect(programMap().section.equals(FFMPEG_PMT.subarray(0, -4))).toBe(true);
  });
});

describe('a PMT with the metadata stream', () => {
  const packet = pmtWithMetadata(programMap(), PMT_PID, METADATA_PID, 5);

  it('is one whole packet on the PMT PID, starting its section, with the given counter', () => {
    const [raw] = packetsOf(packet);
    expect(raw).toMatchObject({ pid: PMT_PID, unitStart: true, continuity: 5, adaptationControl: 1 });
    expect(raw.payload[0]).toBe(0); // pointer field
  });

  it('keeps the streams and adds an ID3 one with its descriptor and a valid CRC, as ffmpeg writes it', () => {
    const length = ((packet[6] & 0x0f) << 8) | packet[7];
    const section = packet.subarray(5, 5 + 3 + length);
    expect(crc32Mpeg(section)).toBe(0);
    expect(section.toString('hex')).toBe(FFMPEG_PMT_WITH_ID3);
    expect(packet.subarray(5 + 3 + length).every((b) => b === 0xff)).toBe(true);
    expect(readPmt(packet, readHeader(packet))?.streams).toEqual([
      { type: 0x1b, pid: 0x100 },
      { type: 0x0f, pid: 0x101 },
      { type: 0x15, pid: METADATA_PID },
    ]);
  });

  it('is read by mux.js as video, audio and a timed-metadata PID', () => {
    const ts = Buffer.concat([psiPacket(0, FFMPEG_PAT, 0), packet]);
    expect(muxTimedMetadata(ts).programMapTable).toEqual({
      video: 0x100,
      audio: 0x101,
      'timed-metadata': { [METADATA_PID]: 0x15 },
    });
  });
});

describe('a metadata PES', () => {
  /** PES sizes around the packet boundaries: 14 header bytes plus the tag. */
  const PES_SIZES = [36, 183, 184, 185, 366, 367, 368, 369, 3000];
  const PTS_VALUES = [0, 1, 3 * 90_000, 2 ** 32 + 12_345, MAX_PTS - 1, MAX_PTS];

  it.each(PES_SIZES)('of %i bytes fills whole packets that reassemble to it', (size) => {
    const tag = tagOf(size - 14);
    const packets = metadataPes(METADATA_PID, 90_000, tag, 0);
    expect(packets).toHaveLength(Math.ceil(size / 184));
    const raw = packetsOf(Buffer.concat(packets));
    raw.forEach((p, i) => {
      expect(p.bytes).toHaveLength(188);
      expect(p.bytes[0]).toBe(0x47);
      expect(p.pid).toBe(METADATA_PID);
      expect(p.unitStart).toBe(i === 0);
      expect(p.bytes[1] & 0x80).toBe(0); // no transport error
      expect(p.adaptationControl === 1 || p.adaptationControl === 3).toBe(true);
      if (p.adaptationControl === 3 && p.bytes[4] > 0) {
        expect(p.bytes[5]).toBe(0); // no flags: stuffing only
        expect(p.bytes.subarray(6, 5 + p.bytes[4]).every((b) => b === 0xff)).toBe(true);
      }
    });
    // Only the last packet may carry stuffing.
    expect(raw.slice(0, -1).every((p) => p.adaptationControl === 1)).toBe(true);
    const [pes] = pesOn(raw, METADATA_PID);
    expect(pes).toHaveLength(size);
    expect(pes.readUInt16BE(4)).toBe(size - 6);
    expect(pes.subarray(14).equals(tag)).toBe(true);
  });

  it.each(PTS_VALUES)('carries PTS %i in a private-stream-1 header that decodes back', (pts) => {
    const [pes] = pesOn(
      packetsOf(Buffer.concat(metadataPes(METADATA_PID, pts, id3TextTag('q'), 0))),
      METADATA_PID,
    );
    expect(pes.subarray(0, 4).toString('hex')).toBe('000001bd');
    expect(pes[6]).toBe(0x84); // '10' marker, data alignment
    expect(pes[7]).toBe(0x80); // PTS only
    expect(pes[8]).toBe(5);
    expect(pes[9] >> 4).toBe(0x2);
    expect(decodePts(pes, 9)).toBe(pts);
  });

  it('wraps a PTS past 33 bits as the clock does', () => {
    const [pes] = pesOn(
      packetsOf(Buffer.concat(metadataPes(METADATA_PID, 2 ** 33 + 7, id3TextTag('q'), 0))),
      METADATA_PID,
    );
    expect(decodePts(pes, 9)).toBe(7);
  });

  it('counts continuity up from the given counter and wraps at 16', () => {
    const packets = packetsOf(Buffer.concat(metadataPes(METADATA_PID, 0, tagOf(20 * 184), 13)));
    expect(packets.length).toBeGreaterThan(16);
    expect(packets.map((p) => p.continuity)).toEqual(packets.map((_, i) => (13 + i) % 16));
  });

  it('refuses a tag too large for a PES length', () => {
    expect(() => metadataPes(METADATA_PID, 0, Buffer.alloc(0x10000), 0)).toThrow(RangeError);
    expect(metadataPes(METADATA_PID, 0, Buffer.alloc(0xffff - 8), 0).length).toBe(Math.ceil(0x10005 / 184));
  });

  it.each(PTS_VALUES)('is read by mux.js with its text at PTS %i', (pts) => {
    const text = `cue at ${pts} ✓ ${'x'.repeat(300)}`;
    const ts = Buffer.concat([
      psiPacket(0, FFMPEG_PAT, 0),
      pmtWithMetadata(programMap(), PMT_PID, METADATA_PID, 0),
      ...metadataPes(METADATA_PID, pts, id3TextTag(text), 0),
      ...metadataPes(METADATA_PID, pts + 1, id3TextTag('next'), 2),
    ]);
    const { tags, warnings } = muxTimedMetadata(ts);
    expect(warnings).toEqual([]);
    expect(tags.map((t) => [t.pts, t.frames[0].id, t.frames[0].value])).toEqual([
      [pts, 'TXXX', text],
      [(pts + 1) % 2 ** 33, 'TXXX', 'next'], // past 33 bits the clock wraps to 0
    ]);
  });
});

describe('PSI packets', () => {
  it('pads a section with 0xFF after a zero pointer field', () => {
    const packet = psiPacket(0x1234, FFMPEG_PAT, 9);
    const [raw] = packetsOf(packet);
    expect(raw).toMatchObject({ pid: 0x1234, unitStart: true, continuity: 9 });
    expect(packet.subarray(5, 5 + FFMPEG_PAT.length).equals(FFMPEG_PAT)).toBe(true);
    expect(packet.subarray(5 + FFMPEG_PAT.length).every((b) => b === 0xff)).toBe(true);
  });

  it('refuses a section longer than one packet holds', () => {
    expect(() => psiPacket(0, Buffer.alloc(184), 0)).toThrow(RangeError);
    expect(psiPacket(0, Buffer.alloc(183), 0)).toHaveLength(188);
  });

  it('renumbers a copy, leaving the original and every other bit alone', () => {
    const packet = psiPacket(PMT_PID, FFMPEG_PMT, 3);
    const renumbered = withContinuity(packet, 18);
    expect(packetsOf(renumbered)[0].continuity).toBe(2);
    expect(packetsOf(packet)[0].continuity).toBe(3);
    expect(renumbered.subarray(4).equals(packet.subarray(4))).toBe(true);
    expect(renumbered[3] & 0xf0).toBe(packet[3] & 0xf0);
  });

  it('reads the PTS of a metadata PES back with readPts', () => {
    const [first] = metadataPes(METADATA_PID, MAX_PTS, id3TextTag('q'), 0);
    expect(readPts(first, readHeader(first))).toBe(MAX_PTS);
  });
});
