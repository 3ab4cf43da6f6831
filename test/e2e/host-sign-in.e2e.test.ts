import * as fs from 'node:fs';
import * as path from 'node:path';
import { browserSuite, openFromConsole, signInAt, watchCsp } from './browser';

/**
 * A deploy is a show, as a host meets it under `npm run dev`: the console sends the host to the
 * managed login (the local Cognito stand-in), the host signs in, runs a quiz that two viewers
 * answer, and signs out. The credentials last 8 s here, so the show outlives the first ones and
 * the console must renew them.
 */
const CREDENTIAL_SECONDS = 8;
const screenshots = path.join(__dirname, '..', '..', 'test-output');
const suite = browserSuite({ hostCredentialsSeconds: CREDENTIAL_SECONDS });

describe('when a host signs in to the console', () => {
  it('signs in, runs a quiz two viewers answer, outlives its first credentials, and signs out', async () => {
    const { hostUrl, hostUser, cognitoEndpoint } = suite.runtime.config;
    if (!hostUser || !hostUrl || !cognitoEndpoint) throw new Error('the runtime has no host sign-in');
    const context = await suite.browser.newContext();
    const console = await context.newPage();
    // The managed login's page and the console alike: no CSP violation anywhere on the way.
    const violations: string[] = [];
    watchCsp(console, violations);
    await console.goto(hostUrl);
    // Sent to sign in: the managed login's page, not the console.
    await console.waitForURL((url) => url.href.startsWith(`${cognitoEndpoint}/login`));
    await console.getByLabel('Username').fill(hostUser.username);
    await console.getByLabel('Password').fill('not-the-password');
    await console.getByRole('button', { name: 'Sign in' }).click();
    await console.getByRole('alert').filter({ hasText: 'Incorrect username or password.' }).waitFor();

    await signInAt(console, hostUser);
    const signedInAt = Date.now();
    await console
      .getByTestId('who')
      .filter({ hasText: `Signed in as ${hostUser.username}` })
      .waitFor();
    // Back on the console, with the code gone from the address bar.
    expect(console.url()).toBe(hostUrl);
    fs.mkdirSync(screenshots, { recursive: true });
    await console.screenshot({ path: path.join(screenshots, 'console-signed-in.png'), fullPage: true });

    const viewers = await Promise.all([suite.openViewer(), suite.openViewer()]);
    await openFromConsole(console, { question: 'Signed-in show?', choices: ['Yes', 'No'], seconds: 60 });
    await console
      .getByTestId('live-question')
      .filter({ hasText: 'Signed-in show? (open)' })
      .waitFor({ timeout: 20_000 });
    for (const [i, viewer] of viewers.entries()) {
      await viewer
        .getByTestId('question')
        .filter({ hasText: 'Signed-in show?' })
        .waitFor({ timeout: 20_000 });
      await viewer.getByRole('button', { name: ['Yes', 'No'][i] }).click();
      await viewer.getByTestId('notice').filter({ hasText: 'Answer locked in' }).waitFor({ timeout: 20_000 });
    }
    await console
      .getByTestId('live-total')
      .filter({ hasText: '2 answers so far' })
      .waitFor({ timeout: 20_000 });

    // Past the first credentials' expiry: the reveal goes out only if the console renewed them.
    const left = signedInAt + (CREDENTIAL_SECONDS + 1) * 1000 - Date.now();
    if (left > 0) await console.waitForTimeout(left);
    await console.getByRole('button', { name: /^Reveal now/ }).click();
    await console.getByTestId('live-question').filter({ hasText: '(revealed)' }).waitFor({ timeout: 20_000 });
    await expect(console.getByTestId('message').textContent()).resolves.toBe('');
    for (const viewer of viewers) {
      await viewer.getByTestId('total').filter({ hasText: '2 answers in all' }).waitFor({ timeout: 20_000 });
    }
    await expect(viewers[0].getByTestId('graded').textContent()).resolves.toBe('You got it right!');
    await expect(viewers[1].getByTestId('graded').textContent()).resolves.toBe('Not this time.');

    // Sign-out ends the session here and at the managed login.
    await console.getByRole('button', { name: 'Sign out' }).click();
    await console.getByTestId('mode').filter({ hasText: 'You are signed out.' }).waitFor();
    await expect(console.locator('#quiz-form').isVisible()).resolves.toBe(false);
    await expect(console.evaluate(() => sessionStorage.length)).resolves.toBe(0);
    await console.getByRole('button', { name: 'Sign in' }).click();
    // No session left at the login: the password is asked for again.
    await console.getByLabel('Password').waitFor();
    expect(console.url().startsWith(`${cognitoEndpoint}/login`)).toBe(true);
    expect(violations).toEqual([]);
    await context.close();
  }, 120_000);
});
