import * as net from 'node:net';
import { waitUntil } from '../support/wait';

/**
 * A hand-written RTMP client for the hostile-client tests, sharing no code with local/video: the
 * plain handshake, AMF0 commands and chunks as RTMP 1.0 lays them out, and the attacks.
 */

/** AMF0 values as the commands use them: numbers, strings, null and flat objects. */
type Amf = number | string | null | { readonly [key: string]: number | string };

const amfString = (text: string) => {
  const bytes = Buffer.from(text, 'utf8');
  const length = Buffer.alloc(2);
  length.writeUInt16BE(bytes.length);
  return Buffer.concat([length, bytes]);
};

/** AMF0-encodes values one after another, as a command message's payload. */
export function amf0(...values: Amf[]): Buffer {
  return Buffer.concat(
    values.map((value) => {
      if (value === null) return Buffer.from([0x05]);
      if (typeof value === 'number') {
        const out = Buffer.alloc(9);
        out[0] = 0x00;
        out.writeDoubleBE(value, 1);
        return out;
      }
      if (typeof value === 'string') return Buffer.concat([Buffer.from([0x02]), amfString(value)]);
      const fields = Object.entries(value).map(([key, v]) => Buffer.concat([amfString(key), amf0(v)]));
      return Buffer.concat([Buffer.from([0x03]), ...fields, Buffer.from([0x00, 0x00, 0x09])]);
    }),
  );
}

/** One type-0 chunk header on chunk stream `cid` (2 to 63), claiming a message of `length`. */
export function chunkHeader(cid: number, length: number, type: number, streamId = 0): Buffer {
  const out = Buffer.alloc(12);
  out[0] = cid & 0x3f;
  out.writeUIntBE(0, 1, 3);
  out.writeUIntBE(length, 4, 3);
  out[7] = type;
  out.writeUInt32LE(streamId, 8);
  return out;
}

/** A type-0 header with a 2-byte basic header: chunk stream ids 64 to 319. */
export function wideChunkHeader(cid: number, length: number, type: number): Buffer {
  const out = Buffer.alloc(13);
  out[0] = 0;
  out[1] = cid - 64;
  out.writeUIntBE(length, 5, 3);
  out[8] = type;
  return out;
}

/** A whole message in chunks of `chunkSize` (type 3 headers after the first). */
export function message(
  cid: number,
  type: number,
  streamId: number,
  payload: Buffer,
  chunkSize = 128,
): Buffer {
  const parts = [chunkHeader(cid, payload.length, type, streamId)];
  for (let at = 0; at < payload.length; at += chunkSize) {
    if (at > 0) parts.push(Buffer.from([0xc0 | cid]));
    parts.push(payload.subarray(at, at + chunkSize));
  }
  return Buffer.concat(parts);
}

/** A client connection: what it has received, and whether the server closed it. */
export class RtmpClient {
  received = Buffer.alloc(0);
  closed = false;

  private constructor(readonly socket: net.Socket) {
    socket.on('data', (data: Buffer) => {
      this.received = Buffer.concat([this.received, data]);
    });
    socket.on('close', () => {
      this.closed = true;
    });
    socket.on('error', () => undefined);
  }

  /** Connects and, unless `handshake` is false, completes the plain handshake. */
  static async connect(port: number, handshake = true): Promise<RtmpClient> {
    const socket = net.connect(port, '127.0.0.1');
    await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
    const client = new RtmpClient(socket);
    if (!handshake) return client;
    const c1 = Buffer.alloc(1536);
    socket.write(Buffer.concat([Buffer.from([3]), c1]));
    // A server that closes at once (a flood turned away) ends the handshake there.
    await client.waitFor('S0, S1 and S2', () => client.closed || client.received.length >= 1 + 1536 * 2);
    if (client.closed) return client;
    socket.write(client.received.subarray(1, 1537));
    client.received = client.received.subarray(1 + 1536 * 2);
    return client;
  }

  /** Writes bytes unless the server has closed the connection. */
  send(bytes: Buffer): void {
    if (!this.closed && !this.socket.destroyed) this.socket.write(bytes);
  }

  /** `connect` to `app`, `createStream`, then `publish` of `key` on stream 1. */
  publish(app: string, key: string): void {
    const tcUrl = `rtmp://127.0.0.1/${app}`;
    this.send(message(3, 20, 0, amf0('connect', 1, { app, type: 'nonprivate', tcUrl })));
    this.send(message(3, 20, 0, amf0('createStream', 2, null)));
    this.send(message(4, 20, 1, amf0('publish', 3, null, key, 'live')));
  }

  /** Whether the server's replies so far include `text` (AMF strings are plain UTF-8). */
  heard(text: string): boolean {
    return this.received.includes(Buffer.from(text, 'utf8'));
  }

  waitFor<T>(what: string, condition: () => T, timeoutMs = 10_000): Promise<NonNullable<T>> {
    return waitUntil(what, condition, {
      timeoutMs,
      describe: () => ({ closed: this.closed, receivedBytes: this.received.length }),
    });
  }

  /** Resolves once the server closed the connection, failing after `timeoutMs`. */
  waitClosed(why: string, timeoutMs = 10_000): Promise<true> {
    return this.waitFor(`the ingest to close ${why}`, () => this.closed || undefined, timeoutMs);
  }

  close(): void {
    this.socket.destroy();
  }
}

/**
 * The attack of hardening-2: after the handshake, one type-0 header per chunk stream id claiming
 * a 16 MB message, each with 128 bytes of payload. Returns the bytes it managed to send.
 */
export function sendLengthBomb(client: RtmpClient, ids = 300): number {
  let sent = 0;
  for (let i = 0; i < ids && !client.closed; i++) {
    const cid = 2 + i;
    const header = cid < 64 ? chunkHeader(cid, 0xffffff, 9) : wideChunkHeader(cid, 0xffffff, 9);
    const chunk = Buffer.concat([header, Buffer.alloc(128, 0x17)]);
    client.send(chunk);
    sent += chunk.length;
  }
  return sent;
}
