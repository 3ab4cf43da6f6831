import '../styles.css';
import {
  type AnnouncementCue,
  CUE_EVENT,
  type Cue,
  type DropCue,
  type ErrorCode,
  type QuestionCue,
  type QuizSnapshot,
  type RevealFigures,
  type ServerMessage,
  type ShowState,
} from '../../../client/wire';
import { loadConfig } from '../config';
import { h, patch } from '../dom';
import { answerDeadline, isOlderQuestion, openedAt, secondsLeftUntil } from './countdown';
import {
  type CueOrigin,
  type CueSource,
  IvsPlayerCueSource,
  LocalCueSource,
  LocalSseCueSource,
} from './cue-source';
import { Overlays } from './overlays';
import { type ArrivedBy, arrived, type QuizState, renderQuiz } from './quiz-view';
import { type ConnectionState, RealtimeClient } from './realtime';
import { ViewerTokenKeeper } from './viewer-token';

/** Plain words for the answer errors a viewer can meet. */
const ERROR_TEXT: Partial<Record<ErrorCode, string>> = {
  ALREADY_ANSWERED: 'You already answered this one: only your first answer counts.',
  QUIZ_CLOSED: 'Time is up: this question no longer takes answers.',
  NOT_FOUND: 'This question is no longer available.',
  BAD_REQUEST: 'That answer could not be read. Try again.',
};

const app = document.getElementById('app') as HTMLElement;
const overlays = new Overlays(document.getElementById('overlays') as HTMLElement);
let stream: ShowState['stream'] = 'unknown';
let connection: ConnectionState = 'connecting';
let quiz: QuizState | undefined;
let notice = '';
let realtime: RealtimeClient;
/** A stream push newer than the pending sync: the sync reply's older stream state must not undo it. */
let streamPushedSinceSync = false;

/** Shows `next`, unless this page already shows a question opened after it; false then. */
function startQuiz(next: QuizSnapshot | QuestionCue, by: ArrivedBy): boolean {
  if (quiz && quiz.quizId !== next.quizId && isOlderQuestion(quiz.openedAt, next)) return false;
  // A cue from before polls existed carries no kind: it is a quiz.
  const shown = {
    question: next.question,
    choices: next.choices,
    closesAt: next.closesAt,
    kind: next.kind ?? 'quiz',
  };
  if (quiz?.quizId === next.quizId) {
    // Seen before (a cue, then a sync on reconnect): the countdown keeps running from then.
    Object.assign(quiz, shown);
    arrived(quiz.questionFrom, by);
  } else {
    // The countdown runs in video time, from now, when the question shows on this screen.
    quiz = {
      quizId: next.quizId,
      ...shown,
      openedAt: openedAt(next),
      deadline: answerDeadline(next, Date.now(), realtime.clockOffsetMs),
      questionFrom: [by],
      resultFrom: [],
    };
    notice = '';
  }
  return true;
}

function showResult(result: RevealFigures, by: ArrivedBy): void {
  if (!quiz || quiz.quizId !== result.quizId)
    quiz = { quizId: result.quizId, kind: result.kind ?? 'quiz', questionFrom: [], resultFrom: [] };
  quiz.result = { correctIndex: result.correctIndex, counts: result.counts, total: result.total };
  arrived(quiz.resultFrom, by);
  notice = '';
}

function onCue(cue: Cue, origin: CueOrigin): void {
  if (cue.type === 'question' && 'question' in cue) startQuiz(cue, origin);
  else if (cue.type === 'result' && 'counts' in cue) showResult(cue, origin);
  else if (cue.type === 'drop' && 'data' in cue) overlays.showDrop(cue as DropCue);
  else if (cue.type === 'announcement' && 'data' in cue) overlays.showAnnouncement(cue as AnnouncementCue);
  render();
  // Every cue, known or not, for the integrator's own types (docs/protocol.md §4.6).
  window.dispatchEvent(new CustomEvent(CUE_EVENT, { detail: cue }));
}

