import * as fs from 'node:fs';
import * as path from 'node:path';
import { waitUntil } from '../support/wait';
import { browserSuite, openFromConsole, signInAt, waitFor, waitForUrl, watchCsp } from './browser';

/**
 * A deploy is a show, as a host meets it under `npm run dev`: the console sends the host to the
 * managed login (the local Cognito stand-in), the host signs in, runs a quiz that two viewers
 * answer, and signs out. The credentials last 8 s here, so the show outlives the first ones and
 * the console must renew them.
 */
const CREDENTIAL_SECONDS = 8;
const screenshots = path.join(__dirname, '..', '..', 'test-output');
const suite = browserSuite({ hostCredentialsSeconds: CREDENTIAL_SECONDS });
const { it } = suite;

describe('when a host signs in to the console', () => {
  it('signs in, runs a quiz two viewers answer, outlives its first credentials, and signs out', async () => {
    const { hostUrl, hostUser, cognitoEndpoint } = suite.runtime.config;
    if (!hostUser || !hostUrl || !cognitoEndpoint) throw new Error('the runtime has no host sign-in');
    const context = await suite.newContext();
    const console = await context.newPage();
    /** When each set of credentials the console was given expires (epoch ms), in order. */
    const expiries: number[] = [];
    context.on('response', async (response) => {
      const target = await response.request().headerValue('x-amz-target');
      if (target !== 'AWSCognitoIdentityService.GetCredentialsForIdentity') return;
      const reply = await response.json().catch(() => undefined);
      if (reply?.Credentials?.Expiration) expiries.push(reply.Credentials.Expiration * 1000);
    });
    // The managed login's page and the console alike: no CSP violation anywhere on the way.
    const violations: string[] = [];
    watchCsp(console, violations);
    await console.goto(hostUrl);
    // Sent to sign in: the managed login's page, not the console.
    await waitForUrl(console, 'the managed login', (url) => url.href.startsWith(`${cognitoEndpoint}/login`));
    await console.getByLabel('Username').fill(hostUser.username);
    await console.getByLabel('Password').fill('not-the-password');
    await console.getByRole('button', { name: 'Sign in' }).click();
    await waitFor(console.getByRole('alert').filter({ hasText: 'Incorrect username or password.' }));

    await signInAt(console, hostUser);
    await waitFor(console.getByTestId('who').filter({ hasText: `Signed in as ${hostUser.username}` }));
    // Back on the console, with the code gone from the address bar.
    expect(console.url()).toBe(hostUrl);
    fs.mkdirSync(screenshots, { recursive: true });
    await console.screenshot({ path: path.join(screenshots, 'console-signed-in.png'), fullPage: true });

    const viewers = await Promise.all([suite.openViewer(), suite.openViewer()]);
    await openFromConsole(console, { question: 'Signed-in show?', choices: ['Yes', 'No'], seconds: 60 });
    await waitFor(console.getByTestId('live-question').filter({ hasText: 'Signed-in show? (open)' }));
    for (const [i, viewer] of viewers.entries()) {
      await waitFor(viewer.getByTestId('question').filter({ hasText: 'Signed-in show?' }));
      await viewer.getByRole('button', { name: ['Yes', 'No'][i] }).click();
      await waitFor(viewer.getByTestId('notice').filter({ hasText: 'Answer locked in' }));
    }
    await waitFor(console.getByTestId('live-total').filter({ hasText: '2 answers so far' }));

    // Past the first credentials' expiry: the reveal goes out only if the console renewed them.
    await waitUntil(
      "a second past the expiry of the console's first credentials",
      () => expiries.length > 0 && Date.now() > expiries[0] + 1000,
      {
        timeoutMs: (CREDENTIAL_SECONDS + 5) * 1000,
        describe: () =>
          `now ${new Date().toISOString()}; expiries ${expiries.map((t) => new Date(t).toISOString())}`,
      },
    );
    // Renewed before they ran out, so that no click waits for new ones.
    expect(expiries.length).toBeGreaterThanOrEqual(2);
    await console.getByRole('button', { name: /^Reveal now/ }).click();
    await waitFor(console.getByTestId('live-question').filter({ hasText: '(revealed)' }));
    await expect(console.getByTestId('message').textContent()).resolves.toBe('');
    for (const viewer of viewers) {
      await waitFor(viewer.getByTestId('total').filter({ hasText: '2 answers in all' }));
    }
    await expect(viewers[0].getByTestId('graded').textContent()).resolves.toBe('You got it right!');
    await expect(viewers[1].getByTestId('graded').textContent()).resolves.toBe('Not this time.');

    // Sign-out ends the session here and at the managed login.
    await console.getByRole('button', { name: 'Sign out' }).click();
    await waitFor(console.getByTestId('mode').filter({ hasText: 'You are signed out.' }));
    await expect(console.locator('#quiz-form').isVisible()).resolves.toBe(false);
    await expect(console.evaluate(() => sessionStorage.length)).resolves.toBe(0);
    await console.getByRole('button', { name: 'Sign in' }).click();
    // No session left at the login: the password is asked for again.
    await waitFor(console.getByLabel('Password'));
    expect(console.url().startsWith(`${cognitoEndpoint}/login`)).toBe(true);
    expect(violations).toEqual([]);
  }, 120_000);
});
