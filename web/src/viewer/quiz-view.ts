import type { QuizKind, RevealFigures } from '../../../client/wire';
import { barFill, h } from '../dom';
import type { CueOrigin } from './cue-source';

/**
 * How the question or the result reached this page, in order of arrival: a cue through the
 * player or the local feed, the `state` sync, or (results only) the WebSocket `result` push.
 * The page shows it as `data-cue-source` (space-separated), so tests can tell the paths apart.
 */
export type ArrivedBy = CueOrigin | 'sync' | 'push';

/** What the viewer page knows of the current quiz or poll. */
export interface QuizState {
  quizId: string;
  kind: QuizKind;
  question?: string;
  choices?: readonly string[];
  closesAt?: string;
  /** When it opened (epoch ms, the server's clock; NaN if its cue does not say). */
  openedAt?: number;
  /** When this viewer's time to answer runs out (epoch ms, this device's clock). */
  deadline?: number;
  myChoice?: number;
  answer?: 'sending' | 'accepted';
  result?: Omit<RevealFigures, 'quizId' | 'kind'>;
  /** A live poll's running counts, while it is open. */
  live?: { counts: readonly number[]; total: number };
  graded?: { choiceIndex: number; correct: boolean };
  questionFrom: ArrivedBy[];
  resultFrom: ArrivedBy[];
}

/** Records one more way the question or result arrived (each way once). */
export function arrived(list: ArrivedBy[], by: ArrivedBy): void {
  if (!list.includes(by)) list.push(by);
}

/**
 * The question, its countdown, the choices as buttons and, once revealed, the figures. A poll
 * marks no choice correct and has no grade.
 */
export function renderQuiz(
  q: QuizState,
  left: number | undefined,
  answer: (choiceIndex: number) => void,
): HTMLElement {
  const closed = Boolean(q.result) || left === 0;
  const choices = q.choices ?? q.result?.counts.map((_, i) => `Choice ${i + 1}`) ?? [];
  // The final figures once revealed; a live poll's running counts before that.
  const figures = q.result ?? q.live;
  const total = figures?.total ?? 0;
  const noun = q.kind === 'poll' ? 'vote' : 'answer';
  return h(
    'section',
    { class: 'quiz', 'aria-labelledby': 'question' },
    h(
      'h1',
      { id: 'question', 'data-testid': 'question', 'data-cue-source': q.questionFrom.join(' ') || undefined },
      q.question ?? 'Results',
    ),
    q.result
      ? h('p', { class: 'countdown', 'data-testid': 'countdown' }, 'Revealed')
      : h(
          'p',
          { class: 'countdown', 'data-testid': 'countdown', 'aria-live': 'off' },
          left === undefined ? '' : left > 0 ? `${left} s left` : 'Time is up',
        ),
    h(
      'ol',
      { class: 'choices' },
      ...choices.map((text, i) => {
        const isMine = q.myChoice === i;
        const isCorrect = q.result?.correctIndex === i;
        const count = figures?.counts[i] ?? 0;
        const percent = total > 0 ? Math.round((count / total) * 100) : 0;
        return h(
          'li',
          {},
          h(
            'button',
            {
              type: 'button',
              class: `choice${isMine ? ' mine' : ''}${isCorrect ? ' correct' : ''}`,
              'data-testid': `choice-${i}`,
              'aria-pressed': isMine ? 'true' : 'false',
              disabled: closed || Boolean(q.answer),
              onclick: () => answer(i),
            },
            h('span', { class: 'label' }, text),
            isCorrect ? h('span', { class: 'tag' }, ' ✓ correct') : null,
            isMine ? h('span', { class: 'tag' }, ' (your answer)') : null,
          ),
          figures
            ? h(
                'div',
                { class: 'bar-row', 'data-testid': `result-${i}` },
                barFill(percent),
                h('span', { class: 'bar-text', 'data-testid': `count-${i}` }, `${count}`),
                h('span', { class: 'sr-only' }, ` ${noun}s (${percent}%)`),
              )
            : null,
        );
      }),
    ),
    figures
      ? h(
          'p',
          { class: 'total', 'data-testid': 'total', 'data-cue-source': q.resultFrom.join(' ') || undefined },
          `${total} ${noun}${total === 1 ? '' : 's'} ${q.result ? 'in all' : 'so far'}`,
        )
      : null,
    q.graded
      ? h(
          'p',
          {
            class: `graded ${q.graded.correct ? 'right' : 'wrong'}`,
            'data-testid': 'graded',
            role: 'status',
          },
          q.graded.correct ? 'You got it right!' : 'Not this time.',
        )
      : null,
  );
}
