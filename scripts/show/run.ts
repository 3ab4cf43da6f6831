/**
 * Runs a checked run-sheet against the host API: for each item, open it (or send it), wait with a
 * countdown, reveal, pause, next. Waits out `429 Retry-After` and the answer grace, and stops at the
 * first refusal it cannot wait out, saying how to resume with `--from`.
 */
import { HostApiError, type HostClient, type RevealedQuiz } from '../../client/host-client';
import { countdown, revealWhenAnswersClose } from '../host-cli/countdown';
import type { CliIo } from '../host-cli/io';
import type { SheetItem } from './sheet';

/** How often one step waits out a 429 before the show stops. */
const MAX_RATE_LIMITED_WAITS = 10;

export interface ShowOutcome {
  readonly item: number;
  readonly type: SheetItem['type'];
  readonly label: string;
  readonly result: string;
}

/** The show stopped at `item` (1-based); the items before it ran. */
export class ShowStopped extends Error {
  constructor(
    readonly item: number,
    readonly cause: unknown,
    readonly outcomes: readonly ShowOutcome[],
  ) {
    super(`stopped at item ${item}`);
    this.name = 'ShowStopped';
  }
}

/** Runs items `from` (1-based) to the end; returns one outcome per item run. */
export async function runShow(
  client: HostClient,
  items: readonly SheetItem[],
  io: CliIo,
  from = 1,
): Promise<ShowOutcome[]> {
  const outcomes: ShowOutcome[] = [];
  for (let n = from; n <= items.length; n++) {
    const item = items[n - 1];
    const tag = `[${n}/${items.length}]`;
    const label = labelOf(item);
    io.stderr(`${tag} ${item.type}: ${label}\n`);
    try {
      const result = await runItem(client, item, io, tag);
      io.stderr(`${tag} ${result}\n`);
      outcomes.push({ item: n, type: item.type, label, result });
      if (n < items.length && item.pauseSeconds > 0)
        await countdown(io, item.pauseSeconds, (left) => `${tag} next item in ${left} s`);
    } catch (error) {
      throw new ShowStopped(n, error, outcomes);
    }
  }
  return outcomes;
}

async function runItem(client: HostClient, item: SheetItem, io: CliIo, tag: string): Promise<string> {
  if ('data' in item) {
    const { type, data } = item;
    const sent = await patiently(io, tag, () => client.sendEvent(type, data));
    return `sent ${type} ${sent.eventId}, on screen for ${data.seconds} s`;
  }
  const { request } = item;
  const created = await patiently(io, tag, () => client.createQuiz(request));
  const open = Math.ceil((Date.parse(created.answersCloseAt) - Date.now()) / 1000);
  if (open > 0) {
    await countdown(
      io,
      open,
      (left) => `${tag} answers open for ${left} s (viewers behind in the video included)`,
    );
  }
  const revealed = await patiently(io, tag, () =>
    revealWhenAnswersClose(client, { quizId: created.quizId, force: false }, io),
  );
  return describeResult(request.choices, revealed);
}

/** Calls `step`, waiting out each `429` for its `Retry-After`, a bounded number of times. */
async function patiently<T>(io: CliIo, tag: string, step: () => Promise<T>): Promise<T> {
  for (let waits = 0; ; waits++) {
    try {
      return await step();
    } catch (error) {
      if (!(error instanceof HostApiError) || error.status !== 429 || waits >= MAX_RATE_LIMITED_WAITS)
        throw error;
      await countdown(
        io,
        error.retryAfterSeconds ?? 1,
        (left) => `${tag} ${error.code}: retrying in ${left} s`,
      );
    }
  }
}

function describeResult(choices: readonly string[], result: RevealedQuiz): string {
  const noun = result.kind === 'poll' ? 'vote' : 'answer';
  const total = `${result.total} ${noun}${result.total === 1 ? '' : 's'}`;
  const counts = choices.map((choice, i) => `${choice} ${result.counts[i] ?? 0}`).join(', ');
  const correct =
    result.correctIndex === undefined
      ? ''
      : `; correct: ${choices[result.correctIndex] ?? result.correctIndex}`;
  return `revealed ${result.quizId}: ${total} (${counts})${correct}`;
}

function labelOf(item: SheetItem): string {
  return 'data' in item ? String(item.data.title ?? item.data.text) : item.request.question;
}
