import '../styles.css';
import {
  HostApiError,
  HostClient,
  type HostClientOptions,
  type QuizDetails,
} from '../../../client/host-client';
import { BrowserSha256 } from '../../../client/sha256-browser';
import { type HostPageConfig, loadConfig } from '../config';
import { patch } from '../dom';
import { currentView, pastView, streamView } from './cockpit';
import { HostSession } from './sign-in';

const byId = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const message = byId<HTMLParagraphElement>('message');
const live = byId<HTMLDivElement>('live');
const reveal = byId<HTMLButtonElement>('reveal');
const revealNow = byId<HTMLButtonElement>('reveal-now');
const revealWait = byId<HTMLParagraphElement>('reveal-wait');
const streamStatus = byId<HTMLParagraphElement>('stream-status');
const past = byId<HTMLDivElement>('past');
let currentQuiz: QuizDetails | undefined;
let client: HostClient;
let currentQuizId: string | undefined;
let poll: number | undefined;
let revealTimer: number | undefined;

/** Errors are shown as the API words them, with the code, never swallowed. */
function show(error: unknown): void {
  if (error instanceof HostApiError) {
    message.textContent = `${error.code}: ${error.message}${error.retryAfterSeconds ? ` (retry in ${error.retryAfterSeconds} s)` : ''}`;
  } else {
    message.textContent = `Error: ${(error as Error).message}`;
  }
}

function renderQuiz(quiz: QuizDetails): void {
  currentQuiz = quiz;
  patch(live, currentView(quiz, Date.now()));
  reveal.disabled = quiz.state === 'revealed';
  revealNow.disabled = quiz.state === 'revealed';
}

/** The buttons that send cues: IVS takes none while the channel is offline. */
function allowSending(allowed: boolean): void {
  for (const id of ['send', 'send-drop', 'send-announce', 'send-event'])
    (document.querySelector(`[data-testid="${id}"]`) as HTMLButtonElement).disabled = !allowed;
}

/** The stream, its audience and the show's questions (`GET /show`); adopts a quiz opened elsewhere. */
async function refreshShow(): Promise<void> {
  try {
    const overview = await client.show();
    patch(streamStatus, streamView(overview.stream));
    allowSending(overview.stream.state === 'live');
    if (overview.currentQuizId && overview.currentQuizId !== currentQuizId) {
      const opened = overview.quizzes.find((quiz) => quiz.quizId === overview.currentQuizId);
      if (opened && opened.state !== 'revealed') follow(opened.quizId);
    }
    patch(past, pastView(overview.quizzes, currentQuizId));
  } catch (error) {
    show(error);
  }
}

/** Makes `quizId` the console's current quiz and polls its counts every second. */
function follow(quizId: string): void {
  currentQuizId = quizId;
  window.clearInterval(poll);
  poll = window.setInterval(refresh, 1000);
  void refresh();
}

async function refresh(): Promise<void> {
  if (!currentQuizId) return;
  try {
    renderQuiz(await client.getQuiz(currentQuizId));
  } catch (error) {
    show(error);
  }
}

/** Shows why there is no session, and a Sign in button. */
function offerSignIn(reason: string, session: HostSession): void {
  byId<HTMLParagraphElement>('mode').textContent = reason;
  byId<HTMLDivElement>('workspace').hidden = true;
  byId<HTMLButtonElement>('sign-out').hidden = true;
  const signIn = byId<HTMLButtonElement>('sign-in');
  signIn.hidden = false;
  signIn.onclick = () => void session.signIn();
}

/**
 * How this console signs its requests: a signed-in host's temporary credentials when the stack
 * has host sign-in (deployed, and `npm run dev`), or the credentials a test's own pages carry.
 * Undefined when there is no session yet: the page then offers to sign in.
 */
async function signedIn(config: HostPageConfig): Promise<HostClientOptions['credentials'] | undefined> {
  if (!config.signIn) return config.credentials;
  const session = new HostSession(config.signIn, `${location.origin}/host/`, (reason) =>
    offerSignIn(reason, session),
  );
  try {
    await session.completeSignIn();
    if (!session.email) {
      if (HostSession.justSignedOut()) return void offerSignIn('You are signed out.', session);
      return await session.signIn();
    }
    // Credentials before the workspace: a sign-in that cannot call the API says so now.
    await session.credentials();
  } catch (error) {
    return void offerSignIn((error as Error).message, session);
  }
  byId<HTMLSpanElement>('who').textContent = `Signed in as ${session.email}`;
  const signOut = byId<HTMLButtonElement>('sign-out');
  signOut.hidden = false;
  signOut.onclick = () => void session.signOut();
  return () => session.credentials();
}

