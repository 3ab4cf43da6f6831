import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Page } from 'playwright-core';
import { browserSuite, openFromConsole } from './browser';

/**
 * Local video (docs/local-video.md) as a viewer meets it: the runtime publishes ffmpeg's test
 * stream to its RTMP ingest and packages it as HLS with the cues written into it, and the viewer
 * page plays that with the real Amazon IVS Player, taking its cues from the player.
 */
const suite = browserSuite({ testStream: true });
const screenshots = path.join(__dirname, '..', '..', 'test-output');
const { host, openViewer } = suite;

const videoTime = (page: Page) => page.locator('video').evaluate((v: HTMLVideoElement) => v.currentTime);

describe('when the local ingest has video', () => {
  it('plays it, and the question and the result reach the page through the player', async () => {
    const page = await openViewer();
    await page.locator('video').waitFor({ state: 'visible', timeout: 30_000 });
    await page.waitForFunction(
      () => (document.querySelector('video') as HTMLVideoElement).currentTime > 0.5,
      null,
      {
        timeout: 30_000,
      },
    );
    const before = await videoTime(page);
    await page.waitForTimeout(2000);
    // The video plays: its time advances with the wall clock.
    expect((await videoTime(page)) - before).toBeGreaterThan(1.2);

    const created = await host(
      'quiz',
      'create',
      '--question',
      'Which frame?',
      '--choice',
      'This one',
      '--choice',
      'That one',
      '--correct',
      '0',
      '--duration',
      '30',
    );
    const question = page.getByTestId('question').filter({ hasText: 'Which frame?' });
    await question.waitFor({ timeout: 20_000 });
    // It came in the video: the feed is off while the player plays.
    await expect(question.getAttribute('data-cue-source')).resolves.toBe('player');
    const cue = suite.runtime.video
      .cues(suite.runtime.config.channelArn)
      .find((c) => c.text.includes(created.quizId));
    expect(cue).toBeDefined();

    await page.getByTestId('connection').filter({ hasText: 'Connected' }).waitFor({ timeout: 20_000 });
    await page.getByRole('button', { name: 'This one' }).click();
    await page.getByTestId('notice').filter({ hasText: 'Answer locked in' }).waitFor({ timeout: 20_000 });

    await host('quiz', 'reveal', created.quizId, '--force');
    // The WebSocket push usually lands first; the result cue follows at its frame in the video.
    await page.locator('[data-testid="total"][data-cue-source~="player"]').waitFor({ timeout: 20_000 });
    await expect(page.getByTestId('total').textContent()).resolves.toBe('1 answer in all');
  }, 90_000);

  it('gives the host a cockpit: stream, viewers, countdown, the reveal’s readiness, past questions', async () => {
    const viewers = await Promise.all([openViewer(), openViewer()]);
    for (const viewer of viewers) {
      await viewer.waitForFunction(
        () => (document.querySelector('video') as HTMLVideoElement).currentTime > 0.5,
        null,
        {
          timeout: 30_000,
        },
      );
    }
    const console = await suite.openConsole();
    await console.getByTestId('cockpit-stream').filter({ hasText: 'LIVE' }).waitFor({ timeout: 20_000 });
    // IVS's viewerCount, from the local GetStream: the pages playing the channel (at least these two).
    const watching = console.getByTestId('viewer-count').filter({ hasText: /^([2-9]|\d{2,}) watching$/ });
    await watching.waitFor({ timeout: 30_000 });
    await expect(console.getByTestId('send').isEnabled()).resolves.toBe(true);

    await openFromConsole(console, {
      question: 'First of the night?',
      choices: ['Sure', 'Nope'],
      seconds: 5,
    });
    await console
      .getByTestId('live-countdown')
      .filter({ hasText: 's left to answer' })
      .waitFor({ timeout: 20_000 });
    await console
      .getByTestId('reveal-ready')
      .filter({ hasText: /^Reveal possible in \d+ s/ })
      .waitFor();
    await viewers[0].getByRole('button', { name: 'Sure' }).click();
    await console
      .getByTestId('live-total')
      .filter({ hasText: '1 answer so far' })
      .waitFor({ timeout: 20_000 });
    await expect(console.getByTestId('live-count-0').textContent()).resolves.toContain('Sure ✓ correct1');
    fs.mkdirSync(screenshots, { recursive: true });
    await console.screenshot({ path: path.join(screenshots, 'console-cockpit.png'), fullPage: true });
    // The answer time, then the grace for viewers behind in the video: then the reveal may go.
    await console
      .getByTestId('live-countdown')
      .filter({ hasText: 'can answer for' })
      .waitFor({ timeout: 20_000 });
    await console
      .getByTestId('reveal-ready')
      .filter({ hasText: 'Reveal possible now.' })
      .waitFor({ timeout: 20_000 });
    await console.getByRole('button', { name: 'Reveal', exact: true }).click();
    await console.getByTestId('live-question').filter({ hasText: '(revealed)' }).waitFor({ timeout: 20_000 });

    await openFromConsole(console, { question: 'Second one?', choices: ['Yes', 'No'], seconds: 30 });
    await console
      .getByTestId('live-question')
      .filter({ hasText: 'Second one? (open)' })
      .waitFor({ timeout: 20_000 });
    const earlier = console.getByTestId('past-list').locator('li').filter({ hasText: 'First of the night?' });
    await earlier.first().waitFor({ timeout: 20_000 });
    await expect(earlier.first().textContent()).resolves.toMatch(/Quiz, revealed: 1 answer.*Sure ✓ correct1/);
    await console.screenshot({ path: path.join(screenshots, 'console-past.png'), fullPage: true });
  }, 120_000);

  it('falls back to the feed when the stream ends', async () => {
    const console = await suite.openConsole();
    const page = await openViewer();
    await page.locator('video').waitFor({ state: 'visible', timeout: 30_000 });
    await suite.runtime.testStream?.stop();
    // The playlist is gone: the player fails over and the page hides the video.
    await page.locator('video').waitFor({ state: 'hidden', timeout: 30_000 });
    // The host sees it too, and cannot send what IVS would refuse.
    await console.getByTestId('cockpit-stream').filter({ hasText: 'Offline' }).waitFor({ timeout: 20_000 });
    await console.getByTestId('send-blocked').waitFor();
    await expect(console.getByTestId('send').isDisabled()).resolves.toBe(true);
    // Without video the stream is simulated live again, as `npm run dev` starts.
    const ivs = suite.runtime.config.ivsEndpoint;
    const reply = await fetch(`${ivs}/_local/stream`, {
      method: 'POST',
      headers: { 'X-Cuecast-Local': '1' },
      body: JSON.stringify({ state: 'live' }),
    });
    expect(reply.status).toBe(200);
    await page.getByTestId('stream').filter({ hasText: 'LIVE' }).waitFor({ timeout: 20_000 });
    await host(
      'quiz',
      'create',
      '--question',
      'No video now?',
      '--choice',
      'Yes',
      '--choice',
      'No',
      '--correct',
      '0',
      '--duration',
      '30',
    );
    const question = page.getByTestId('question').filter({ hasText: 'No video now?' });
    await question.waitFor({ timeout: 20_000 });
    await expect(question.getAttribute('data-cue-source')).resolves.toBe('feed');
  }, 90_000);
});
