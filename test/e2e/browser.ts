import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Browser, BrowserContext, BrowserContextOptions, Locator, Page } from 'playwright-core';
import { launchChromium } from '../../local/chromium';
import type { LocalRuntime, LocalRuntimeOptions } from '../../local/runtime';
import { captureCli } from '../cli/capture-cli';
import { bootTestRuntime, waitForIdle } from '../local/harness';

/**
 * How long one wait of a browser test may take (and any Playwright action, as the contexts'
 * default): far longer than any of them takes on a loaded 2-core CI machine, and short enough
 * that a test's own timeout is not reached first, so a stuck wait says what it waited for.
 */
export const WAIT_MS = 20_000;

/** The running test's latest wait, for the message of a test that fails elsewhere or runs out of time. */
let awaiting = { what: '', done: true };
/** Errors whose message already tells what the pages showed. */
const explainedErrors = new WeakSet<object>();

/**
 * What a page shows a person, in short: each visible element with a `data-testid` (or an alert)
 * that holds no other, with its text (a field: its value) and where its content came from
 * (`data-cue-source`); the video's state; the body's text when it has none of these (the
 * managed login's page).
 */
export async function whatPageShows(page: Page): Promise<string> {
  if (page.isClosed()) return `${page.url()}: closed`;
  const read = page.evaluate(() => {
    const lines: string[] = [];
    for (const el of document.querySelectorAll<HTMLElement>('[data-testid], [role="alert"]')) {
      if (!el.checkVisibility() || el.querySelector('[data-testid]')) continue;
      const name = el.dataset.testid ?? el.getAttribute('role');
      let text = (el.textContent ?? '').replace(/\s+/g, ' ').trim();
      if (el instanceof HTMLInputElement || el instanceof HTMLTextAreaElement) {
        // A form's fields: the filled-in ones and the checked boxes, never a password.
        const checkable = el.type === 'checkbox' || el.type === 'radio';
        if (checkable ? !(el as HTMLInputElement).checked : !el.value || el.type === 'password') continue;
        text = checkable ? '[x]' : `[${el.value}]`;
      }
      const source = el.dataset.cueSource ? ` (from ${el.dataset.cueSource})` : '';
      lines.push(`  ${name}: ${text.slice(0, 160)}${source}`);
    }
    const video = document.querySelector('video');
    if (video) {
      const state = `${video.currentTime.toFixed(1)} s, readyState ${video.readyState}${video.paused ? ', paused' : ''}`;
      lines.push(`  video: ${video.hidden ? 'hidden' : 'shown'}, at ${state}`);
    }
    if (lines.length === 0)
      lines.push((document.body?.textContent ?? '(no body)').replace(/\s+/g, ' ').trim().slice(0, 1500));
    return lines.join('\n');
  });
  let timer: NodeJS.Timeout | undefined;
  // A page too busy to answer must not hold up the report of a failure.
  const late = new Promise<string>((resolve) => {
    timer = setTimeout(() => resolve('  (the page did not answer within 5 s)'), 5000);
  });
  const text = await Promise.race([read, late])
    .catch((error: Error) => `  (unreadable: ${error.message.split('\n')[0]})`)
    .finally(() => clearTimeout(timer));
  return `${page.url()} shows:\n${text}`;
}

/**
 * Adds to `error` what was awaited and what `pages` showed, once. (Playwright's errors come from
 * another realm than the test's `Error`: they are recognized by their message.)
 */
async function explain(error: unknown, what: string, pages: readonly Page[]): Promise<unknown> {
  if (typeof error !== 'object' || error === null || explainedErrors.has(error)) return error;
  if (typeof (error as { message?: unknown }).message !== 'string') return error;
  explainedErrors.add(error);
  const seen = await Promise.all(pages.map(whatPageShows));
  return addToMessage(error as Error, `${what}\n${seen.join('\n') || '(no page open)'}`);
}

/** Adds lines to an error's message, and to its stack, which jest prints (it begins with the message). */
function addToMessage(error: Error, lines: string): Error {
  const message = `${error.message}\n${lines}`;
  if (typeof error.stack === 'string') error.stack = error.stack.replace(error.message, message);
  error.message = message;
  return error;
}

/**
 * Runs one wait of the test as its latest, and explains its failure with what `pages` showed
 * (without `pages`, the test's failure does, with all its pages).
 */
