import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { HostClient } from '../client/host-client';
import { NodeSha256 } from '../client/sha256-node';
import type { LocalRuntime } from '../local/runtime';
import { FFMPEG, FRAME_CLOCK_BITS, FRAME_CLOCK_BLOCK, TEST_STREAM_FPS } from '../local/video/ffmpeg';
import type { InsertedCue } from '../local/video/hls-packager';
import { median } from './stats';

/**
 * P5: the same frame for every viewer. Two viewer pages play the local test stream, whose frames
 * carry their number in a strip of black and white blocks. For each cue sent through the HTTP API,
 * the bench reads the frame each page shows at the moment it shows the cue (from the video's
 * pixels), and the frame the cue was written at (ffmpeg decodes that segment). It does the same
 * for the feed path, which each page also subscribes to: the feed is wall-clock and knows
 * nothing of the video.
 *
 * Viewer B is on a slow network (Chromium adds SLOW_NETWORK_RTT_MS to every request it makes),
 * so the two pages play at different distances behind the live edge, as real viewers do.
 */
export interface SyncRow {
  cue: number;
  path: 'player' | 'feed';
  /** Video position at which each page showed it, minus the cue's frame (ms; + is later). */
  offsetAMs: number;
  offsetBMs: number;
  /** |A − B|: how far apart in the video the two pages showed it. */
  spreadMs: number;
  /** From PutMetadata accepting the cue to each page showing it (ms of wall clock). */
  delayAMs: number;
  delayBMs: number;
}

export interface SyncResult {
  cues: number;
  rows: SyncRow[];
  playerMaxSpreadMs: number;
  feedMaxSpreadMs: number;
  playerMaxAbsOffsetMs: number;
  playerMedianDelayMs: number;
  feedMedianDelayMs: number;
  /** Each page's median delay on the player path: how far behind PutMetadata it plays. */
  latencyAMs: number;
  latencyBMs: number;
}

/** The round trip Chromium adds to each of viewer B's requests. */
const SLOW_NETWORK_RTT_MS = 800;

interface Shown {
  seq: number;
  frame: number;
  at: number;
}

/** In the page: the frame number its video shows now, read from the clock strip. */
const PROBE = `
(() => {
  const BITS = ${FRAME_CLOCK_BITS}, BLOCK = ${FRAME_CLOCK_BLOCK};
  const canvas = document.createElement('canvas');
  canvas.width = BITS * BLOCK; canvas.height = 16;
  const ctx = canvas.getContext('2d', { willReadFrequently: true });
  window.__frame = () => {
    const video = document.querySelector('video');
    if (!video || video.videoWidth === 0) return -1;
    ctx.drawImage(video, 0, 0, BITS * BLOCK, 16, 0, 0, BITS * BLOCK, 16);
    const row = ctx.getImageData(0, 8, BITS * BLOCK, 1).data;
    let n = 0;
    for (let bit = 0; bit < BITS; bit++) if (row[(bit * BLOCK + BLOCK / 2) * 4] > 128) n += 2 ** bit;
    return n;
  };
  window.__shown = { player: [], feed: [] };
  window.addEventListener('cuecast:cue', (event) => {
    const seq = event.detail?.data?.p5;
    if (typeof seq === 'number') window.__shown.player.push({ seq, frame: window.__frame(), at: Date.now() });
  });
  fetch('./config.json').then((r) => r.json()).then((config) => {
    const feed = new EventSource(config.cueEventsUrl);
    feed.onmessage = (message) => {
      const seq = JSON.parse(JSON.parse(message.data).metadata)?.data?.p5;
      if (typeof seq === 'number') window.__shown.feed.push({ seq, frame: window.__frame(), at: Date.now() });
    };
  });
})();
`;