async function main(): Promise<void> {
  const config = await loadConfig<HostPageConfig>();
  const mode = byId<HTMLParagraphElement>('mode');
  const credentials = await signedIn(config);
  if (!credentials) {
    if (!config.signIn)
      mode.textContent = 'This console has no sign-in settings: its config.json is incomplete.';
    return;
  }
  mode.textContent =
    config.mode === 'local'
      ? `Local runtime at ${config.httpApiUrl}`
      : `Running the show at ${config.httpApiUrl}`;
  byId<HTMLDivElement>('workspace').hidden = false;
  client = new HostClient({
    apiUrl: config.httpApiUrl,
    region: config.region ?? 'us-east-1',
    credentials,
    sha256: BrowserSha256 as unknown as ConstructorParameters<typeof HostClient>[0]['sha256'],
  });

  void refreshShow();
  window.setInterval(refreshShow, 5000);
  // The countdown and the reveal's readiness move with the clock between polls.
  window.setInterval(() => {
    if (currentQuiz && currentQuiz.state !== 'revealed') patch(live, currentView(currentQuiz, Date.now()));
  }, 1000);

  byId<HTMLFormElement>('quiz-form').addEventListener('submit', async (event) => {
    event.preventDefault();
    message.textContent = '';
    const form = new FormData(event.target as HTMLFormElement);
    const slots = [0, 1, 2, 3].map((i) => String(form.get(`choice${i}`) ?? '').trim());
    const correctSlot = Number(form.get('correct'));
    const filled = slots.map((text, slot) => ({ text, slot })).filter((c) => c.text !== '');
    const isPoll = form.get('kind') === 'poll';
    const correctIndex = filled.findIndex((c) => c.slot === correctSlot);
    if (!isPoll && correctIndex < 0) {
      message.textContent = 'The correct answer must be one of the filled-in choices.';
      return;
    }
    try {
      const created = await client.createQuiz({
        question: String(form.get('question') ?? ''),
        choices: filled.map((c) => c.text),
        ...(isPoll
          ? { kind: 'poll' as const, ...(form.get('liveResults') ? { liveResults: true } : {}) }
          : { correctIndex }),
        durationSeconds: Number(form.get('duration') ?? 20),
      });
      // A wait to reveal the previous quiz must not reveal this one.
      window.clearTimeout(revealTimer);
      revealWait.textContent = '';
      follow(created.quizId);
      void refreshShow();
    } catch (error) {
      show(error);
    }
  });

  reveal.addEventListener('click', () => revealCurrent(false));
  revealNow.addEventListener('click', () => revealCurrent(true));

  onSubmit('drop-form', (form) => ({
    type: 'drop',
    data: {
      title: form.get('title'),
      price: form.get('price'),
      image: form.get('image'),
      link: form.get('link'),
      seconds: Number(form.get('seconds')),
    },
  }));
  onSubmit('announce-form', (form) => ({
    type: 'announcement',
    data: { text: form.get('text'), seconds: Number(form.get('seconds')) },
  }));

  byId<HTMLFormElement>('event-form').addEventListener('submit', async (event) => {
    event.preventDefault();
    message.textContent = '';
    const form = new FormData(event.target as HTMLFormElement);
    let data: unknown;
    try {
      data = JSON.parse(String(form.get('data') ?? '{}'));
    } catch {
      message.textContent = 'Data must be valid JSON.';
      return;
    }
    await send(String(form.get('type') ?? ''), data);
  });
}

/**
 * Reveals the current quiz. While viewers behind in the video may still answer, the API says how
 * long; the console counts that down and reveals then, unless the host forces it.
 */
async function revealCurrent(force: boolean): Promise<void> {
  if (!currentQuizId) return;
  window.clearTimeout(revealTimer);
  revealWait.textContent = '';
  message.textContent = '';
  try {
    await client.revealQuiz(currentQuizId, { force });
    await refresh();
    window.clearInterval(poll);
    void refreshShow();
  } catch (error) {
    if (error instanceof HostApiError && error.code === 'ANSWERS_STILL_OPEN') {
      waitThenReveal(error.retryAfterSeconds ?? 1);
      return;
    }
    show(error);
  }
}

function waitThenReveal(seconds: number): void {
  let left = seconds;
  const tick = () => {
    if (left <= 0) return void revealCurrent(false);
    revealWait.textContent = `Revealing in ${left} s: viewers behind in the video can still answer.`;
    left--;
    revealTimer = window.setTimeout(tick, 1000);
  };
  tick();
}

/** Sends one event and says what happened in the message line. */
async function send(type: string, data: unknown): Promise<void> {
  try {
    const sent = await client.sendEvent(type, data);
    message.textContent = `Sent ${type} ${sent.eventId} (${sent.bytes} bytes).`;
  } catch (error) {
    show(error);
  }
}

/** A form that sends one well-known event; the API checks its fields and names a wrong one. */
function onSubmit(formId: string, event: (form: FormData) => { type: string; data: unknown }): void {
  byId<HTMLFormElement>(formId).addEventListener('submit', async (submitted) => {
    submitted.preventDefault();
    message.textContent = '';
    const { type, data } = event(new FormData(submitted.target as HTMLFormElement));
    await send(type, data);
  });
}

main().catch((error: Error) => {
  message.textContent = `The host console could not start: ${error.message}`;
});