async function awaited<T>(
  what: string,
  pages: (() => readonly Page[]) | undefined,
  wait: () => Promise<T>,
): Promise<T> {
  const current = { what, done: false };
  awaiting = current;
  try {
    return await wait();
  } catch (error) {
    throw pages ? await explain(error, `while waiting for ${what}`, pages()) : error;
  } finally {
    current.done = true;
  }
}

type State = 'visible' | 'hidden' | 'attached' | 'detached';

/**
 * Waits until `locator` is visible (or in `state`). A timeout says what it waited for and what
 * the page showed then.
 */
export function waitFor(
  locator: Locator,
  { state = 'visible', timeout = WAIT_MS }: { state?: State; timeout?: number } = {},
): Promise<void> {
  return awaited(
    `${locator} to be ${state}`,
    () => [locator.page()],
    () => locator.waitFor({ state, timeout }),
  );
}

/**
 * Waits until `condition` (run in the page) returns a truthy value, and resolves with it; `what`
 * names it for the timeout's message, which also says what the page showed then.
 */
export function waitForPage<A, R>(
  page: Page,
  what: string,
  condition: (arg: A) => R,
  arg: A,
  timeout = WAIT_MS,
): Promise<R> {
  return awaited(
    what,
    () => [page],
    async () => {
      const handle = await page.waitForFunction(condition as (arg: unknown) => R, arg as unknown, {
        timeout,
      });
      return (await handle.jsonValue()) as R;
    },
  );
}

/** Waits until `page`'s URL passes `test`; `what` names the place. */
export function waitForUrl(page: Page, what: string, test: (url: URL) => boolean): Promise<void> {
  return awaited(
    what,
    () => [page],
    () => page.waitForURL(test, { timeout: WAIT_MS }),
  );
}

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

/** A text an element showed, and when (the page's clock: the same machine's as the runtime's). */
export interface Shown {
  readonly text: string;
  readonly at: number;
}

/**
 * Records, inside the page, every text the elements with these test ids show from now on, with
 * the moment each appeared; the function returned reads the record. A state that lasts only
 * seconds (a countdown's phase) is then checked after the fact ({@link expectPhases}), however
 * late a loaded machine lets the test look.
 */
export async function recordTexts(
  page: Page,
  testIds: readonly string[],
): Promise<() => Promise<Record<string, Shown[]>>> {
  await page.evaluate((ids) => {
    const seen: Record<string, Array<{ text: string; at: number }>> = Object.fromEntries(
      ids.map((id) => [id, []]),
    );
    const look = () => {
      for (const id of ids) {
        const text = document.querySelector(`[data-testid="${id}"]`)?.textContent?.trim();
        const list = seen[id];
        if (text && list[list.length - 1]?.text !== text) list.push({ text, at: Date.now() });
      }
    };
    look();
    new MutationObserver(look).observe(document.body, {
      childList: true,
      subtree: true,
      characterData: true,
    });
    (window as unknown as { __recordedTexts: typeof seen }).__recordedTexts = seen;
  }, testIds);
  return () =>
    page.evaluate(() => (window as unknown as { __recordedTexts: Record<string, Shown[]> }).__recordedTexts);
}

/**
 * Checks that an element went through `phases`, in order: each a pattern and, but for the last,
 * the moment it ends. A phase must have shown if the element showed any of the phases at least
 * a second before that phase ended: on a loaded machine the page may first render after an early
 * phase is over, which is no fault of the page. The last phase must always show.
 */
export function expectPhases(
  shown: readonly Shown[],
  phases: ReadonlyArray<{ pattern: RegExp; until?: number }>,
): void {
  const matching = shown.filter((s) => phases.some((p) => p.pattern.test(s.text)));
  const firstAt = matching[0]?.at ?? Number.POSITIVE_INFINITY;
  const found = phases.map((phase, i) => {
    const at = shown.findIndex((s) => phase.pattern.test(s.text));
    const due = i === phases.length - 1 || firstAt < (phase.until ?? Number.POSITIVE_INFINITY) - 1000;
    return { phase: String(phase.pattern), shown: at >= 0 || !due, at };
  });
  const texts = shown.map((s) => s.text);
  expect({ texts, found: found.map(({ phase, shown }) => ({ phase, shown })) }).toEqual({
    texts,
    found: found.map(({ phase }) => ({ phase, shown: true })),
  });
  const order = found.map((f) => f.at).filter((at) => at >= 0);
  expect({ texts, order }).toEqual({ texts, order: [...order].sort((a, b) => a - b) });
}

