/**
 * The RTMP chunk stream (RTMP 1.0 §5.3), read with bounds: a message's buffer grows as its bytes
 * arrive, never to the length its header declares, and a connection that breaks a limit is told
 * so by a thrown `RtmpLimitError` (docs/local-video.md, "Bounds").
 */

/** What one connection may hold; the ingest tightens them before a publish is accepted. */
export interface ChunkLimits {
  /** Longest message a header may declare. */
  readonly maxMessageBytes: number;
  /** Distinct chunk stream ids the connection may use. */
  readonly maxChunkStreams: number;
  /** Bytes held for messages not yet complete, all chunk streams together. */
  readonly maxBufferedBytes: number;
}

/** One whole message, its payload a fresh buffer of exactly its length. */
export interface RtmpMessage {
  readonly fmt: number;
  readonly cid: number;
  readonly type: number;
  readonly streamId: number;
  /** The message's timestamp, deltas summed as node-media-server sums them. */
  readonly clock: number;
  readonly payload: Buffer;
}

/** A connection went past one of its `ChunkLimits`, or sent a chunk size RTMP forbids. */
export class RtmpLimitError extends Error {}

const MESSAGE_HEADER_BYTES = [11, 7, 3, 0];
const TYPE_SET_CHUNK_SIZE = 1;
const TYPE_ABORT = 2;
/** The first growth of a message's buffer: small, so a lie about the length costs nothing. */
const FIRST_CAPACITY = 4096;

interface ChunkStream {
  readonly cid: number;
  fmt: number;
  /** The last timestamp or delta its headers carried (the extended one when present). */
  timestamp: number;
  length: number;
  type: number;
  streamId: number;
  clock: number;
  extended: boolean;
  received: number;
  payload?: Buffer;
}

/** Reads one connection's chunks after the handshake and hands over each whole message. */
export class ChunkReader {
  private chunkSize = 128;
  private readonly streams = new Map<number, ChunkStream>();
  private readonly header = Buffer.alloc(18);
  private headerBytes = 0;
  /** Header bytes needed before the chunk's payload: grows as the first bytes tell its shape. */
  private headerNeed = 1;
  private current?: ChunkStream;
  /** Payload bytes left in the chunk being read (0 while reading a header). */
  private chunkLeft = 0;
  private held = 0;

  constructor(private limits: ChunkLimits) {}

  /** Bytes this connection holds for incomplete messages. */
  get bufferedBytes(): number {
    return this.held;
  }

  /** Applies new limits from the next chunk on (the held bytes are checked at the next growth). */
  setLimits(limits: ChunkLimits): void {
    this.limits = limits;
  }

  /** Drops every incomplete message: the connection is closing. */
  release(): void {
    for (const stream of this.streams.values()) stream.payload = undefined;
    this.streams.clear();
    this.held = 0;
  }

  /** Reads `data`, calling `onMessage` for each message it completes; throws on a breach. */
  read(data: Buffer, onMessage: (message: RtmpMessage) => void): void {
    let at = 0;
    while (at < data.length) {
      if (this.chunkLeft === 0 && this.current === undefined) {
        while (this.headerBytes < this.headerNeed && at < data.length) {
          this.header[this.headerBytes++] = data[at++];
          if (
            this.headerBytes === 1 ||
            this.headerBytes === this.basicBytes() + MESSAGE_HEADER_BYTES[this.fmt()]
          )
            this.headerNeed = this.headerSize();
        }
        if (this.headerBytes < this.headerNeed) return;
        this.startChunk(onMessage);
        continue;
      }
      const stream = this.current as ChunkStream;
      const n = Math.min(this.chunkLeft, data.length - at);
      this.grow(stream, stream.received + n);
      data.copy(stream.payload as Buffer, stream.received, at, at + n);
      stream.received += n;
      this.chunkLeft -= n;
      at += n;
      if (this.chunkLeft === 0) this.endChunk(stream, onMessage);
    }
  }

  private fmt(): number {
    return this.header[0] >> 6;
  }

  private basicBytes(): number {
    const low = this.header[0] & 0x3f;
    return low === 0 ? 2 : low === 1 ? 3 : 1;
  }

  /** The whole header's size as far as the bytes read so far tell it. */
  private headerSize(): number {
    const basic = this.basicBytes();
    const fmt = this.fmt();
    let size = basic + MESSAGE_HEADER_BYTES[fmt];
    if (this.headerBytes < size) return size;
    if (fmt < 3) {
      if (this.header.readUIntBE(basic, 3) === 0xffffff) size += 4;
    } else if (this.streams.get(this.cid())?.extended) size += 4;
    return size;
  }

