/**
 * The few MPEG-TS (ISO/IEC 13818-1) pieces the local packager needs: reading packet headers and
 * PES timestamps, declaring a timed-metadata stream in the PMT, and writing a PES of ID3 on it.
 * Everything works on whole 188-byte packets.
 */

export const TS_PACKET_SIZE = 188;
export const SYNC_BYTE = 0x47;
export const PAT_PID = 0x0000;
/** 90 kHz: the unit of every PTS. */
export const PTS_HZ = 90_000;

/** PMT stream types this packager knows. */
export const STREAM_TYPE = { h264: 0x1b, aac: 0x0f, metadataInPes: 0x15 } as const;

export interface PacketHeader {
  readonly pid: number;
  /** payload_unit_start_indicator: a PES or a PSI section starts in this packet. */
  readonly unitStart: boolean;
  /** random_access_indicator: ffmpeg sets it on the packet that starts a key frame. */
  readonly randomAccess: boolean;
  /** Where the payload starts in the packet (after the header and any adaptation field). */
  readonly payloadOffset: number;
  readonly hasPayload: boolean;
}

export function readHeader(packet: Buffer): PacketHeader {
  const pid = ((packet[1] & 0x1f) << 8) | packet[2];
  const unitStart = (packet[1] & 0x40) !== 0;
  const control = (packet[3] >> 4) & 0x03;
  const hasAdaptation = (control & 0x02) !== 0;
  const hasPayload = (control & 0x01) !== 0;
  const adaptationLength = hasAdaptation ? packet[4] : 0;
  const randomAccess = hasAdaptation && adaptationLength > 0 && (packet[5] & 0x40) !== 0;
  const payloadOffset = hasAdaptation ? 5 + adaptationLength : 4;
  return { pid, unitStart, randomAccess, payloadOffset, hasPayload };
}

/** The PTS of the PES that starts in this packet, or undefined when it carries none. */
export function readPts(packet: Buffer, header: PacketHeader): number | undefined {
  const p = header.payloadOffset;
  if (!header.unitStart || p + 14 > TS_PACKET_SIZE) return undefined;
  if (packet[p] !== 0 || packet[p + 1] !== 0 || packet[p + 2] !== 1) return undefined;
  if ((packet[p + 7] & 0x80) === 0) return undefined;
  return decodeTimestamp(packet, p + 9);
}

function decodeTimestamp(buf: Buffer, at: number): number {
  return (
    ((buf[at] >> 1) & 0x07) * 2 ** 30 +
    (buf[at + 1] << 22) +
    ((buf[at + 2] >> 1) << 15) +
    (buf[at + 3] << 7) +
    (buf[at + 4] >> 1)
  );
}

function encodeTimestamp(prefix: number, pts: number): Buffer {
  const value = pts % 2 ** 33;
  const high = Math.floor(value / 2 ** 30) & 0x07;
  const low = value % 2 ** 30;
  return Buffer.from([
    (prefix << 4) | (high << 1) | 0x01,
    (low >> 22) & 0xff,
    (((low >> 15) & 0x7f) << 1) | 0x01,
    (low >> 7) & 0xff,
    ((low & 0x7f) << 1) | 0x01,
  ]);
}

/** CRC-32/MPEG-2, which closes every PSI section. */
export function crc32Mpeg(data: Buffer): number {
  let crc = 0xffffffff;
  for (const byte of data) {
    crc ^= byte << 24;
    for (let bit = 0; bit < 8; bit++) crc = crc & 0x80000000 ? (crc << 1) ^ 0x04c11db7 : crc << 1;
  }
  return crc >>> 0;
}

/** The program map PID the PAT in this packet points at (the first program). */
export function readPatPmtPid(packet: Buffer, header: PacketHeader): number | undefined {
  const section = sectionStart(packet, header);
  if (section === undefined || packet[section] !== 0x00) return undefined;
  const sectionLength = ((packet[section + 1] & 0x0f) << 8) | packet[section + 2];
  const end = section + 3 + sectionLength - 4;
  for (let at = section + 8; at + 4 <= end; at += 4) {
    const program = packet.readUInt16BE(at);
    if (program !== 0) return ((packet[at + 2] & 0x1f) << 8) | packet[at + 3];
  }
  return undefined;
}

export interface ProgramMap {
  /** The PMT section, from `table_id` to the end of the ES loop (no CRC). */
  readonly section: Buffer;
  readonly streams: ReadonlyArray<{ readonly type: number; readonly pid: number }>;
}

/** Reads a PMT section that fits in one packet (as ffmpeg writes it for a few streams). */
export function readPmt(packet: Buffer, header: PacketHeader): ProgramMap | undefined {
  const start = sectionStart(packet, header);
  if (start === undefined || packet[start] !== 0x02) return undefined;
  const sectionLength = ((packet[start + 1] & 0x0f) << 8) | packet[start + 2];
  if (start + 3 + sectionLength > TS_PACKET_SIZE) return undefined;
  const programInfoLength = ((packet[start + 10] & 0x0f) << 8) | packet[start + 11];
  const end = start + 3 + sectionLength - 4;
  const streams: Array<{ type: number; pid: number }> = [];
  for (let at = start + 12 + programInfoLength; at + 5 <= end; ) {
    const esInfoLength = ((packet[at + 3] & 0x0f) << 8) | packet[at + 4];
    streams.push({ type: packet[at], pid: ((packet[at + 1] & 0x1f) << 8) | packet[at + 2] });
    at += 5 + esInfoLength;
  }
  return { section: Buffer.from(packet.subarray(start, end)), streams };
}

