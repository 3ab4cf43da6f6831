import type { QuizDetails, ShowOverview } from '../../../client/host-client';
import { barFill, h } from '../dom';

/**
 * The console's cockpit views: the stream and its audience, the current question with its
 * countdown, live counts as bars and when the reveal may go, and the show's past questions with
 * their results. Pure views of the API's replies (docs/protocol.md §3.5, §3.11) and the time.
 */

const noun = (quiz: Pick<QuizDetails, 'kind'>, n: number) =>
  `${n} ${quiz.kind === 'poll' ? 'vote' : 'answer'}${n === 1 ? '' : 's'}`;

const secondsUntil = (iso: string, now: number) => Math.max(0, Math.ceil((Date.parse(iso) - now) / 1000));

/** The stream badge and how many watch. */
export function streamView(stream: ShowOverview['stream'] | undefined): Node[] {
  const live = stream?.state === 'live';
  return [
    h(
      'span',
      { class: `badge ${stream ? stream.state : ''}`, 'data-testid': 'cockpit-stream' },
      !stream ? 'Stream: checking…' : live ? '● LIVE' : 'Offline',
    ),
    h(
      'span',
      {
        class: 'badge',
        'data-testid': 'viewer-count',
        title: 'IVS counts current views about once a minute',
      },
      live ? `${stream?.viewerCount ?? 0} watching` : 'no viewers while offline',
    ),
    stream?.state === 'offline'
      ? h(
          'span',
          { class: 'notice-inline', 'data-testid': 'send-blocked' },
          'Start the stream to send questions and cues: IVS takes them only while the channel is live.',
        )
      : null,
  ].filter((node): node is HTMLSpanElement => node !== null);
}

/** Each choice's count as a bar, the correct one marked. */
function bars(quiz: QuizDetails, testIdPrefix: string): HTMLElement {
  return h(
    'ol',
    { class: 'choices' },
    ...quiz.choices.map((choice, i) => {
      const count = quiz.counts[i] ?? 0;
      const percent = quiz.total > 0 ? Math.round((count / quiz.total) * 100) : 0;
      const correct = quiz.correctIndex === i;
      return h(
        'li',
        { 'data-testid': `${testIdPrefix}-${i}` },
        h('span', { class: 'label' }, `${choice}${correct ? ' ✓ correct' : ''}`),
        h(
          'div',
          { class: 'bar-row' },
          barFill(percent),
          h('span', { class: 'bar-text' }, `${count}`),
          h('span', { class: 'sr-only' }, ` ${noun(quiz, count)} (${percent}%)`),
        ),
      );
    }),
  );
}

/** Where the current question stands: time to answer, the grace, and whether a reveal may go. */
function timing(quiz: QuizDetails, now: number): { countdown: string; reveal: string } {
  if (quiz.state === 'revealed') return { countdown: 'Revealed', reveal: 'Revealed: the result is on air.' };
  const toAnswer = secondsUntil(quiz.closesAt, now);
  const toClose = secondsUntil(quiz.answersCloseAt, now);
  const countdown =
    toAnswer > 0
      ? `${toAnswer} s left to answer`
      : toClose > 0
        ? `Time is up; viewers behind in the video can answer for ${toClose} s more`
        : 'Answers closed';
  const reveal =
    toClose > 0
      ? `Reveal possible in ${toClose} s (Reveal waits for it; Reveal now cuts late viewers short).`
      : 'Reveal possible now.';
  return { countdown, reveal };
}

/** The current question: its countdown, its live counts as bars, and the reveal's readiness. */
export function currentView(quiz: QuizDetails, now: number): Node[] {
  const { countdown, reveal } = timing(quiz, now);
  return [
    h('p', { class: 'live-question', 'data-testid': 'live-question' }, `${quiz.question} (${quiz.state})`),
    h('p', { class: 'countdown', 'data-testid': 'live-countdown' }, countdown),
    bars(quiz, 'live-count'),
    h('p', { 'data-testid': 'live-total' }, `${noun(quiz, quiz.total)} so far`),
    h('p', { 'data-testid': 'reveal-ready' }, reveal),
  ];
}

/** The show's other questions, newest first, each with its result or where it stands. */
export function pastView(quizzes: readonly QuizDetails[], currentQuizId: string | undefined): Node[] {
  const past = quizzes.filter((quiz) => quiz.quizId !== currentQuizId);
  if (past.length === 0)
    return [h('p', { 'data-testid': 'past-empty' }, 'No earlier questions in this show yet.')];
  return [
    h(
      'ol',
      { class: 'past', 'data-testid': 'past-list' },
      ...past.map((quiz) =>
        h(
          'li',
          { 'data-testid': `past-${quiz.quizId}` },
          h('h3', {}, quiz.question),
          h(
            'p',
            { class: 'past-meta' },
            `${quiz.kind === 'poll' ? 'Poll' : 'Quiz'}, ${quiz.state === 'revealed' ? 'revealed' : `${quiz.state}, not revealed`}: ${noun(quiz, quiz.total)}`,
          ),
          bars(quiz, `past-${quiz.quizId}-count`),
        ),
      ),
    ),
  ];
}