  private cid(): number {
    const basic = this.basicBytes();
    if (basic === 2) return 64 + this.header[1];
    if (basic === 3) return 64 + this.header[1] + this.header[2] * 256;
    return this.header[0] & 0x3f;
  }

  private startChunk(onMessage: (message: RtmpMessage) => void): void {
    const fmt = this.fmt();
    const cid = this.cid();
    const basic = this.basicBytes();
    this.headerBytes = 0;
    this.headerNeed = 1;
    let stream = this.streams.get(cid);
    if (!stream) {
      if (this.streams.size >= this.limits.maxChunkStreams)
        throw new RtmpLimitError(`more than ${this.limits.maxChunkStreams} chunk streams`);
      stream = {
        cid,
        fmt,
        timestamp: 0,
        length: 0,
        type: 0,
        streamId: 0,
        clock: 0,
        extended: false,
        received: 0,
      };
      this.streams.set(cid, stream);
    }
    const h = this.header;
    if (fmt < 3) {
      // A new header in the middle of a message starts a new one: the partial one is dropped.
      if (stream.received > 0) this.drop(stream);
      const field = h.readUIntBE(basic, 3);
      stream.extended = field === 0xffffff;
      stream.timestamp = stream.extended ? h.readUInt32BE(basic + MESSAGE_HEADER_BYTES[fmt]) : field;
      if (fmt < 2) {
        stream.length = h.readUIntBE(basic + 3, 3);
        stream.type = h[basic + 6];
      }
      if (fmt === 0) stream.streamId = h.readUInt32LE(basic + 7);
    } else if (stream.extended && stream.received === 0) {
      stream.timestamp = h.readUInt32BE(basic);
    }
    stream.fmt = fmt;
    if (stream.received === 0) {
      if (stream.length > this.limits.maxMessageBytes)
        throw new RtmpLimitError(
          `a message of ${stream.length} bytes (at most ${this.limits.maxMessageBytes})`,
        );
      stream.clock = fmt === 0 ? stream.timestamp : stream.clock + stream.timestamp;
    }
    this.current = stream;
    this.chunkLeft = Math.min(this.chunkSize, stream.length - stream.received);
    if (this.chunkLeft === 0) this.endChunk(stream, onMessage);
  }

  private endChunk(stream: ChunkStream, onMessage: (message: RtmpMessage) => void): void {
    this.current = undefined;
    if (stream.received < stream.length) return;
    const payload =
      stream.length === 0 ? Buffer.alloc(0) : (stream.payload as Buffer).subarray(0, stream.length);
    this.drop(stream);
    // node-media-server drops a message whose summed clock passed 32 bits.
    if (stream.clock > 0xffffffff) return;
    if (stream.type === TYPE_SET_CHUNK_SIZE && payload.length >= 4) {
      const size = payload.readUInt32BE(0) & 0x7fffffff;
      if (size < 1) throw new RtmpLimitError('a chunk size of 0');
      this.chunkSize = size;
    } else if (stream.type === TYPE_ABORT && payload.length >= 4) {
      const aborted = this.streams.get(payload.readUInt32BE(0));
      if (aborted) this.drop(aborted);
    }
    onMessage({
      fmt: stream.fmt,
      cid: stream.cid,
      type: stream.type,
      streamId: stream.streamId,
      clock: stream.clock,
      payload,
    });
  }

  /** Grows a message's buffer to hold `need` bytes, never past its declared length. */
  private grow(stream: ChunkStream, need: number): void {
    const capacity = stream.payload?.length ?? 0;
    if (capacity >= need) return;
    // Powers of two: at most twice what arrived, and copies that add up to O(length).
    let next = Math.min(stream.length, 2 ** Math.ceil(Math.log2(Math.max(need, FIRST_CAPACITY))));
    // Near the limit, the bytes that arrived are enough: doubling must not be what breaks it.
    if (this.held + next - capacity > this.limits.maxBufferedBytes) next = need;
    if (this.held + next - capacity > this.limits.maxBufferedBytes)
      throw new RtmpLimitError(`more than ${this.limits.maxBufferedBytes} bytes of incomplete messages`);
    const payload = Buffer.alloc(next);
    stream.payload?.copy(payload, 0, 0, stream.received);
    stream.payload = payload;
    this.held += next - capacity;
  }

  private drop(stream: ChunkStream): void {
    this.held -= stream.payload?.length ?? 0;
    stream.payload = undefined;
    stream.received = 0;
  }
}
