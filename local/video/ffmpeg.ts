import { type ChildProcessWithoutNullStreams, spawn, spawnSync } from 'node:child_process';

/** ffmpeg from Debian (`apt-get install -y ffmpeg`), or `FFMPEG_PATH`. */
export const FFMPEG = process.env.FFMPEG_PATH || 'ffmpeg';

export const FFMPEG_MISSING =
  'ffmpeg is not installed: local video needs it (sudo apt-get update && sudo apt-get install -y ffmpeg)';

let available: boolean | undefined;

/** Whether ffmpeg runs here (checked once). */
export function hasFfmpeg(): boolean {
  available ??= spawnSync(FFMPEG, ['-version'], { stdio: 'ignore' }).status === 0;
  return available;
}

/** A running ffmpeg whose stderr (errors only) goes to `log`. */
export function runFfmpeg(
  args: readonly string[],
  log: (line: string) => void,
): ChildProcessWithoutNullStreams {
  const child = spawn(FFMPEG, ['-hide_banner', '-nostdin', '-loglevel', 'error', ...args], {
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (text: string) => {
    for (const line of text.split('\n')) if (line.trim()) log(`[ffmpeg] ${line.trim()}`);
  });
  // A closed pipe while stopping is expected; anything else shows in ffmpeg's own log.
  child.stdin.on('error', () => undefined);
  return child;
}

/**
 * Stops an ffmpeg: its stdin closes and it gets SIGTERM, then SIGKILL if it has not exited within
 * `graceMs` (a read blocked on a pipe can outlast SIGTERM). Resolves once it has exited.
 */
export async function stopFfmpeg(child: ChildProcessWithoutNullStreams, graceMs = 2000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('close', () => resolve()));
  child.stdin.end();
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}

/**
 * The packager's ffmpeg: FLV in on stdin (the RTMP publisher's tags), MPEG-TS out on stdout, with
 * no re-encode. Packets are flushed one by one, so the live edge the packager sees is the ingest's.
 */
export function remuxFlvToTs(log: (line: string) => void): ChildProcessWithoutNullStreams {
  return runFfmpeg(
    [
      '-fflags',
      'nobuffer',
      '-analyzeduration',
      '1000000',
      '-f',
      'flv',
      '-i',
      'pipe:0',
      '-map',
      '0:v',
      '-map',
      '0:a?',
      '-c',
      'copy',
      '-f',
      'mpegts',
      // One audio frame per PES: ffmpeg's default gathers about 0.2 s of audio into one, which then
      // starts each segment well before its key frame.
      '-pes_payload_size',
      '0',
      '-flush_packets',
      '1',
      'pipe:1',
    ],
    log,
  );
}

/**
 * A test pattern with a running clock and a 440 Hz tone, H.264 and AAC at 30 fps with a key frame
 * every second, published to `rtmpUrl` in real time until stopped.
 */
export function publishTestStream(
  rtmpUrl: string,
  log: (line: string) => void,
): ChildProcessWithoutNullStreams {
  return runFfmpeg(
    [
      '-re',
      '-f',
      'lavfi',
      '-i',
      'testsrc2=size=640x360:rate=30',
      '-f',
      'lavfi',
      '-i',
      'sine=frequency=440:sample_rate=48000',
      '-f',
      'lavfi',
      '-i',
      FRAME_CLOCK_SOURCE,
      '-filter_complex',
      '[0:v][2:v]overlay=0:0,format=yuv420p[v]',
      '-map',
      '[v]',
      '-map',
      '1:a',
      '-c:v',
      'libx264',
      '-preset',
      'ultrafast',
      '-tune',
      'zerolatency',
      '-g',
      '30',
      '-c:a',
      'aac',
      '-b:a',
      '96k',
      '-f',
      'flv',
      rtmpUrl,
    ],
    log,
  );
}

/** Frames of the test stream per second. */
export const TEST_STREAM_FPS = 30;
/** Bits of the frame number drawn in the test stream's clock strip. */
export const FRAME_CLOCK_BITS = 20;
/** Width of one bit's block in the clock strip, in pixels (the strip is 16 px tall, at the top). */
export const FRAME_CLOCK_BLOCK = 32;

/**
 * The test stream's machine-readable clock: a strip across the top whose blocks are white or black
 * for the bits of the frame number (least significant first), so a page can read which frame it
 * shows from the pixels. It is drawn on a small source and laid over the pattern, which costs a
 * fraction of drawing it on the whole frame. testsrc2 itself shows the frame number in its corner.
 */
const FRAME_CLOCK_SOURCE = `color=c=black:s=${FRAME_CLOCK_BITS * FRAME_CLOCK_BLOCK}x16:r=${TEST_STREAM_FPS},format=gray,geq=lum='255*mod(floor(N/pow(2,floor(X/${FRAME_CLOCK_BLOCK}))),2)'`;