export async function measureSync(
  runtime: LocalRuntime,
  browser: Browser,
  cues: number,
  spacingMs: number,
  settleMs = 6000,
): Promise<SyncResult> {
  const { config } = runtime;
  if (!config.viewerUrl) throw new Error('P5 needs the built pages (npx vite build)');
  const pages: Page[] = [];
  for (let i = 0; i < 2; i++) {
    const page = await (await browser.newContext()).newPage();
    await page.addInitScript(PROBE);
    await page.goto(config.viewerUrl);
    await page.waitForFunction(
      () => ((document.querySelector('video') as HTMLVideoElement | null)?.currentTime ?? 0) > 1,
      null,
      { timeout: 60_000 },
    );
    pages.push(page);
  }
  // Viewer B moves to a slow network, and the player settles at its new distance from the edge.
  const cdp = await pages[1].context().newCDPSession(pages[1]);
  await cdp.send('Network.emulateNetworkConditions', {
    offline: false,
    latency: SLOW_NETWORK_RTT_MS,
    downloadThroughput: -1,
    uploadThroughput: -1,
  });
  await new Promise((resolve) => setTimeout(resolve, settleMs));

  const host = new HostClient({
    apiUrl: config.httpApiUrl,
    region: config.region,
    credentials: config.credentials,
    sha256: NodeSha256 as unknown as ConstructorParameters<typeof HostClient>[0]['sha256'],
  });
  const live = () => runtime.video.cues(config.channelArn);
  const frames = new Map<number, number>();
  const inserted = new Map<number, InsertedCue>();
  for (let seq = 0; seq < cues; seq++) {
    await host.sendEvent('p5', { p5: seq });
    const cue = live().find((c) => (JSON.parse(c.text) as { data?: { p5?: number } }).data?.p5 === seq);
    if (!cue) throw new Error(`cue ${seq} was not written into the video`);
    inserted.set(seq, cue);
    await new Promise((resolve) => setTimeout(resolve, spacingMs));
    // By now the cue's segment is closed and still held: decode the frame it was written at.
    frames.set(seq, await frameAt(config.playbackUrl, cue));
  }
  // The player shows each cue a few seconds after it was sent: wait for the last one.
  const shown = await Promise.all(
    pages.map(async (page) => {
      await page.waitForFunction(
        (n) => (window as unknown as { __shown: { player: unknown[] } }).__shown.player.length >= n,
        cues,
        { timeout: 30_000 },
      );
      return page.evaluate(
        () => (window as unknown as { __shown: { player: Shown[]; feed: Shown[] } }).__shown,
      );
    }),
  );

  const frameMs = 1000 / TEST_STREAM_FPS;
  const rows: SyncRow[] = [];
  for (const pathName of ['player', 'feed'] as const) {
    for (let seq = 0; seq < cues; seq++) {
      const [a, b] = shown.map((s) => s[pathName].find((x) => x.seq === seq));
      const cueFrame = frames.get(seq);
      const cue = inserted.get(seq);
      if (!a || !b || cueFrame === undefined || !cue)
        throw new Error(`cue ${seq} missing on the ${pathName} path`);
      const offsetAMs = Math.round((a.frame - cueFrame) * frameMs);
      const offsetBMs = Math.round((b.frame - cueFrame) * frameMs);
      rows.push({
        cue: seq,
        path: pathName,
        offsetAMs,
        offsetBMs,
        spreadMs: Math.abs(offsetAMs - offsetBMs),
        delayAMs: a.at - cue.insertedAt,
        delayBMs: b.at - cue.insertedAt,
      });
    }
  }
  for (const page of pages) await page.context().close();
  const of = (p: 'player' | 'feed') => rows.filter((r) => r.path === p);
  return {
    cues,
    rows,
    playerMaxSpreadMs: Math.max(...of('player').map((r) => r.spreadMs)),
    feedMaxSpreadMs: Math.max(...of('feed').map((r) => r.spreadMs)),
    playerMaxAbsOffsetMs: Math.max(
      ...of('player').flatMap((r) => [Math.abs(r.offsetAMs), Math.abs(r.offsetBMs)]),
    ),
    playerMedianDelayMs: median(of('player').flatMap((r) => [r.delayAMs, r.delayBMs])),
    feedMedianDelayMs: median(of('feed').flatMap((r) => [r.delayAMs, r.delayBMs])),
    latencyAMs: median(of('player').map((r) => r.delayAMs)),
    latencyBMs: median(of('player').map((r) => r.delayBMs)),
  };
}

/** Decodes the cue's segment and reads the clock strip of the frame with the cue's PTS. */
async function frameAt(playbackUrl: string, cue: InsertedCue): Promise<number> {
  const url = new URL(`${cue.segment}.ts`, playbackUrl);
  const res = await fetch(url);
  if (!res.ok) throw new Error(`segment ${cue.segment}: HTTP ${res.status}`);
  const file = path.join(os.tmpdir(), `cuecast-p5-${process.pid}-${cue.segment}.ts`);
  fs.writeFileSync(file, Buffer.from(await res.arrayBuffer()));
  try {
    return frameNumberAtPts(file, cue.pts);
  } finally {
    fs.rmSync(file, { force: true });
  }
}

/** The frame number drawn in the clock strip of the frame at `pts` in a TS file (ffmpeg decodes). */
export function frameNumberAtPts(file: string, pts: number): number {
  const ptsList = execFileSync(
    'ffprobe',
    ['-v', 'error', '-select_streams', 'v', '-show_entries', 'frame=pts', '-of', 'csv=p=0', file],
    { encoding: 'utf8' },
  )
    .split('\n')
    .filter(Boolean)
    .map(Number);
  const index = ptsList.indexOf(pts);
  if (index < 0) throw new Error(`no video frame at PTS ${pts} in the segment`);
  const width = FRAME_CLOCK_BITS * FRAME_CLOCK_BLOCK;
  const strips = execFileSync(
    FFMPEG,
    [
      '-v',
      'error',
      '-i',
      file,
      '-map',
      '0:v',
      '-fps_mode',
      'passthrough',
      '-vf',
      `crop=${width}:16:0:0,format=gray`,
      '-f',
      'rawvideo',
      '-',
    ],
    { maxBuffer: 64 * 1024 * 1024 },
  );
  const strip = strips.subarray(index * width * 16, (index + 1) * width * 16);
  let n = 0;
  for (let bit = 0; bit < FRAME_CLOCK_BITS; bit++) {
    if (strip[8 * width + bit * FRAME_CLOCK_BLOCK + FRAME_CLOCK_BLOCK / 2] > 128) n += 2 ** bit;
  }
  return n;
}
