import { hostView } from '../domain/quiz';
import type { ShowStore } from '../store/show-store';
import type { TallyStore } from '../store/tally-store';
import type { StreamStatusReader } from './stream-status';

/** How many of the latest quizzes `GET /show` returns. */
export const SHOW_QUIZZES = 20;

/**
 * `GET /show` (host): what the host's cockpit shows at a glance. The stream as IVS reports it
 * now (live or offline, and how many watch), the current quiz, and the show's latest quizzes
 * and polls with their figures: the result once revealed, the running counts before.
 */
export class ShowOverview {
  constructor(
    private readonly store: ShowStore,
    private readonly tally: TallyStore,
    private readonly stream: StreamStatusReader,
    private readonly now: () => Date = () => new Date(),
  ) {}

  async read() {
    const [stream, show] = await Promise.all([this.stream.read(), this.store.getShow()]);
    const quizzes = await this.store.getQuizzes(show.recentQuizIds.slice(0, SHOW_QUIZZES));
    const now = this.now();
    const views = await Promise.all(
      quizzes.map(async (quiz) =>
        hostView(
          quiz,
          quiz.result ?? (await this.tally.read(quiz.quizId, quiz.tallyShards, quiz.choices.length)),
          now,
        ),
      ),
    );
    return { stream, currentQuizId: show.currentQuizId, quizzes: views };
  }
}
