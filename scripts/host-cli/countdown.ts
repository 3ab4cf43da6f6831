/**
 * Waiting in the terminal: a countdown on stderr (one line rewritten each second on a terminal, a
 * line every 5 s otherwise, so logs stay short), and the reveal that waits out the answer grace.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { HostApiError, type HostClient, type RevealedQuiz } from '../../client/host-client';
import type { CliIo } from './io';

/** Counts `seconds` down on stderr, each line made by `say` from the seconds left. */
export async function countdown(io: CliIo, seconds: number, say: (left: number) => string): Promise<void> {
  for (let left = seconds; left > 0; left--) {
    const line = say(left);
    if (io.interactive) io.stderr(`\r${line}\u001b[K`);
    else if (left === seconds || left % 5 === 0) io.stderr(`${line}\n`);
    await sleep(1000);
  }
  if (io.interactive) io.stderr('\r\u001b[K');
}

/**
 * Reveals, waiting first while viewers behind in the video may still answer: the API says so
 * with `ANSWERS_STILL_OPEN` and how long. `force` reveals at once and cuts them short.
 */
export async function revealWhenAnswersClose(
  client: HostClient,
  action: { readonly quizId: string; readonly force: boolean },
  io: CliIo,
): Promise<RevealedQuiz> {
  for (;;) {
    try {
      return await client.revealQuiz(action.quizId, { force: action.force });
    } catch (error) {
      if (!(error instanceof HostApiError) || error.code !== 'ANSWERS_STILL_OPEN') throw error;
      await countdown(
        io,
        error.retryAfterSeconds ?? 1,
        (left) =>
          `revealing in ${left} s: viewers behind in the video can still answer (Ctrl-C stops, --force reveals now)`,
      );
    }
  }
}
