/** The two node-media-server protocol classes the local ingest uses (the package ships no types). */
declare module 'node-media-server/src/protocol/rtmp.js' {
  import type { AvPacket } from 'node-media-server/src/protocol/flv.js';

  interface InvokeMessage {
    readonly cmd: string;
    readonly transId: number;
    readonly streamName?: string;
  }

  /** One RTMP connection's parser and writer: feed it bytes, it calls back. */
  class Rtmp {
    streamApp?: string;
    streamName?: string;
    streamId: number;
    /** The message being handled: its header, summed clock and payload. */
    parserPacket: {
      header: {
        fmt: number;
        cid: number;
        timestamp: number;
        length: number;
        type: number;
        stream_id: number;
      };
      clock: number;
      payload: Buffer;
      capacity: number;
      bytes: number;
    };
    onConnectCallback: (req: { app: string; name: string }) => void;
    onPlayCallback: () => void;
    onPushCallback: () => void;
    onPacketCallback: (packet: AvPacket) => void;
    onOutputCallback: (buffer: Buffer) => void;
    /** Returns an error text when the bytes are not RTMP. */
    parserData(buffer: Buffer): string | null;
    /** Reads the chunks after the handshake: `bytes` bytes of `data` from `p`. */
    chunkRead(data: Buffer, p: number, bytes: number): string | null;
    /** Handles `parserPacket`, a whole message: control, command or media. */
    packetHandler(): void;
    onPublish(invokeMessage: InvokeMessage): void;
    onPlay(invokeMessage: InvokeMessage): void;
    onDeleteStream(invokeMessage: InvokeMessage): void;
    sendStatusMessage(streamId: number, level: string, code: string, description: string): void;
  }
  export = Rtmp;
}

declare module 'node-media-server/src/protocol/flv.js' {
  /** An audio, video or script tag from the stream (its `data` buffer is reused: copy at once). */
  export interface AvPacket {
    readonly codec_type: number;
    readonly size: number;
    readonly dts: number;
    readonly data: Buffer;
  }
  const Flv: {
    createHeader(hasAudio: boolean, hasVideo: boolean): Buffer;
    createMessage(packet: AvPacket): Buffer;
  };
  export = Flv;
}

declare module 'node-media-server/src/core/logger.js' {
  const logger: { level: string };
  export = logger;
}
