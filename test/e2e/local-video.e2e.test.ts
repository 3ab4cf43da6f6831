import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Page } from 'playwright-core';
import {
  browserSuite,
  expectPhases,
  openFromConsole,
  recordTexts,
  waitFor,
  waitForPage,
  watchCueFeed,
} from './browser';

/**
 * Local video (docs/local-video.md) as a viewer meets it: the runtime publishes ffmpeg's test
 * stream to its RTMP ingest and packages it as HLS with the cues written into it, and the viewer
 * page plays that with the real Amazon IVS Player, taking its cues from the player.
 *
 * The answer grace is the template's (8 s) here, as deployed: it exists for viewers behind in the
 * video, and the local video is about 5 s behind (more on a loaded machine), so the cockpit's
 * viewer needs it to answer a 5 s question in time; that test waits the real grace out.
 */
const suite = browserSuite({ testStream: true });
const screenshots = path.join(__dirname, '..', '..', 'test-output');
const { host, openViewer, it } = suite;

const videoTime = (page: Page) => page.locator('video').evaluate((v: HTMLVideoElement) => v.currentTime);

/** A viewer page whose video plays (past its first half second). */
async function playingViewer(): Promise<Page> {
  const page = await openViewer();
  await waitFor(page.locator('video'), { timeout: 30_000 });
  await waitForPage(
    page,
    'the video to play past 0.5 s',
    () => (document.querySelector('video') as HTMLVideoElement).currentTime > 0.5,
    undefined,
    30_000,
  );
  return page;
}

