/**
 * ID3v2.4 tags as IVS puts them in the video: one `TXXX` (user-defined text) frame, UTF-8, with an
 * empty description, whose value is the `PutMetadata` payload. Players hand that value to the page
 * (`TEXT_METADATA_CUE` in the IVS Player), so it must survive byte for byte.
 */

/** A 28-bit number in four 7-bit bytes, as ID3v2.4 writes every size. */
export function syncsafe(size: number): Buffer {
  if (!Number.isInteger(size) || size < 0 || size >= 2 ** 28)
    throw new RangeError(`ID3 size out of range: ${size}`);
  return Buffer.from([(size >> 21) & 0x7f, (size >> 14) & 0x7f, (size >> 7) & 0x7f, size & 0x7f]);
}

/** An ID3v2.4 tag holding one `TXXX` frame with `text` as its value. */
export function id3TextTag(text: string): Buffer {
  const ENCODING_UTF8 = 0x03;
  // Encoding, an empty description and its terminator, then the value.
  return id3Tag('TXXX', Buffer.concat([Buffer.from([ENCODING_UTF8, 0x00]), Buffer.from(text, 'utf8')]));
}

/** An ID3v2.4 tag holding one `PRIV` frame: an owner identifier and private bytes. */
export function id3PrivateTag(owner: string, data: Buffer): Buffer {
  return id3Tag('PRIV', Buffer.concat([Buffer.from(`${owner}\0`, 'latin1'), data]));
}

function id3Tag(frameId: string, body: Buffer): Buffer {
  const frame = Buffer.concat([
    Buffer.from(frameId, 'latin1'),
    syncsafe(body.length),
    Buffer.from([0, 0]),
    body,
  ]);
  const header = Buffer.concat([
    Buffer.from('ID3', 'latin1'),
    Buffer.from([0x04, 0x00, 0x00]),
    syncsafe(frame.length),
  ]);
  return Buffer.concat([header, frame]);
}