/** The local runtime's cue feed (the viewer page's `EventSource` while there is no video). */
const CUE_FEED_PATH = '/_local/metadata/events';

/**
 * Watches for `page`'s next subscription to the cue feed; the function returned waits for it.
 * Once the feed answered, a cue sent reaches the page: one sent before may not (the feed replays
 * nothing), and the page's sync on connecting may have come before its quiz existed.
 */
export function watchCueFeed(page: Page, timeout = WAIT_MS): () => Promise<void> {
  const answered = page.waitForResponse((response) => new URL(response.url()).pathname === CUE_FEED_PATH, {
    timeout,
  });
  // Awaited later; a rejection before then must not go unhandled.
  answered.catch(() => undefined);
  return () =>
    awaited(
      `the page's cue feed (${CUE_FEED_PATH}) to answer`,
      () => [page],
      () => answered.then(() => undefined),
    );
}

/**
 * A viewer page at `url` in `context`, connected, and (with `feed`) subscribed to the cue feed;
 * fails on any page error meanwhile. Without `feed` (local video: the player may take over before
 * the feed answers) a cue may reach the page only through the video.
 */
export async function openViewerIn(
  context: BrowserContext,
  url: string,
  { violations, feed = true }: { violations?: string[]; feed?: boolean } = {},
): Promise<Page> {
  const page = await context.newPage();
  if (violations) watchCsp(page, violations);
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(error.message));
  const feedAnswered = feed ? watchCueFeed(page) : undefined;
  await page.goto(url);
  await waitFor(page.getByTestId('connection').filter({ hasText: 'Connected' }));
  await feedAnswered?.();
  expect(errors).toEqual([]);
  return page;
}

/**
 * The host CLI as `npm run host` runs it (scripts/host.ts calls the same `runCli`), against the
 * runtime in `configFile`; its JSON reply. It runs in this process: a process per call cost
 * about a second of CPU each, on a machine the browser tests keep busy, and the CLI's own
 * process is what test/cli's suites and the dev CLI's suite test.
 */
export async function hostCli(configFile: string, ...args: string[]): Promise<any> {
  const run = await awaited(`the host CLI: ${args.slice(0, 2).join(' ')}`, undefined, () =>
    captureCli([...args, '--config', configFile, '--json']),
  );
  if (run.code !== 0)
    throw new Error(`npm run host -- ${args.join(' ')} exited with ${run.code}:\n${run.stderr}${run.stdout}`);
  return JSON.parse(run.stdout);
}

/**
 * What a browser suite shares: one runtime and one Chromium for the file, and a fresh browser
 * context for every page a test opens, closed when the test ends.
 */
export interface BrowserSuite {
  readonly runtime: LocalRuntime;
  readonly browser: Browser;
  /**
   * jest's `it` for a browser test: when the test fails, or is about to pass its timeout, the
   * error tells what it awaited last and what each of its pages showed then.
   */
  it(name: string, fn: () => Promise<void>, timeoutMs?: number): void;
  /** The host CLI as `npm run host` runs it; its `--json` reply. */
  host(...args: string[]): Promise<any>;
  /** A new browser context for this test, closed when the test ends. */
  newContext(options?: BrowserContextOptions): Promise<BrowserContext>;
  /** A viewer page, connected: in `context`, or in a new context of its own. */
  openViewer(context?: BrowserContext): Promise<Page>;
  /**
   * A viewer page on Playwright's clock (installed before the page loads): it runs with the wall
   * clock until the test moves it on (`page.clock.fastForward`), so the page's own timers (a
   * countdown, an overlay's seconds) pass when the test says so.
   */
  openViewerOnTestClock(): Promise<Page>;
  /** The host console, ready (local mode): signed in, when the stack has host sign-in. */
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

/** Room left before jest's own timeout, to say what the test awaited and what its pages showed. */
const REPORT_MS = 8_000;

/**
 * Boots the runtime and launches Chromium (side by side) before the file's tests, and stops both
 * after them; every context a test opened is closed when it ends.
 */
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
  /** The running test's contexts. */
  const contexts = new Set<BrowserContext>();
  const openPages = () => [...contexts].flatMap((context) => context.pages());
  const started = <T>(value: T | undefined, what: string): T => {
    if (value === undefined) throw new Error(`the browser suite has no ${what}: did beforeAll fail?`);
    return value;
  };
  const newContext = async (contextOptions?: BrowserContextOptions) => {
    const context = await started(browser, 'browser').newContext(contextOptions);
    context.setDefaultTimeout(WAIT_MS);
    contexts.add(context);
    return context;
  };