describe('when the local ingest has video', () => {
  it('plays it, and the question and the result reach the page through the player', async () => {
    const page = await playingViewer();
    const before = await videoTime(page);
    // The quiz goes out while the video is watched: the player plays, so its cue comes in the video.
    const [created] = await Promise.all([
      host(
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
      ),
      waitForPage(
        page,
        `the video to advance 1.2 s from ${before.toFixed(1)} s`,
        (from) => (document.querySelector('video') as HTMLVideoElement).currentTime > from + 1.2,
        before,
      ),
    ]);
    // The video plays: its time advances with the wall clock.
    expect((await videoTime(page)) - before).toBeGreaterThan(1.2);
    const question = page.getByTestId('question').filter({ hasText: 'Which frame?' });
    await waitFor(question);
    // It came in the video: the feed is off while the player plays.
    await expect(question.getAttribute('data-cue-source')).resolves.toBe('player');
    const cue = suite.runtime.video
      .cues(suite.runtime.config.channelArn)
      .find((c) => c.text.includes(created.quizId));
    expect(cue).toBeDefined();

    await waitFor(page.getByTestId('connection').filter({ hasText: 'Connected' }));
    await page.getByRole('button', { name: 'This one' }).click();
    await waitFor(page.getByTestId('notice').filter({ hasText: 'Answer locked in' }));

    await host('quiz', 'reveal', created.quizId, '--force');
    // The WebSocket push usually lands first; the result cue follows at its frame in the video.
    await waitFor(page.locator('[data-testid="total"][data-cue-source~="player"]'));
    await expect(page.getByTestId('total').textContent()).resolves.toBe('1 answer in all');
  }, 90_000);

  it('gives the host a cockpit: stream, viewers, countdown, the reveal’s readiness, past questions', async () => {
    const [viewers, console] = await Promise.all([
      Promise.all([playingViewer(), playingViewer()]),
      suite.openConsole(),
    ]);
    await waitFor(console.getByTestId('cockpit-stream').filter({ hasText: 'LIVE' }));
    // IVS's viewerCount, from the local GetStream: the pages playing the channel (at least these two).
    const watching = console.getByTestId('viewer-count').filter({ hasText: /^([2-9]|\d{2,}) watching$/ });
    await waitFor(watching, { timeout: 30_000 });
    await expect(console.getByTestId('send').isEnabled()).resolves.toBe(true);

    // The countdown's phases last seconds each: recorded in the page, checked once they are past.
    const recorded = await recordTexts(console, ['live-countdown', 'reveal-ready']);
    await openFromConsole(console, {
      question: 'First of the night?',
      choices: ['Sure', 'Nope'],
      seconds: 5,
    });
    // When its phases end: the quiz as any viewer may read it (GET /state).
    const { quiz } = await (await fetch(`${suite.runtime.config.httpApiUrl}state`)).json();
    expect(quiz.question).toBe('First of the night?');
    // The question reaches the viewer in the video, seconds behind the console.
    await waitFor(viewers[0].getByTestId('question').filter({ hasText: 'First of the night?' }));
    await viewers[0].getByRole('button', { name: 'Sure' }).click();
    await waitFor(console.getByTestId('live-total').filter({ hasText: '1 answer so far' }));
    await expect(console.getByTestId('live-count-0').textContent()).resolves.toContain('Sure ✓ correct1');
    fs.mkdirSync(screenshots, { recursive: true });
    await console.screenshot({ path: path.join(screenshots, 'console-cockpit.png'), fullPage: true });
    // The answer time, then the grace for viewers behind in the video: then the reveal may go.
    await waitFor(console.getByTestId('reveal-ready').filter({ hasText: 'Reveal possible now.' }));
    const { 'live-countdown': countdown, 'reveal-ready': ready } = await recorded();
    const { closesAt, graceSeconds } = quiz;
    const closes = Date.parse(closesAt);
    expectPhases(countdown, [
      { pattern: /s left to answer/, until: closes },
      { pattern: /can answer for/, until: closes + graceSeconds * 1000 },
      { pattern: /Answers closed/ },
    ]);
    expectPhases(ready, [
      { pattern: /^Reveal possible in \d+ s/, until: closes + graceSeconds * 1000 },
      { pattern: /^Reveal possible now\.$/ },
    ]);
    await console.getByRole('button', { name: 'Reveal', exact: true }).click();
    await waitFor(console.getByTestId('live-question').filter({ hasText: '(revealed)' }));

    await openFromConsole(console, { question: 'Second one?', choices: ['Yes', 'No'], seconds: 30 });
    await waitFor(console.getByTestId('live-question').filter({ hasText: 'Second one? (open)' }));
    const earlier = console.getByTestId('past-list').locator('li').filter({ hasText: 'First of the night?' });
    await waitFor(earlier.first());
    await expect(earlier.first().textContent()).resolves.toMatch(/Quiz, revealed: 1 answer.*Sure ✓ correct1/);
    await console.screenshot({ path: path.join(screenshots, 'console-past.png'), fullPage: true });
  }, 120_000);

  it('falls back to the feed when the stream ends', async () => {
    const [console, page] = await Promise.all([suite.openConsole(), openViewer()]);
    await waitFor(page.locator('video'), { timeout: 30_000 });
    const fellBack = watchCueFeed(page, 60_000);
    await suite.runtime.testStream?.stop();
    // The playlist is gone: the player fails over and the page hides the video.
    await waitFor(page.locator('video'), { state: 'hidden', timeout: 30_000 });
    // The host sees it too, and cannot send what IVS would refuse.
    await waitFor(console.getByTestId('cockpit-stream').filter({ hasText: 'Offline' }));
    await waitFor(console.getByTestId('send-blocked'));
    await expect(console.getByTestId('send').isDisabled()).resolves.toBe(true);
    // Without video the stream is simulated live again, as `npm run dev` starts.
    const ivs = suite.runtime.config.ivsEndpoint;
    const reply = await fetch(`${ivs}/_local/stream`, {
      method: 'POST',
      headers: { 'X-Cuecast-Local': '1' },
      body: JSON.stringify({ state: 'live' }),
    });
    expect(reply.status).toBe(200);
    await waitFor(page.getByTestId('stream').filter({ hasText: 'LIVE' }));
    // A cue sent once the page's feed answered reaches it (the feed replays none sent before).
    await fellBack();
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
    await waitFor(question);
    await expect(question.getAttribute('data-cue-source')).resolves.toBe('feed');
  }, 90_000);
});
