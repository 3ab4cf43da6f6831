import fc from 'fast-check';
import Rtmp from 'node-media-server/src/protocol/rtmp.js';
import { createBoundedRtmp, REPLACED_RTMP_FIELDS } from '../../local/video/bounded-rtmp';
import { ChunkReader, RtmpLimitError } from '../../local/video/rtmp-chunks';
import { PUBLISHING_LIMITS } from '../../local/video/rtmp-ingest';
import { chunkHeader } from './rtmp-client';

/**
 * The bounded chunk reader against the one it replaces: node-media-server 4.4.3's own reader is
 * the oracle for what a byte stream means, and the reader must agree with it on any stream of
 * valid chunks, cut anywhere, while never holding more than what arrived (twice at most).
 */
interface Sent {
  readonly cid: number;
  readonly fmt: 0 | 1 | 2;
  readonly timestamp: number;
  readonly type: number;
  readonly length: number;
}
interface Got {
  readonly type: number;
  readonly clock: number;
  readonly streamId: number;
  readonly payload: string;
}

/** Encodes messages as chunks of `chunkSize`, with the extended timestamp where it is needed. */
function encode(messages: readonly Sent[], chunkSize: number): Buffer {
  const parts: Buffer[] = [];
  const last = new Map<number, { length: number; type: number }>();
  messages.forEach((m, index) => {
    const previous = last.get(m.cid);
    // Type 1 and 2 headers need an earlier message on the chunk stream (and 2 the same shape).
    const fmt = !previous
      ? 0
      : m.fmt === 2 && (previous.length !== m.length || previous.type !== m.type)
        ? 1
        : m.fmt;
    last.set(m.cid, { length: m.length, type: m.type });
    const extended = m.timestamp >= 0xffffff;
    const basic = m.cid < 64 ? Buffer.from([(fmt << 6) | m.cid]) : Buffer.from([fmt << 6, m.cid - 64]);
    const header = Buffer.alloc([11, 7, 3][fmt]);
    header.writeUIntBE(extended ? 0xffffff : m.timestamp, 0, 3);
    if (fmt < 2) {
      header.writeUIntBE(m.length, 3, 3);
      header[6] = m.type;
    }
    if (fmt === 0) header.writeUInt32LE(1, 7);
    const ext = Buffer.alloc(extended ? 4 : 0);
    if (extended) ext.writeUInt32BE(m.timestamp);
    const payload = Buffer.alloc(m.length, index & 0xff);
    parts.push(basic, header, ext);
    for (let at = 0; at < m.length; at += chunkSize) {
      if (at > 0) parts.push(Buffer.from([0xc0 | basic[0]]), basic.subarray(1), ext);
      parts.push(payload.subarray(at, at + chunkSize));
    }
  });
  return Buffer.concat(parts);
}

/** What node-media-server's own reader makes of `bytes`, fed in `cuts`. */
function oracle(pieces: readonly Buffer[]): Got[] {
  const got: Got[] = [];
  const rtmp = new Rtmp() as Rtmp & { handshakeState: number };
  rtmp.handshakeState = 3;
  rtmp.packetHandler = function (this: Rtmp) {
    const { header, clock, payload } = this.parserPacket;
    if (header.type === 1) return Rtmp.prototype.packetHandler.call(this);
    got.push({
      type: header.type,
      clock,
      streamId: header.stream_id,
      payload: payload.subarray(0, header.length).toString('hex'),
    });
  };
  for (const piece of pieces) rtmp.parserData(piece);
  return got;
}

function ours(pieces: readonly Buffer[]): { got: Got[]; maxHeld: number } {
  const got: Got[] = [];
  const reader = new ChunkReader(PUBLISHING_LIMITS);
  let maxHeld = 0;
  for (const piece of pieces) {
    reader.read(piece, (m) => {
      if (m.type !== 1)
        got.push({ type: m.type, clock: m.clock, streamId: m.streamId, payload: m.payload.toString('hex') });
    });
    maxHeld = Math.max(maxHeld, reader.bufferedBytes);
  }
  return { got, maxHeld };
}

const cut = (bytes: Buffer, at: readonly number[]) => {
  const points = [...new Set(at.map((n) => n % (bytes.length + 1)))].sort((a, b) => a - b);
  return [0, ...points, bytes.length]
    .slice(1)
    .map((end, i, ends) => bytes.subarray(i ? ends[i - 1] : 0, end));
};

const sent = fc.record({
  cid: fc.oneof(fc.integer({ min: 3, max: 63 }), fc.integer({ min: 64, max: 319 })),
  fmt: fc.constantFrom(0 as const, 1 as const, 2 as const),
  timestamp: fc.oneof(fc.integer({ min: 0, max: 5000 }), fc.integer({ min: 0xfffff0, max: 0x1000400 })),
  type: fc.constantFrom(8, 9, 15, 18),
  length: fc.integer({ min: 1, max: 700 }),
});

describe('when valid chunks arrive cut anywhere', () => {
  it('reads the messages node-media-server reads, holding at most twice what arrived', () => {
    fc.assert(
      fc.property(
        fc.array(sent, { minLength: 1, maxLength: 12 }),
        fc.constantFrom(128, 300, 4096),
        fc.array(fc.nat(), { maxLength: 20 }),
        (messages, chunkSize, cuts) => {
          const setChunkSize = Buffer.concat([chunkHeader(2, 4, 1), Buffer.alloc(4)]);
          setChunkSize.writeUInt32BE(chunkSize, 12);
          const bytes = Buffer.concat([setChunkSize, encode(messages, chunkSize)]);
          const pieces = cut(bytes, cuts);
          const { got, maxHeld } = ours(pieces);
          expect(got).toHaveLength(messages.length);
          expect(got).toEqual(oracle(pieces));
          expect(maxHeld).toBeLessThanOrEqual(Math.max(4096, 2 * Math.max(...messages.map((m) => m.length))));
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('when a client breaks the rules of the chunk stream', () => {
  it('refuses a chunk size of 0, which would stall the reader', () => {
    const reader = new ChunkReader(PUBLISHING_LIMITS);
    const zero = Buffer.concat([chunkHeader(2, 4, 1), Buffer.alloc(4)]);
    expect(() => reader.read(zero, () => undefined)).toThrow(RtmpLimitError);
  });

  it('drops a partial message on Abort, and its bytes with it', () => {
    const reader = new ChunkReader(PUBLISHING_LIMITS);
    reader.read(Buffer.concat([chunkHeader(6, 1000, 9), Buffer.alloc(128)]), () => undefined);
    expect(reader.bufferedBytes).toBeGreaterThanOrEqual(128);
    const abort = Buffer.concat([chunkHeader(2, 4, 2), Buffer.from([0, 0, 0, 6])]);
    const types: number[] = [];
    reader.read(abort, (m) => types.push(m.type));
    expect(types).toEqual([2]);
    expect(reader.bufferedBytes).toBe(0);
  });
});

describe('when the ingest builds a connection without node-media-server’s constructor', () => {
  it('sets every field that constructor sets, except the reader’s own', () => {
    const expected = Object.keys(new Rtmp()).filter((key) => !REPLACED_RTMP_FIELDS.includes(key));
    const built = Object.keys(createBoundedRtmp(PUBLISHING_LIMITS));
    expect(built).toEqual(expect.arrayContaining(expected));
    expect(built).not.toContain('flv');
  });
});
