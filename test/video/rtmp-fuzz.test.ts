import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import * as path from 'node:path';
import { BEFORE_PUBLISH_LIMITS } from '../../local/video/rtmp-ingest';
import { waitUntil } from '../support/wait';
import { chunkHeader, RtmpClient, sendLengthBomb } from './rtmp-client';

/**
 * The RTMP fuzz (docs/reliability.md, "Hostile RTMP clients"): hostile connections against the
 * ingest in a process of its own, whose peak RSS is reported. 20 connections in `npm test`;
 * `RTMP_FUZZ_CONNECTIONS=300` runs the full size.
 */
const CONNECTIONS = Number(process.env.RTMP_FUZZ_CONNECTIONS ?? 20);
/** The bound of hardening-2, for the whole process. */
const PEAK_RSS_LIMIT_MB = 300;
/** Short, so the connections that hold their limit and wait are closed soon. */
const PUBLISH_WITHIN_MS = 3000;

interface TargetStats {
  readonly connections: number;
  readonly bufferedBytes: number;
  readonly unsentBytes: number;
  readonly peakBufferedBytes: number;
  readonly peakConnections: number;
  readonly rssMB: number;
  readonly peakRssMB: number;
}

let target: ChildProcessWithoutNullStreams;
let port: number;
let output = '';
let stderr = '';

/** The target's next JSON line after `from` characters of its output. */
const nextLine = (from: number) =>
  waitUntil(
    'a line from the fuzz target',
    () => {
      const line = output
        .slice(from)
        .split('\n')
        .find((l) => l.startsWith('{'));
      return line && output.slice(from).includes('\n')
        ? (JSON.parse(line) as Record<string, number>)
        : undefined;
    },
    { timeoutMs: 30_000, describe: () => ({ output: output.slice(from), stderr: stderr.slice(-2000) }) },
  );

const stats = async (): Promise<TargetStats> => {
  const from = output.length;
  target.stdin.write('stats\n');
  return (await nextLine(from)) as unknown as TargetStats;
};

/** A small seeded generator, so a failing run can be replayed. */
const random = (seed: number) => () => {
  seed = (seed + 0x6d2b79f5) | 0;
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
};

const filler = Buffer.alloc(64 * 1024, 0x5a);

/** One hostile connection, by kind: each either gets closed by the ingest or holds its limit. */
async function attack(index: number): Promise<RtmpClient> {
  const next = random(index + 1);
  const kind = index % 4;
  const client = await RtmpClient.connect(port, kind !== 3);
  if (kind === 0) sendLengthBomb(client, 300);
  else if (kind === 1) {
    // Garbage after the handshake: random bytes, in random pieces.
    for (let sent = 0; sent < 64 * 1024 && !client.closed; ) {
      const piece = Buffer.from(
        Array.from({ length: 1 + Math.floor(next() * 2048) }, () => Math.floor(next() * 256)),
      );
      client.send(piece);
      sent += piece.length;
    }
  } else if (kind === 2) {
    // Within every limit but holding as much as allowed: 32 KB chunks of 64 KB messages, each
    // message left after its first chunk, on 4 chunk streams (128 KB, the buffered limit).
    const length = BEFORE_PUBLISH_LIMITS.maxMessageBytes - 1;
    client.send(Buffer.from([2, 0, 0, 0, 0, 0, 4, 1, 0, 0, 0, 0, 0, 0, 0x80, 0]));
    for (let cid = 3; cid < 3 + 4; cid++)
      client.send(Buffer.concat([chunkHeader(cid, length, 20), filler.subarray(0, 32 * 1024)]));
  } else {
    // Not RTMP at all.
    client.send(Buffer.concat([Buffer.from('GET / HTTP/1.1\r\n\r\n'), filler]));
  }
  return client;
}

beforeAll(async () => {
  const tsx = path.join(__dirname, '../../node_modules/.bin/tsx');
  target = spawn(tsx, [path.join(__dirname, 'rtmp-fuzz-target.ts')], {
    env: { ...process.env, RTMP_FUZZ_PUBLISH_WITHIN_MS: String(PUBLISH_WITHIN_MS) },
  });
  target.stdout.on('data', (data: Buffer) => (output += data.toString()));
  target.stderr.on('data', (data: Buffer) => (stderr += data.toString()));
  port = (await nextLine(0)).port;
}, 60_000);

afterAll(async () => {
  if (!target || target.exitCode !== null) return;
  const exited = new Promise((resolve) => target.once('exit', resolve));
  target.stdin.end();
  await exited;
});

describe(`when ${CONNECTIONS} hostile RTMP connections reach the ingest`, () => {
  it('closes every one, frees what they held and keeps the process under its RSS bound', async () => {
    const before = await stats();
    const clients: RtmpClient[] = [];
    // In waves of 50, as a fuzzer on one machine sends them.
    for (let at = 0; at < CONNECTIONS; at += 50) {
      const wave = Array.from({ length: Math.min(50, CONNECTIONS - at) }, (_, i) => attack(at + i));
      clients.push(...(await Promise.all(wave)));
    }
    await waitUntil('the ingest to close every hostile connection', () => clients.every((c) => c.closed), {
      timeoutMs: PUBLISH_WITHIN_MS + 30_000,
      describe: () => `${clients.filter((c) => !c.closed).length} of ${clients.length} still open`,
    });
    const after = await waitUntil('the ingest to drop every connection', async () => {
      const now = await stats();
      return now.connections === 0 ? now : undefined;
    });
    console.log(
      `RTMP fuzz: ${CONNECTIONS} hostile connections; ingest held at most ${after.peakBufferedBytes} bytes ` +
        `over ${after.peakConnections} connections at once; RSS ${before.rssMB} MB before, ` +
        `${after.rssMB} MB after, peak ${after.peakRssMB} MB`,
    );
    expect(after).toMatchObject({ connections: 0, bufferedBytes: 0, unsentBytes: 0 });
    // What the ingest itself held: never more than its per-connection limit each.
    expect(after.peakBufferedBytes).toBeGreaterThan(0);
    expect(after.peakBufferedBytes).toBeLessThanOrEqual(
      after.peakConnections * BEFORE_PUBLISH_LIMITS.maxBufferedBytes,
    );
    // RSS is noisy: a loose bound on the growth, and the hard bound on the peak.
    expect(after.rssMB - before.rssMB).toBeLessThan(150);
    expect(after.peakRssMB).toBeLessThan(PEAK_RSS_LIMIT_MB);
  });
});
