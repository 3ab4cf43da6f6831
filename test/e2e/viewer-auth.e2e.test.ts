import type { Page } from 'playwright-core';
import { callApi, callApiPatiently } from '../local/harness';
import { browserSuite, waitFor } from './browser';

/**
 * The viewer page with viewer auth on (the viewer-auth variant of the stack): it gets a token
 * from POST /viewer-token, keeps it across reloads, and so stays one viewer with one vote.
 */
const suite = browserSuite({ viewerAuth: true });
const { openViewer, it } = suite;

const storedToken = (page: Page) =>
  page.evaluate(() => JSON.parse(window.localStorage.getItem('cuecast.viewerToken') ?? 'null'));

async function createQuiz(question: string): Promise<string> {
  const reply = await callApiPatiently(suite.runtime.config, 'POST', '/quizzes', {
    question,
    choices: ['Mars', 'Jupiter', 'Venus'],
    correctIndex: 1,
    durationSeconds: 60,
  });
  return reply.body.quizId;
}

describe('when viewer auth is on and a viewer uses the page', () => {
  it('connects with a token, and a reload is the same viewer who cannot vote twice', async () => {
    const page = await openViewer();
    const first = await storedToken(page);
    expect(first).toMatchObject({ token: expect.stringMatching(/^v1\./), viewerId: expect.any(String) });

    const quizId = await createQuiz('Which planet is the largest?');
    await waitFor(page.getByTestId('question').filter({ hasText: 'largest' }));
    await page.getByRole('button', { name: 'Jupiter' }).click();
    await waitFor(page.getByTestId('notice').filter({ hasText: 'Answer locked in' }));

    await page.reload();
    await waitFor(page.getByTestId('connection').filter({ hasText: 'Connected' }));
    expect((await storedToken(page)).viewerId).toBe(first.viewerId);
    await waitFor(page.getByTestId('question').filter({ hasText: 'largest' }));
    await page.getByRole('button', { name: 'Mars' }).click();
    await waitFor(page.getByTestId('notice').filter({ hasText: 'already answered' }));

    const described = await callApi(suite.runtime.config, 'GET', `/quizzes/${quizId}`);
    expect(described.body).toMatchObject({ counts: [0, 1, 0], total: 1 });
  }, 90_000);

  it('recovers from a forged stored token by starting over as a new viewer', async () => {
    const context = await suite.newContext();
    const forged = {
      token: `v1.${Buffer.from(JSON.stringify({ sub: 'someone-else', iat: 1, exp: 4_000_000_000 })).toString('base64url')}.AAAA`,
      viewerId: 'someone-else',
      expiresAt: '2096-10-02T07:06:40.000Z',
    };
    await context.addInitScript((value) => {
      if (!window.sessionStorage.getItem('seeded')) {
        window.localStorage.setItem('cuecast.viewerToken', value);
        window.sessionStorage.setItem('seeded', '1');
      }
    }, JSON.stringify(forged));
    const page = await openViewer(context);
    const held = await storedToken(page);
    expect(held.viewerId).not.toBe('someone-else');
    expect(held.token).not.toBe(forged.token);
  }, 60_000);
});
