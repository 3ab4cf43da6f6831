import Rtmp from 'node-media-server/src/protocol/rtmp.js';
import { type ChunkLimits, ChunkReader } from './rtmp-chunks';

/** node-media-server's RTMP connection, reading its chunks through a bounded `ChunkReader`. */
export interface BoundedRtmp extends Rtmp {
  /** The connection's chunk reader: its held bytes and its limits. */
  readonly chunks: ChunkReader;
}

const noop = () => undefined;

/**
 * node-media-server 4.4.3's RTMP connection (handshake, AMF commands, replies) with our chunk
 * reader in place of its own. Its reader allocated each message's declared length (up to 16 MB)
 * plus 1 KB for every chunk stream id a client named, before any publish. Its constructor also
 * builds an FLV parser with a 1 MB buffer that the RTMP side never uses, one per connection: so
 * the connection is made from the prototype with the constructor's other fields, which
 * test/video/rtmp-chunks.test.ts holds against the library's own constructor.
 */
export function createBoundedRtmp(limits: ChunkLimits): BoundedRtmp {
  const chunks = new ChunkReader(limits);
  const rtmp = Object.create(Rtmp.prototype) as BoundedRtmp;
  Object.assign(rtmp, {
    handshakePayload: Buffer.alloc(1536),
    handshakeState: 0,
    handshakeBytes: 0,
    parserPacket: {
      header: { fmt: 0, cid: 0, timestamp: 0, length: 0, type: 0, stream_id: 0 },
      clock: 0,
      payload: Buffer.alloc(0),
      capacity: 0,
      bytes: 0,
    },
    inPackets: new Map(),
    inChunkSize: 128,
    outChunkSize: 0xffff,
    streams: 0,
    onConnectCallback: noop,
    onPlayCallback: noop,
    onPushCallback: noop,
    onPacketCallback: noop,
    onOutputCallback: noop,
    chunks,
    /** Throws `RtmpLimitError` on a breach (the ingest closes the connection). */
    chunkRead(data: Buffer, p: number, bytes: number): string | null {
      chunks.read(data.subarray(p, p + bytes), (message) => {
        rtmp.parserPacket = {
          header: {
            fmt: message.fmt,
            cid: message.cid,
            timestamp: message.clock,
            length: message.payload.length,
            type: message.type,
            stream_id: message.streamId,
          },
          clock: message.clock,
          payload: message.payload,
          capacity: message.payload.length,
          bytes: 0,
        };
        rtmp.packetHandler();
      });
      return null;
    },
  });
  return rtmp;
}

/** The fields node-media-server's constructor sets that the chunk reader replaces. */
export const REPLACED_RTMP_FIELDS = ['flv', 'parserBuffer', 'parserState', 'parserBytes', 'parserBasicBytes'];
