import fc from 'fast-check';
import { id3PrivateTag, id3TextTag, syncsafe } from '../../local/video/id3';
import { muxParseId3Frames, muxSyncSafe } from './support';

/**
 * The ID3v2.4 tags the local packager writes into the video, checked byte by byte and with
 * mux.js's ID3 parser, which knows nothing of our writer.
 */

const hex = (buf: Buffer) => buf.toString('hex');

describe('a syncsafe size', () => {
  it('puts seven bits in each of four bytes, most significant first', () => {
    expect(hex(syncsafe(0))).toBe('00000000');
    expect(hex(syncsafe(0x7f))).toBe('0000007f');
    expect(hex(syncsafe(0x80))).toBe('00000100');
    expect(hex(syncsafe(0x3fff))).toBe('00007f7f');
    expect(hex(syncsafe(0x4000))).toBe('00010000');
    expect(hex(syncsafe(2 ** 28 - 1))).toBe('7f7f7f7f');
  });

  it('never sets the top bit of a byte and reads back through mux.js for any size', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 28 - 1 }), (size) => {
        const bytes = syncsafe(size);
        expect(bytes).toHaveLength(4);
        expect(bytes.every((b) => b < 0x80)).toBe(true);
        expect(muxSyncSafe(bytes)).toBe(size);
      }),
    );
  });

  it('refuses sizes that do not fit 28 bits, negatives and non-integers', () => {
    for (const bad of [2 ** 28, 2 ** 32, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(() => syncsafe(bad)).toThrow(RangeError);
    }
  });
});

describe('a text tag', () => {
  it('is one ID3v2.4 tag holding one TXXX frame, UTF-8, with an empty description', () => {
    const tag = id3TextTag('abc');
    expect(hex(tag)).toBe(
      [
        '494433', // "ID3"
        '0400', // version 2.4.0
        '00', // no flags
        '0000000f', // tag size: one 15-byte frame
        '54585858', // "TXXX"
        '00000005', // frame size
        '0000', // frame flags
        '03', // UTF-8
        '00', // empty description, terminated
        '616263', // the value
      ].join(''),
    );
  });

  it('reads back through mux.js as a TXXX frame with an empty description and the value', () => {
    const frames = muxParseId3Frames(id3TextTag('{"quizId":"q-1"}'));
    expect(frames).toHaveLength(1);
    expect(frames?.[0]).toMatchObject({ id: 'TXXX', description: '', value: '{"quizId":"q-1"}' });
  });

  it('keeps a non-ASCII cue byte for byte', () => {
    const text = 'héllo ✓';
    const tag = id3TextTag(text);
    const value = tag.subarray(10 + 10 + 2);
    expect(value.equals(Buffer.from(text, 'utf8'))).toBe(true);
    expect(value).toHaveLength(10);
    expect(muxParseId3Frames(tag)?.[0].value).toBe(text);
  });

  it('sizes a tag larger than 127 bytes in syncsafe form, so mux.js finds its end', () => {
    // 1,000 bytes: a size written as a plain integer would read back wrong.
    const text = `${'✓'.repeat(300)}${'x'.repeat(100)}`;
    const tag = id3TextTag(text);
    expect(tag).toHaveLength(10 + 10 + 2 + 1000);
    expect(hex(tag.subarray(6, 10))).toBe(hex(syncsafe(10 + 2 + 1000)));
    expect(hex(tag.subarray(14, 18))).toBe(hex(syncsafe(2 + 1000)));
    expect(muxParseId3Frames(tag)?.[0].value).toBe(text);
  });

  it('round-trips any text mux.js can hold (it drops trailing NULs)', () => {
    fc.assert(
      fc.property(
        fc.string({ unit: 'grapheme', maxLength: 200 }).filter((s) => !s.endsWith('\0')),
        (text) => {
          const frames = muxParseId3Frames(id3TextTag(text));
          expect(frames?.map((f) => [f.id, f.description, f.value])).toEqual([['TXXX', '', text]]);
        },
      ),
    );
  });
});

describe('a private tag', () => {
  it('is one ID3v2.4 tag holding one PRIV frame: owner, NUL, then the bytes', () => {
    const tag = id3PrivateTag('a.b', Buffer.from([0x01, 0x00, 0xff]));
    expect(hex(tag)).toBe(
      [
        '494433',
        '0400',
        '00',
        '00000011', // tag size: one 17-byte frame
        '50524956', // "PRIV"
        '00000007', // frame size: "a.b", NUL, three bytes
        '0000',
        '612e6200', // "a.b" and its terminator
        '0100ff',
      ].join(''),
    );
  });

  it('reads back through mux.js with its owner and private data, even empty', () => {
    const [frame] = muxParseId3Frames(id3PrivateTag('com.example.owner', Buffer.from('payload'))) ?? [];
    expect(frame.id).toBe('PRIV');
    expect(frame.owner).toBe('com.example.owner');
    expect(Buffer.from(frame.data as Uint8Array).toString()).toBe('payload');

    const [empty] = muxParseId3Frames(id3PrivateTag('com.cuecast.segment-start', Buffer.alloc(0))) ?? [];
    expect(empty.owner).toBe('com.cuecast.segment-start');
    expect(empty.data).toHaveLength(0);
  });
});