function sectionStart(packet: Buffer, header: PacketHeader): number | undefined {
  if (!header.unitStart || !header.hasPayload) return undefined;
  const at = header.payloadOffset + 1 + packet[header.payloadOffset];
  return at < TS_PACKET_SIZE - 3 ? at : undefined;
}

/**
 * The metadata descriptor (tag 0x26) that declares an ID3 stream, as HLS timed metadata specifies:
 * application format 0xFFFF with identifier `ID3 `, format 0xFF with identifier `ID3 `, service 0,
 * and no decoder config.
 */
const ID3_METADATA_DESCRIPTOR = Buffer.from([
  0x26, 0x0d, 0xff, 0xff, 0x49, 0x44, 0x33, 0x20, 0xff, 0x49, 0x44, 0x33, 0x20, 0x00, 0x0f,
]);

/**
 * The PMT section with one more elementary stream: ID3 timed metadata (stream type 0x15) on
 * `metadataPid`, then a fresh CRC. Returns it as a whole TS packet on `pmtPid`.
 */
export function pmtWithMetadata(
  pmt: ProgramMap,
  pmtPid: number,
  metadataPid: number,
  continuity: number,
): Buffer {
  const entry = Buffer.concat([
    Buffer.from([
      STREAM_TYPE.metadataInPes,
      0xe0 | (metadataPid >> 8),
      metadataPid & 0xff,
      0xf0,
      ID3_METADATA_DESCRIPTOR.length,
    ]),
    ID3_METADATA_DESCRIPTOR,
  ]);
  const body = Buffer.concat([pmt.section, entry, Buffer.alloc(4)]);
  const sectionLength = body.length - 3;
  body[1] = (body[1] & 0xf0) | ((sectionLength >> 8) & 0x0f);
  body[2] = sectionLength & 0xff;
  body.writeUInt32BE(crc32Mpeg(body.subarray(0, body.length - 4)), body.length - 4);
  return psiPacket(pmtPid, body, continuity);
}

/** One packet carrying a whole PSI section (pointer field 0), padded with 0xFF. */
export function psiPacket(pid: number, section: Buffer, continuity: number): Buffer {
  if (section.length > TS_PACKET_SIZE - 5) throw new RangeError('PSI section does not fit in one packet');
  const packet = Buffer.alloc(TS_PACKET_SIZE, 0xff);
  packet[0] = SYNC_BYTE;
  packet[1] = 0x40 | ((pid >> 8) & 0x1f);
  packet[2] = pid & 0xff;
  packet[3] = 0x10 | (continuity & 0x0f);
  packet[4] = 0x00;
  section.copy(packet, 5);
  return packet;
}

/** Rewrites a packet's continuity counter (the packager renumbers the PSI it re-sends). */
export function withContinuity(packet: Buffer, continuity: number): Buffer {
  const copy = Buffer.from(packet);
  copy[3] = (copy[3] & 0xf0) | (continuity & 0x0f);
  return copy;
}

/**
 * One PES on `pid` holding `payload` (an ID3 tag) at `pts`: stream_id 0xBD (private stream 1),
 * data-aligned, PTS only, split into TS packets whose last one is padded by adaptation stuffing.
 * `continuity` is the counter for the first packet; the packets count up from it.
 */
export function metadataPes(pid: number, pts: number, payload: Buffer, continuity: number): Buffer[] {
  const headerData = encodeTimestamp(0x2, pts);
  const pesLength = 3 + headerData.length + payload.length;
  if (pesLength > 0xffff) throw new RangeError('metadata PES too large');
  const pes = Buffer.concat([
    Buffer.from([0x00, 0x00, 0x01, 0xbd, pesLength >> 8, pesLength & 0xff, 0x84, 0x80, headerData.length]),
    headerData,
    payload,
  ]);
  const packets: Buffer[] = [];
  for (let offset = 0, cc = continuity; offset < pes.length; cc++) {
    const chunk = pes.subarray(offset, offset + TS_PACKET_SIZE - 4);
    offset += chunk.length;
    const packet = Buffer.alloc(TS_PACKET_SIZE, 0xff);
    packet[0] = SYNC_BYTE;
    packet[1] = (packets.length === 0 ? 0x40 : 0) | ((pid >> 8) & 0x1f);
    packet[2] = pid & 0xff;
    const room = TS_PACKET_SIZE - 4;
    if (chunk.length === room) {
      packet[3] = 0x10 | (cc & 0x0f);
      chunk.copy(packet, 4);
    } else {
      // Adaptation field of stuffing bytes fills what the payload does not.
      const adaptationLength = room - chunk.length - 1;
      packet[3] = 0x30 | (cc & 0x0f);
      packet[4] = adaptationLength;
      if (adaptationLength > 0) packet[5] = 0x00;
      chunk.copy(packet, 5 + adaptationLength);
    }
    packets.push(packet);
  }
  return packets;
}
