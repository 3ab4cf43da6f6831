import { freeBasePort } from '../../local/ports';
import { RtmpIngest } from '../../local/video/rtmp-ingest';

/**
 * The process the RTMP fuzz attacks (test/video/rtmp-fuzz.test.ts): the ingest alone, so its peak
 * RSS is the ingest's. Prints `{"port":…}`, then answers each `stats` line on stdin with what the
 * ingest holds, the peak of that, and the process's RSS and peak RSS (getrusage's maxrss).
 */
async function main(): Promise<void> {
  const port = await freeBasePort(1);
  const ingest = new RtmpIngest({
    port,
    log: () => undefined,
    channelForKey: () => undefined,
    publish: () => 'no publishing in the fuzz',
    publishWithinMs: Number(process.env.RTMP_FUZZ_PUBLISH_WITHIN_MS ?? 10_000),
  });
  await ingest.start();
  let peakBufferedBytes = 0;
  let peakConnections = 0;
  setInterval(() => {
    const stats = ingest.stats();
    peakBufferedBytes = Math.max(peakBufferedBytes, stats.bufferedBytes);
    peakConnections = Math.max(peakConnections, stats.connections);
  }, 5);
  const mb = (bytes: number) => Math.round(bytes / 1e5) / 10;
  process.stdin.setEncoding('utf8');
  process.stdin.on('data', () => {
    const stats = ingest.stats();
    process.stdout.write(
      `${JSON.stringify({
        ...stats,
        peakBufferedBytes: Math.max(peakBufferedBytes, stats.bufferedBytes),
        peakConnections,
        rssMB: mb(process.memoryUsage.rss()),
        peakRssMB: mb(process.resourceUsage().maxRSS * 1024),
      })}\n`,
    );
  });
  process.stdin.on('end', () => process.exit(0));
  process.stdout.write(`${JSON.stringify({ port })}\n`);
}

void main();
