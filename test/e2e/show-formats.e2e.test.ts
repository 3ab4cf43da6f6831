import { IvsClient, PutMetadataCommand } from '@aws-sdk/client-ivs';
import type { Page } from 'playwright-core';
import { browserSuite, openFromConsole, waitFor, waitForPage } from './browser';

/**
 * Polls, product drops, announcements and the `cuecast:cue` event (docs/protocol.md §3.3, §4.5,
 * §4.6) as a viewer meets them in headless Chromium, sent with the host CLI.
 */
const suite = browserSuite();
const { host, openViewer, openViewerOnTestClock, it } = suite;

/** A 1×1 PNG, served for the drop's image: the tests reach no network. */
const PIXEL = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==',
  'base64',
);
const SHOP = 'https://shop.example';

/** Serves the shop's image and page to this page's context, as the real shop would. */
async function fakeShop(page: Page): Promise<void> {
  await page
    .context()
    .route(`${SHOP}/**`, (route) =>
      route.request().url().endsWith('.png')
        ? route.fulfill({ status: 200, contentType: 'image/png', body: PIXEL })
        : route.fulfill({ status: 200, contentType: 'text/html', body: '<title>Tour tee</title>' }),
    );
}

describe('when viewers vote in a poll', () => {
  it('takes a vote with its own thanks, and shows the counts with no correct answer and no grade', async () => {
    const page = await openViewer();
    const created = await host(
      'poll',
      'create',
      '--question',
      'Which song next?',
      '--choice',
      'Encore',
      '--choice',
      'Ballad',
      '--duration',
      '60',
    );
    await waitFor(page.getByTestId('question').filter({ hasText: 'Which song next?' }));
    await page.getByRole('button', { name: 'Ballad' }).click();
    await waitFor(page.getByTestId('notice').filter({ hasText: 'Thanks for voting!' }));

    expect(await host('poll', 'reveal', created.quizId, '--force')).toEqual({
      quizId: created.quizId,
      counts: [0, 1],
      total: 1,
      kind: 'poll',
    });
    await waitFor(page.getByTestId('total').filter({ hasText: '1 vote in all' }));
    await expect(page.getByTestId('count-1').textContent()).resolves.toBe('1');
    await expect(page.getByTestId('choice-1').textContent()).resolves.not.toContain('correct');
    await expect(page.getByTestId('choice-0').textContent()).resolves.not.toContain('correct');
    // The fan-out sends a viewer one push for a poll's result, and no grade: once the push has
    // come (the result may reach the page through the feed first), no grade follows it.
    await waitFor(page.locator('[data-testid="total"][data-cue-source~="push"]'));
    await expect(page.getByTestId('graded').count()).resolves.toBe(0);
  }, 60_000);
});

describe('when a poll shows live results', () => {
  it('shows the running votes while it is open, then the result', async () => {
    const page = await openViewer();
    const created = await host(
      'poll',
      'create',
      '--question',
      'Live: tea or coffee?',
      '--choice',
      'Tea',
      '--choice',
      'Coffee',
      '--duration',
      '60',
      '--live-results',
    );
    await waitFor(page.getByTestId('question').filter({ hasText: 'Live: tea or coffee?' }));
    await page.getByRole('button', { name: 'Coffee' }).click();
    await waitFor(page.getByTestId('total').filter({ hasText: '1 vote so far' }));
    await expect(page.getByTestId('count-1').textContent()).resolves.toBe('1');
    await host('poll', 'reveal', created.quizId, '--force');
    await waitFor(page.getByTestId('total').filter({ hasText: '1 vote in all' }));
  }, 60_000);
});

describe('when the host drops a product', () => {
  it('shows a card with the image, the price and a button to the link, and removes it after its seconds', async () => {
    const page = await openViewerOnTestClock();
    await fakeShop(page);
    await host(
      'drop',
      '--title',
      'Tour tee',
      '--price',
      '€25',
      '--image',
      `${SHOP}/tee.png`,
      '--link',
      `${SHOP}/tee`,
      '--seconds',
      '30',
    );
    const card = page.getByRole('region', { name: 'Product drop: Tour tee' });
    await waitFor(card);
    await expect(page.getByTestId('drop-title').textContent()).resolves.toBe('Tour tee');
    await expect(page.getByTestId('drop-price').textContent()).resolves.toBe('€25');
    const image = page.getByRole('img', { name: 'Tour tee' });
    await expect(image.getAttribute('src')).resolves.toBe(`${SHOP}/tee.png`);
    await waitForPage(
      page,
      'the drop image to load',
      () => {
        const img = document.querySelector<HTMLImageElement>('[data-testid="drop-image"]');
        return img?.complete && img.naturalWidth > 0;
      },
      undefined,
    );

    const [shop] = await Promise.all([
      page.context().waitForEvent('page'),
      page.getByRole('button', { name: 'Get it now' }).click(),
    ]);
    expect(shop.url()).toBe(`${SHOP}/tee`);
    await shop.close();

    // Its 30 s pass on the page's clock, not the wall's: shown until then, gone after.
    await page.clock.fastForward(20_000);
    await expect(card.count()).resolves.toBe(1);
    await page.clock.fastForward(10_000);
    await waitFor(card, { state: 'detached' });
  }, 60_000);
});

