import * as fs from 'node:fs';
import * as path from 'node:path';
import { setStream } from '../local/harness';
import { browserSuite, openFromConsole } from './browser';

/**
 * The quiz flow as people meet it: three viewer pages in headless Chromium (Debian's), a host
 * running the CLI, answers by clicking, a reveal, and every page showing counts and its grade.
 */
const screenshots = path.join(__dirname, '..', '..', 'test-output');
const suite = browserSuite();
const { host, openViewer } = suite;

describe('when three viewers play a quiz in the browser', () => {
  it('shows the question, takes clicked answers, and shows every viewer the counts and their grade', async () => {
    expect(suite.runtime.config.viewerUrl).toBeDefined();
    const pages = await Promise.all([openViewer(), openViewer(), openViewer()]);
    for (const page of pages)
      await expect(page.getByTestId('idle').textContent()).resolves.toContain('Waiting');

    const created = await host(
      'quiz',
      'create',
      '--question',
      'Which planet is the largest?',
      '--choice',
      'Mars',
      '--choice',
      'Jupiter',
      '--choice',
      'Venus',
      '--correct',
      '1',
      '--duration',
      '60',
    );
    expect(created.quizId).toEqual(expect.any(String));

    for (const page of pages) {
      await page
        .getByTestId('question')
        .filter({ hasText: 'Which planet is the largest?' })
        .waitFor({ timeout: 20_000 });
      await expect(page.getByTestId('choice-1').textContent()).resolves.toContain('Jupiter');
    }
    fs.mkdirSync(screenshots, { recursive: true });
    await pages[0].screenshot({ path: path.join(screenshots, 'viewer-question.png'), fullPage: true });

    // Two viewers pick Jupiter (right), one picks Mars (wrong); the buttons are real buttons.
    const picks = [1, 1, 0];
    for (const [i, page] of pages.entries()) {
      await page.getByRole('button', { name: ['Mars', 'Jupiter', 'Venus'][picks[i]] }).click();
      await page.getByTestId('notice').filter({ hasText: 'Answer locked in' }).waitFor({ timeout: 20_000 });
      await expect(page.getByTestId(`choice-${picks[i]}`).getAttribute('aria-pressed')).resolves.toBe('true');
      await expect(page.getByTestId('choice-2').isDisabled()).resolves.toBe(true);
    }

    const shown = await host('quiz', 'show', created.quizId);
    expect(shown).toMatchObject({ counts: [1, 2, 0], total: 3, state: 'open' });

    const revealed = await host('quiz', 'reveal', created.quizId, '--force');
    expect(revealed).toEqual({
      quizId: created.quizId,
      correctIndex: 1,
      counts: [1, 2, 0],
      total: 3,
      kind: 'quiz',
    });

    for (const [i, page] of pages.entries()) {
      await page.getByTestId('graded').waitFor({ timeout: 20_000 });
      await expect(page.getByTestId('count-0').textContent()).resolves.toBe('1');
      await expect(page.getByTestId('count-1').textContent()).resolves.toBe('2');
      await expect(page.getByTestId('count-2').textContent()).resolves.toBe('0');
      await expect(page.getByTestId('total').textContent()).resolves.toBe('3 answers in all');
      await expect(page.getByTestId('choice-1').textContent()).resolves.toContain('correct');
      await expect(page.getByTestId('graded').textContent()).resolves.toBe(
        picks[i] === 1 ? 'You got it right!' : 'Not this time.',
      );
    }
    await pages[2].screenshot({ path: path.join(screenshots, 'viewer-result.png'), fullPage: true });
  }, 90_000);

  it('tells a viewer plainly when the question has closed', async () => {
    const page = await openViewer();
    const created = await host(
      'quiz',
      'create',
      '--question',
      'Quick one?',
      '--choice',
      'Yes',
      '--choice',
      'No',
      '--correct',
      '0',
      '--duration',
      '5',
    );
    await page.getByTestId('question').filter({ hasText: 'Quick one?' }).waitFor({ timeout: 20_000 });
    await page.getByTestId('countdown').filter({ hasText: 'Time is up' }).waitFor({ timeout: 15_000 });
    await expect(page.getByTestId('choice-0').isDisabled()).resolves.toBe(true);
    expect(created.quizId).toEqual(expect.any(String));
  }, 60_000);

  it('keeps the focused choice and the status region while the countdown ticks, and takes Enter', async () => {
    const page = await openViewer();
    await host(
      'quiz',
      'create',
      '--question',
      'Keyboard only?',
      '--choice',
      'Sure',
      '--choice',
      'Never',
      '--correct',
      '0',
      '--duration',
      '60',
    );
    await page.getByTestId('question').filter({ hasText: 'Keyboard only?' }).waitFor({ timeout: 20_000 });
    await page.getByTestId('choice-1').focus();
    await page.evaluate(() => {
      const w = window as unknown as Record<string, Element | null>;
      w.focused = document.activeElement;
      w.statusRegion = document.querySelector('[data-testid="notice"]');
    });
    const before = await page.getByTestId('countdown').textContent();
    // A few ticks of the countdown, each a render of the page.
    await page.waitForFunction(
      (text) => document.querySelector('[data-testid="countdown"]')?.textContent !== text,
      before,
    );
    await page.waitForTimeout(1100);
    const kept = await page.evaluate(() => {
      const w = window as unknown as Record<string, Element>;
      return {
        sameFocus: document.activeElement === w.focused && w.focused.isConnected,
        focusedText: document.activeElement?.textContent,
        sameStatus: w.statusRegion === document.querySelector('[data-testid="notice"]'),
      };
    });
    expect(kept).toEqual({ sameFocus: true, focusedText: 'Never', sameStatus: true });

    await page.keyboard.press('Enter');
    await page.getByTestId('notice').filter({ hasText: 'Answer locked in' }).waitFor({ timeout: 20_000 });
    await expect(page.getByTestId('choice-1').getAttribute('aria-pressed')).resolves.toBe('true');
    // The polite live region a screen reader watches is the one that was there all along.
    await expect(
      page.evaluate(() => (window as unknown as Record<string, Element>).statusRegion.textContent),
    ).resolves.toContain('Answer locked in');
  }, 60_000);

  it('shows the stream going offline and live again', async () => {
    const page = await openViewer();
    await page.getByTestId('stream').filter({ hasText: 'LIVE' }).waitFor({ timeout: 20_000 });
    const set = (state: string) => setStream(suite.runtime.config, state);
    try {
      await set('offline');
      await page.getByTestId('stream').filter({ hasText: 'Offline' }).waitFor({ timeout: 20_000 });
    } finally {
      // Never leave the stream offline for the tests that follow.
      await set('live');
    }
    await page.getByTestId('stream').filter({ hasText: 'LIVE' }).waitFor({ timeout: 20_000 });
  }, 60_000);
});

