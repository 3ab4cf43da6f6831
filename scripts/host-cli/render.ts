/**
 * The host CLI's readable terminal text for each reply: label/value lines, a bar per choice for
 * the counts, and times relative to now. (`--json` output and errors are not rendered here.)
 */
import type { CreatedQuiz, HostClient, QuizDetails, RevealedQuiz } from '../../client/host-client';
import type { QuizKind, ShowState } from '../../client/wire';

const BAR_WIDTH = 24;

export function renderCreated(created: CreatedQuiz): string {
  return lines(
    ['quizId', created.quizId],
    ['opensAt', created.opensAt],
    ['closesAt', `${created.closesAt} (${relative(created.closesAt)})`],
  );
}

export function renderSent(sent: Awaited<ReturnType<HostClient['sendEvent']>>): string {
  return lines(['eventId', sent.eventId], ['bytes', `${sent.bytes} of 1024`]);
}

function lines(...rows: Array<[string, string]>): string {
  // One label column for every block, so a command's output lines up.
  const width = Math.max(10, ...rows.map(([label]) => label.length + 2));
  return rows.map(([label, value]) => `${`${label}:`.padEnd(width)}${value}\n`).join('');
}

function relative(iso: string, now = Date.now()): string {
  const seconds = Math.round((Date.parse(iso) - now) / 1000);
  if (Number.isNaN(seconds)) return 'unknown time';
  return seconds > 0 ? `in ${seconds} s` : `${-seconds} s ago`;
}

/** One row per choice: index, text, a bar of its share, the count and the percentage. */
function tally(
  choices: readonly string[],
  counts: readonly number[],
  total: number,
  correct?: number,
): string {
  const width = Math.max(...choices.map((c) => c.length));
  const countWidth = String(Math.max(0, ...counts)).length;
  return choices
    .map((choice, i) => {
      const count = counts[i] ?? 0;
      const share = total > 0 ? count / total : 0;
      const bar = '█'.repeat(Math.round(share * BAR_WIDTH)).padEnd(BAR_WIDTH, '·');
      const mark = i === correct ? '  ✓ correct' : '';
      return `  ${i}  ${choice.padEnd(width)}  ${bar}  ${String(count).padStart(countWidth)}  ${`${Math.round(share * 100)}%`.padStart(4)}${mark}\n`;
    })
    .join('');
}

const correctLabel = (choices: readonly string[], index: number) =>
  choices[index] === undefined ? String(index) : `${index} (${choices[index]})`;

/** The closing lines under a tally: the total, and for a quiz its correct choice (a poll has none). */
function summary(kind: QuizKind, choices: readonly string[], total: number, correctIndex?: number): string {
  const rows: Array<[string, string]> = [['total', counted(kind, total)]];
  if (kind === 'quiz') rows.push(['correct', correctLabel(choices, correctIndex ?? -1)]);
  return lines(...rows);
}

export function renderQuiz(quiz: QuizDetails): string {
  return [
    lines(
      [`${quiz.kind}Id`, quiz.quizId],
      ['question', quiz.question],
      ['state', quiz.state],
      ['opensAt', quiz.opensAt],
      ['closesAt', `${quiz.closesAt} (${relative(quiz.closesAt)})`],
    ),
    tally(quiz.choices, quiz.counts, quiz.total, quiz.correctIndex),
    summary(quiz.kind, quiz.choices, quiz.total, quiz.correctIndex),
  ].join('');
}

export async function renderResult(client: HostClient, result: RevealedQuiz): Promise<string> {
  // The reveal reply has no choice texts; fetch them, but a bare index is fine if that fails.
  const choices = await client.getQuiz(result.quizId).then(
    (quiz) => quiz.choices,
    () => result.counts.map((_, i) => `choice ${i}`),
  );
  return [
    `revealed ${result.kind} ${result.quizId}\n`,
    tally(choices, result.counts, result.total, result.correctIndex),
    summary(result.kind, choices, result.total, result.correctIndex),
  ].join('');
}

export function renderState(state: ShowState): string {
  const { quiz } = state;
  if (!quiz) return lines(['stream', state.stream], ['quiz', 'none']);
  const revealed = quiz.counts !== undefined && quiz.total !== undefined;
  return [
    lines(
      ['stream', state.stream],
      [quiz.kind, `${quiz.quizId} (${quiz.state})`],
      ['question', quiz.question],
      ['closesAt', `${quiz.closesAt} (${relative(quiz.closesAt)})`],
    ),
    revealed
      ? tally(quiz.choices, quiz.counts ?? [], quiz.total ?? 0, quiz.correctIndex)
      : quiz.choices.map((choice, i) => `  ${i}  ${choice}\n`).join(''),
    revealed ? summary(quiz.kind, quiz.choices, quiz.total ?? 0, quiz.correctIndex) : '',
  ].join('');
}

const counted = (kind: QuizKind, n: number) =>
  `${n} ${kind === 'poll' ? 'vote' : 'answer'}${n === 1 ? '' : 's'}`;