describe('when the host announces', () => {
  it('shows the text as a banner, as text even when it looks like markup, and then removes it', async () => {
    const page = await openViewerOnTestClock();
    const text = '<img src=x onerror="window.__hacked=1"> Round two!';
    await host('announce', text, '--seconds', '30');
    const banner = page.getByTestId('announcement');
    await waitFor(banner);
    await expect(banner.textContent()).resolves.toBe(text);
    await expect(banner.locator('img').count()).resolves.toBe(0);
    await expect(page.evaluate(() => (window as { __hacked?: number }).__hacked)).resolves.toBeUndefined();
    await expect(page.getByRole('status').filter({ hasText: 'Round two!' }).count()).resolves.toBe(1);
    // Its 30 s pass on the page's clock, not the wall's: shown until then, gone after.
    await page.clock.fastForward(20_000);
    await expect(banner.count()).resolves.toBe(1);
    await page.clock.fastForward(10_000);
    await waitFor(banner, { state: 'detached' });
  }, 60_000);
});

describe('when an integrator listens for cuecast:cue', () => {
  it('receives every cue, including a type the page does not know', async () => {
    const page = await openViewer();
    await page.evaluate(() => {
      const seen: unknown[] = [];
      (window as { __cues?: unknown[] }).__cues = seen;
      window.addEventListener('cuecast:cue', (event) => seen.push((event as CustomEvent).detail));
    });
    const sent = await host('event', 'send', '--type', 'confetti', '--data', '{"colour":"gold"}');
    const received = await page.waitForFunction(
      (eventId) =>
        ((window as { __cues?: Array<{ eventId?: string }> }).__cues ?? []).find(
          (cue) => cue.eventId === eventId,
        ),
      sent.eventId,
      { timeout: 20_000 },
    );
    expect(await received.jsonValue()).toEqual({
      v: 1,
      type: 'confetti',
      eventId: sent.eventId,
      data: { colour: 'gold' },
    });
  }, 60_000);
});

describe('when the host uses the console for a poll, a drop and an announcement', () => {
  it('opens a poll with no correct answer, and shows a drop and a banner on the viewer page', async () => {
    const [viewer, console] = await Promise.all([openViewer(), suite.openConsole()]);
    await fakeShop(viewer);
    await openFromConsole(console, {
      question: 'Tea or coffee?',
      choices: ['Tea', 'Coffee'],
      seconds: 60,
      poll: true,
    });
    await waitFor(viewer.getByTestId('question').filter({ hasText: 'Tea or coffee?' }));
    await viewer.getByRole('button', { name: 'Coffee' }).click();
    await waitFor(console.getByTestId('live-total').filter({ hasText: '1 vote so far' }));
    await expect(console.getByTestId('live').textContent()).resolves.not.toContain('✓');

    await console.getByLabel('Title').fill('Mug');
    await console.getByLabel('Price (as shown)').fill('€12');
    await console.getByLabel('Image URL (https)').fill(`${SHOP}/mug.png`);
    await console.getByLabel('Link URL (https)').fill(`${SHOP}/mug`);
    await console.getByTestId('send-drop').click();
    await waitFor(viewer.getByRole('region', { name: 'Product drop: Mug' }));
    await waitFor(console.getByTestId('message').filter({ hasText: 'Sent drop' }));

    await console.getByLabel('Text').fill('Back in five!');
    await console.getByTestId('send-announce').click();
    await waitFor(viewer.getByTestId('announcement').filter({ hasText: 'Back in five!' }));
  }, 60_000);
});

describe('when a drop reaches the page with a link that is not https', () => {
  it('shows no card: the page checks the URLs again, whatever put the cue into the stream', async () => {
    const page = await openViewer();
    const { config } = suite.runtime;
    const ivs = new IvsClient({
      endpoint: config.ivsEndpoint,
      region: config.region,
      credentials: config.credentials,
    });
    const put = (cue: Record<string, unknown>) =>
      ivs.send(
        new PutMetadataCommand({ channelArn: config.channelArn, metadata: JSON.stringify({ v: 1, ...cue }) }),
      );
    // Straight into the channel, past the API that would refuse it (as anyone with IVS access could).
    const data = {
      title: 'Forged',
      price: '€1',
      image: `${SHOP}/x.png`,
      link: 'javascript:alert(1)',
      seconds: 60,
    };
    await put({ type: 'drop', eventId: 'forged', data });
    // A later cue in the same feed: once it shows, the drop before it has been handled.
    await put({
      type: 'announcement',
      eventId: 'after',
      data: { text: 'After the forged drop', seconds: 60 },
    });
    await waitFor(page.getByTestId('announcement').filter({ hasText: 'After the forged drop' }));
    await expect(page.getByTestId('drop').count()).resolves.toBe(0);
    await expect(page.getByTestId('drop-slot').innerHTML()).resolves.toBe('');
    ivs.destroy();
  }, 60_000);
});