describe('when the host uses the console', () => {
  it('opens a quiz, sees live counts, and reveals it', async () => {
    const viewer = await openViewer();
    const console = await suite.openConsole();
    await openFromConsole(console, { question: 'Best season?', choices: ['Spring', 'Autumn'], seconds: 60 });
    await console
      .getByTestId('live-question')
      .filter({ hasText: 'Best season? (open)' })
      .waitFor({ timeout: 20_000 });

    await viewer.getByTestId('question').filter({ hasText: 'Best season?' }).waitFor({ timeout: 20_000 });
    await viewer.getByRole('button', { name: 'Spring' }).click();
    await console
      .getByTestId('live-total')
      .filter({ hasText: '1 answer so far' })
      .waitFor({ timeout: 20_000 });

    await console.getByTestId('reveal-now').click();
    await console.getByTestId('live-question').filter({ hasText: '(revealed)' }).waitFor({ timeout: 20_000 });
    await viewer.getByTestId('graded').filter({ hasText: 'You got it right!' }).waitFor({ timeout: 20_000 });

    // An error reply is shown plainly, with its code.
    await console.getByTestId('event-type').fill('confetti');
    await console.getByTestId('event-data').fill(JSON.stringify({ blob: 'x'.repeat(1100) }));
    await console.getByTestId('send-event').click();
    await console
      .getByTestId('message')
      .filter({ hasText: 'PAYLOAD_TOO_LARGE' })
      .waitFor({ timeout: 20_000 });
  }, 60_000);
});

describe("the console's form", () => {
  it("puts each 'correct' radio beside its choice, on the same line (screenshot in test-output/)", async () => {
    const console = await suite.openConsole();
    await console.setViewportSize({ width: 900, height: 900 });
    for (let i = 0; i < 4; i++)
      await console.getByTestId(`choice-${i}`).fill(['Mars', 'Jupiter', 'Venus', 'Saturn'][i]);
    await console.getByRole('radio', { name: 'Choice 2 is the correct one' }).check();
    fs.mkdirSync(path.join(__dirname, '..', '..', 'test-output'), { recursive: true });
    await console
      .locator('#quiz-form')
      .screenshot({ path: path.join(__dirname, '..', '..', 'test-output', 'console-form.png') });
    for (let i = 0; i < 4; i++) {
      const radio = await console.getByTestId(`correct-${i}`).boundingBox();
      const choice = await console.getByTestId(`choice-${i}`).boundingBox();
      if (!radio || !choice) throw new Error(`choice ${i + 1} is not on screen`);
      // Beside: left of the field, and its middle within the field's height.
      expect(radio.x + radio.width).toBeLessThanOrEqual(choice.x);
      const middle = radio.y + radio.height / 2;
      expect(middle).toBeGreaterThanOrEqual(choice.y);
      expect(middle).toBeLessThanOrEqual(choice.y + choice.height);
    }
    // The radio carries the choice's meaning for a screen reader, and the choice is checked.
    expect(await console.getByTestId('correct-1').isChecked()).toBe(true);
    await console.context().close();
  }, 60_000);
});

describe('when the host reveals before the answers close', () => {
  it('the viewer counts the whole duration down, and the console waits out the grace, then reveals', async () => {
    const viewer = await openViewer();
    const console = await suite.openConsole();
    await openFromConsole(console, { question: 'Quick, in video time?', choices: ['Yes', 'No'], seconds: 5 });

    await viewer
      .getByTestId('question')
      .filter({ hasText: 'Quick, in video time?' })
      .waitFor({ timeout: 20_000 });
    // The countdown starts from the moment the question showed here: the whole 5 s.
    await expect(viewer.getByTestId('countdown').textContent()).resolves.toMatch(/^[45] s left$/);

    await console.getByTestId('reveal').click();
    await console
      .getByTestId('reveal-wait')
      .filter({ hasText: /^Revealing in \d+ s: viewers behind/ })
      .waitFor();
    await console.getByTestId('live-question').filter({ hasText: '(revealed)' }).waitFor({ timeout: 25_000 });
    await expect(console.getByTestId('message').textContent()).resolves.toBe('');
    await viewer.getByTestId('countdown').filter({ hasText: 'Revealed' }).waitFor({ timeout: 20_000 });
  }, 60_000);
});