function onMessage(message: ServerMessage): void {
  switch (message.type) {
    case 'state':
      if (!streamPushedSinceSync) stream = message.stream;
      if (message.quiz && startQuiz(message.quiz, 'sync')) {
        const { quizId, kind, correctIndex, counts, total } = message.quiz;
        if (message.quiz.state === 'revealed' && counts && total !== undefined) {
          showResult({ quizId, kind, correctIndex, counts, total }, 'sync');
        }
      }
      break;
    case 'stream':
      stream = message.state;
      streamPushedSinceSync = true;
      break;
    case 'answer':
      if (quiz?.quizId === message.quizId) {
        quiz.answer = 'accepted';
        quiz.myChoice = message.choiceIndex;
        notice = quiz.kind === 'poll' ? 'Thanks for voting!' : 'Answer locked in. Wait for the reveal!';
      }
      break;
    case 'error':
      if (quiz && (!message.quizId || message.quizId === quiz.quizId) && quiz.answer === 'sending') {
        quiz.answer = message.code === 'ALREADY_ANSWERED' ? 'accepted' : undefined;
        if (message.code !== 'ALREADY_ANSWERED') quiz.myChoice = undefined;
      }
      notice = ERROR_TEXT[message.code] ?? message.message;
      break;
    case 'result':
      showResult(message, 'push');
      break;
    case 'tally':
      // A live poll's running counts, until its result takes over.
      if (quiz?.quizId === message.quizId && !quiz.result)
        quiz.live = { counts: message.counts, total: message.total };
      break;
    case 'graded': {
      // Pushes v2: the grade carries the result's figures, and no `result` comes for this viewer.
      const { quizId, kind, correctIndex, counts, total } = message;
      if (counts && total !== undefined)
        showResult({ quizId, kind: kind ?? 'quiz', correctIndex, counts, total }, 'push');
      if (quiz?.quizId === message.quizId)
        quiz.graded = { choiceIndex: message.choiceIndex, correct: message.correct };
      break;
    }
    case 'pong':
      return;
  }
  render();
}

function answer(choiceIndex: number): void {
  if (!quiz || quiz.answer || quiz.result) return;
  quiz.myChoice = choiceIndex;
  quiz.answer = 'sending';
  notice = 'Sending your answer…';
  if (!realtime.send({ action: 'answer', quizId: quiz.quizId, choiceIndex })) {
    quiz.answer = undefined;
    quiz.myChoice = undefined;
    notice = 'Not connected right now: reconnecting, try again in a moment.';
  }
  render();
}

function secondsLeft(): number | undefined {
  if (quiz?.deadline === undefined) return undefined;
  return secondsLeftUntil(quiz.deadline, Date.now());
}

function render(): void {
  const header = h(
    'header',
    { class: 'bar' },
    h(
      'span',
      { class: `badge ${stream}`, 'data-testid': 'stream' },
      stream === 'live' ? '● LIVE' : stream === 'offline' ? 'Offline' : 'Stream state unknown',
    ),
    h(
      'span',
      { class: `badge conn-${connection}`, 'data-testid': 'connection' },
      connection === 'open' ? 'Connected' : connection === 'connecting' ? 'Connecting…' : 'Reconnecting…',
    ),
  );
  const body = quiz
    ? renderQuiz(quiz, secondsLeft(), answer)
    : h('p', { class: 'idle', 'data-testid': 'idle' }, 'Waiting for the next question…');
  const status = h(
    'p',
    { class: 'notice', role: 'status', 'aria-live': 'polite', 'data-testid': 'notice' },
    notice,
  );
  patch(app, [header, body, status]);
}

async function main(): Promise<void> {
  const config = await loadConfig();
  realtime = new RealtimeClient({
    url: config.webSocketUrl,
    auth: config.viewerTokenUrl ? new ViewerTokenKeeper(config.viewerTokenUrl) : undefined,
    onMessage,
    onConnection: (state) => {
      connection = state;
      // The client sends sync right after 'open'.
      if (state === 'open') streamPushedSinceSync = false;
      render();
    },
  });
  const video = document.getElementById('video') as HTMLVideoElement;
  let cues: CueSource;
  if (config.mode === 'aws' && config.playbackUrl) {
    video.hidden = false;
    cues = new IvsPlayerCueSource(config.playbackUrl, video);
  } else if (config.cueEventsUrl && config.playbackUrl) {
    // Local mode: the player while the local ingest has video, the feed while it has none.
    cues = new LocalCueSource(config.playbackUrl, config.cueEventsUrl, video);
  } else if (config.cueEventsUrl) {
    cues = new LocalSseCueSource(config.cueEventsUrl);
  } else {
    throw new Error('config.json has neither a playbackUrl (aws) nor a cueEventsUrl (local)');
  }
  await cues.start(onCue);
  realtime.start();
  window.setInterval(() => {
    if (quiz && !quiz.result) render();
  }, 500);
  render();
}

main().catch((error: Error) => {
  app.replaceChildren(
    h('p', { class: 'notice error', role: 'alert' }, `cuecast could not start: ${error.message}`),
  );
});