  beforeAll(async () => {
    const [booted, launched] = await Promise.allSettled([
      bootTestRuntime({
        log: (line) => {
          recent.push(line);
          if (recent.length > 400) recent.shift();
        },
        ...options,
      }),
      launchChromium(),
    ]);
    if (booted.status === 'fulfilled') runtime = booted.value;
    if (launched.status === 'fulfilled') browser = launched.value;
    if (booted.status === 'rejected') throw booted.reason;
    if (launched.status === 'rejected') throw launched.reason;
    fs.writeFileSync(configFile, JSON.stringify(started(runtime, 'runtime').config));
  }, 120_000);
  afterEach(async () => {
    awaiting = { what: '', done: true };
    // Closed pages stop their sockets and pollers: the next test starts on a quiet runtime.
    const closing = [...contexts].map((context) => context.close());
    contexts.clear();
    await Promise.all(closing);
    expect(violations.splice(0)).toEqual([]);
  });
  afterAll(async () => {
    fs.rmSync(configFile, { force: true });
    try {
      await browser?.close();
    } finally {
      // The runtime stops once its functions are idle, with nothing cut off mid-way (a container
      // still starting would outlive it and keep jest from exiting).
      try {
        if (runtime) await waitForIdle(runtime, 'the functions to finish before the runtime stops', 30_000);
      } finally {
        await runtime?.stop();
      }
    }
  }, 60_000);

  const suite: BrowserSuite = {
    get runtime() {
      return started(runtime, 'runtime');
    },
    get browser() {
      return started(browser, 'browser');
    },
    it: (name, fn, timeoutMs = 60_000) =>
      it(
        name,
        async () => {
          let timer: NodeJS.Timeout | undefined;
          const overdue = new Promise<never>((_, reject) => {
            timer = setTimeout(
              () => reject(new Error(`the test did not finish within ${timeoutMs - REPORT_MS} ms`)),
              timeoutMs - REPORT_MS,
            );
          });
          const body = fn();
          try {
            await Promise.race([body, overdue]);
          } catch (error) {
            // An overdue body goes on until its pages close: its later failure is no news.
            body.catch(() => undefined);
            const { what, done } = awaiting;
            const last = what ? `${done ? 'after' : 'while'} waiting for ${what}` : 'before any wait';
            throw await explain(error, last, openPages());
          } finally {
            clearTimeout(timer);
          }
        },
        timeoutMs,
      ),
    // A failed call says what the runtime logged about it (the request id the error quotes).
    host: (...args) =>
      hostCli(configFile, ...args).catch((error: Error) => {
        const id = /request id ([0-9a-f-]{36})/.exec(error.message)?.[1];
        const related = recent.filter((line) => (id ? line.includes(id) : /error|fail/i.test(line)));
        throw addToMessage(error, `runtime log:\n${related.slice(-20).join('\n')}`);
      }),
    newContext,
    openViewer: async (context) =>
      openViewerIn(
        context ?? (await newContext({ viewport: { width: 800, height: 900 } })),
        started(runtime, 'runtime').config.viewerUrl ?? '',
        { violations, feed: !options.testStream },
      ),
    openViewerOnTestClock: async () => {
      const context = await newContext({ viewport: { width: 800, height: 900 } });
      await context.clock.install();
      return suite.openViewer(context);
    },
    openConsole: async () => {
      const console = await (await newContext()).newPage();
      watchCsp(console, violations);
      const { hostUrl, hostUser } = started(runtime, 'runtime').config;
      await console.goto(hostUrl ?? '');
      // The console sends its host to the managed login first, as a deployed one does.
      if (hostUser) await signInAt(console, hostUser);
      await waitFor(console.getByTestId('mode').filter({ hasText: 'Local runtime' }));
      return console;
    },
  };
  return suite;
}
