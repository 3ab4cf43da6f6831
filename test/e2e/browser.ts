import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import type { Browser, Page } from 'playwright-core';
import { launchChromium } from '../../local/chromium';
import type { LocalRuntime, LocalRuntimeOptions } from '../../local/runtime';
import { bootTestRuntime } from '../local/harness';

const root = path.join(__dirname, '..', '..');
const run = promisify(execFile);

export { launchChromium };

/**
 * Records every Content-Security-Policy violation a page reports (Chromium logs each as a console
 * error): the local pages carry the deployed policy, so a page that needs more than it allows
 * shows up here before it breaks in production.
 */
export function watchCsp(page: Page, into: string[]): void {
  page.on('console', (message) => {
    if (message.type() === 'error' && message.text().includes('Content Security Policy'))
      into.push(message.text());
  });
}

/** A viewer page at `url`, connected; fails on any page error meanwhile. */
export async function openViewer(browser: Browser, url: string, violations?: string[]): Promise<Page> {
  const page = await (await browser.newContext({ viewport: { width: 800, height: 900 } })).newPage();
  if (violations) watchCsp(page, violations);
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(error.message));
  await page.goto(url);
  await page.getByTestId('connection').filter({ hasText: 'Connected' }).waitFor({ timeout: 15_000 });
  expect(errors).toEqual([]);
  return page;
}

/** The host CLI, exactly as `npm run host` runs it, against the runtime in `configFile`; its JSON reply. */
export async function hostCli(configFile: string, ...args: string[]): Promise<any> {
  const { stdout } = await run(
    process.execPath,
    [
      path.join(root, 'node_modules', 'tsx', 'dist', 'cli.mjs'),
      'scripts/host.ts',
      ...args,
      '--config',
      configFile,
      '--json',
    ],
    { cwd: root, env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' } },
  );
  return JSON.parse(stdout);
}

/** What a browser suite shares: one runtime, one Chromium, the CLI and viewer pages against them. */
export interface BrowserSuite {
  readonly runtime: LocalRuntime;
  readonly browser: Browser;
  /** The host CLI as `npm run host` runs it; its `--json` reply. */
  host(...args: string[]): Promise<any>;
  openViewer(): Promise<Page>;
  /** The host console, ready (local mode). */
  openConsole(): Promise<Page>;
}

/** Opens a quiz (or, with `poll`, a poll) from the host console's form. */
export async function openFromConsole(
  console: Page,
  quiz: { question: string; choices: [string, string]; seconds: number; poll?: boolean },
): Promise<void> {
  if (quiz.poll) await console.getByLabel('Poll: no correct answer').check();
  await console.getByTestId('question').fill(quiz.question);
  await console.getByTestId('choice-0').fill(quiz.choices[0]);
  await console.getByTestId('choice-1').fill(quiz.choices[1]);
  await console.getByLabel('Seconds to answer').fill(String(quiz.seconds));
  await console.getByTestId('send').click();
}

/** Signs in at the (local) managed login's page, by its labels, as a host does. */
export async function signInAt(page: Page, user: { username: string; password: string }): Promise<void> {
  await page.getByLabel('Username').fill(user.username);
  await page.getByLabel('Password').fill(user.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

/** Boots the runtime and Chromium before the file's tests and stops both after them. */
export function browserSuite(options: LocalRuntimeOptions = {}): BrowserSuite {
  let runtime: LocalRuntime | undefined;
  let browser: Browser | undefined;
  const configFile = path.join(
    os.tmpdir(),
    `cuecast-e2e-${process.pid}-${Math.random().toString(36).slice(2)}.json`,
  );
  /** The runtime's latest log lines, for the message of a failed host call. */
  const recent: string[] = [];
  /** CSP violations any page of the suite reported: none may occur in any test. */
  const violations: string[] = [];
  afterEach(() => {
    expect(violations.splice(0)).toEqual([]);
  });
  const started = <T>(value: T | undefined, what: string): T => {
    if (value === undefined) throw new Error(`the browser suite has no ${what}: did beforeAll fail?`);
    return value;
  };
  beforeAll(async () => {
    runtime = await bootTestRuntime({
      log: (line) => {
        recent.push(line);
        if (recent.length > 400) recent.shift();
      },
      ...options,
    });
    fs.writeFileSync(configFile, JSON.stringify(runtime.config));
    browser = await launchChromium();
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    await runtime?.stop();
    fs.rmSync(configFile, { force: true });
  });
  return {
    get runtime() {
      return started(runtime, 'runtime');
    },
    get browser() {
      return started(browser, 'browser');
    },
    // A failed call says what the runtime logged about it (the request id the error quotes).
    host: (...args) =>
      hostCli(configFile, ...args).catch((error: Error) => {
        const id = /request id ([0-9a-f-]{36})/.exec(error.message)?.[1];
        const related = recent.filter((line) => (id ? line.includes(id) : /error|fail/i.test(line)));
        error.message += `\nruntime log:\n${related.slice(-20).join('\n')}`;
        throw error;
      }),
    openViewer: () =>
      openViewer(started(browser, 'browser'), started(runtime, 'runtime').config.viewerUrl ?? '', violations),
    openConsole: async () => {
      const console = await (await started(browser, 'browser').newContext()).newPage();
      watchCsp(console, violations);
      const { hostUrl, hostUser } = started(runtime, 'runtime').config;
      await console.goto(hostUrl ?? '');
      // The console sends its host to the managed login first, as a deployed one does.
      if (hostUser) await signInAt(console, hostUser);
      await console.getByTestId('mode').filter({ hasText: 'Local runtime' }).waitFor();
      return console;
    },
  };
}
