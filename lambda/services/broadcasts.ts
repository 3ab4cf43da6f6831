import { setTimeout as sleep } from 'node:timers/promises';
import { gradedMessage, resultMessage, revealFigures, streamMessage, tallyMessage } from '../../client/wire';
import { logger } from '../clients/logger';
import { milliseconds } from '../clients/metrics';
import type { FanOutJob } from '../domain/fan-out-job';
import { FAN_OUT_HEARTBEAT_MS } from '../domain/reveal';
import { LIVE_TALLY_INTERVAL_MS } from '../domain/tally';
import { isCorrect } from '../domain/viewer';
import { METRIC } from '../metric-names';
import type { AnswerStore } from '../store/answer-store';
import type { ConnectionStore } from '../store/connection-store';
import type { RevealStore } from '../store/reveal-store';
import type { ShowStore } from '../store/show-store';
import type { TallyStore } from '../store/tally-store';
import type { ConnectionPoster } from './connection-poster';
import { type FanOutReport, fanOut } from './fan-out';
import { settledChoices } from './grades';

type Job<K extends FanOutJob['kind']> = Extract<FanOutJob, { kind: K }>;

const NOTHING_SENT: FanOutReport = { connections: 0, delivered: 0, gone: 0, failed: 0 };

/**
 * What the fan-out function sends to one scan segment of the connections: a stream state change,
 * or a revealed result to everyone plus, for a quiz, `graded` to each viewer whose answer was counted.
 */
export class Broadcasts {
  constructor(
    private readonly deps: {
      readonly show: ShowStore;
      readonly reveals: RevealStore;
      readonly answers: AnswerStore;
      readonly connections: ConnectionStore;
      readonly poster: ConnectionPoster;
      readonly tally: TallyStore;
      /** The most connections being posted to at once. */
      readonly concurrency: number;
    },
  ) {}

  stream(job: Job<'stream'>): Promise<FanOutReport> {
    const message = streamMessage(job.state);
    return fanOut(this.deps.connections, this.deps.poster, () => [message], this.segmentOf(job));
  }

  /**
   * A live poll's running counts, read when the push window ends so the window's answers are in
   * them. Nothing once the poll is closed or revealed: the result says it all.
   */
  async tally(job: Job<'tally'>): Promise<FanOutReport> {
    const wait = Math.min(job.sendAt - Date.now(), 2 * LIVE_TALLY_INTERVAL_MS);
    if (wait > 0) await sleep(wait);
    const quiz = await this.deps.show.getQuiz(job.quizId);
    if (!quiz || quiz.result || quiz.closedAt !== undefined) return NOTHING_SENT;
    const message = tallyMessage(
      quiz.quizId,
      await this.deps.tally.read(quiz.quizId, quiz.tallyShards, quiz.choices.length),
    );
    return fanOut(this.deps.connections, this.deps.poster, () => [message], this.segmentOf(job));
  }

  async result(job: Job<'result'>): Promise<FanOutReport> {
    const quiz = await this.deps.show.getQuiz(job.quizId);
    if (!quiz?.result) throw new Error(`fan-out: quiz ${job.quizId} has no result to send`);
    // Marks exist once the reveal recorded its cue; quizzes revealed before that carry none.
    const mark = quiz.fanOut?.[String(job.segment)];
    if (mark?.doneAt) {
      // Lambda delivers asynchronous events at least once; a finished segment is not sent twice.
      logger.info('fan-out segment already finished', { quizId: quiz.quizId, segment: job.segment });
      return NOTHING_SENT;
    }
    const figures = revealFigures(quiz, quiz.result);
    const result = resultMessage(figures);
    // On pushes v1 results go out at once, and for a quiz the counted answers (for `graded`) load
    // meanwhile and are awaited per viewer. On v2 each viewer's one post waits for the answers,
    // which are read once per segment. A poll grades no one, so it reads no answers.
    const choices =
      quiz.kind === 'quiz'
        ? settledChoices(this.deps.answers, { ...quiz, result: quiz.result }).catch((error: Error) => {
            // Results still reach everyone; only the grades are lost, and loudly.
            logger.error('could not load answers: no graded messages in this segment', {
              quizId: quiz.quizId,
              error,
            });
            return new Map<string, number>();
          })
        : undefined;
    const progress = mark ? this.segmentProgress(quiz.quizId, job.segment) : undefined;
    const report = await fanOut(
      this.deps.connections,
      this.deps.poster,
      ({ viewerId, pushVersion }) => {
        if (!choices) return [result];
        const graded = choices.then((byViewer) => {
          const choice = byViewer.get(viewerId);
          if (choice === undefined) return undefined;
          return gradedMessage(
            quiz.quizId,
            choice,
            isCorrect(quiz, choice),
            pushVersion === 2 ? figures : undefined,
          );
        });
        // Pushes v2: one post, the grade with the figures, or the result for a viewer who did not answer.
        if (pushVersion === 2) return [graded.then((message) => message ?? result)];
        return [result, graded];
      },
      this.segmentOf(job),
    ).finally(() => progress?.stop());
    await progress?.finish(report);
    // The largest of these across a reveal's segments is its time to the last delivery.
    if (report.connections > 0)
      milliseconds(METRIC.revealToDelivery, Date.now() - Date.parse(quiz.result.revealedAt));
    return report;
  }

  private segmentOf(job: FanOutJob) {
    return { segment: job.segment, totalSegments: job.totalSegments, concurrency: this.deps.concurrency };
  }

  /**
   * Heartbeats while a result segment runs, then its completion mark: a retried reveal dispatches
   * again only a segment that went silent without finishing (a crash). Marks are best-effort: a
   * failed write is logged and never stops the broadcast.
   */
  private segmentProgress(quizId: string, segment: number) {
    const { reveals } = this.deps;
    const warn = (what: string) => (error: Error) =>
      logger.warn(`fan-out: could not record ${what}`, { quizId, segment, error });
    const beat = () =>
      void reveals.beatFanOutSegment(quizId, segment, new Date().toISOString()).catch(warn('a heartbeat'));
    beat();
    const timer = setInterval(beat, FAN_OUT_HEARTBEAT_MS);
    return {
      stop: () => clearInterval(timer),
      finish: (report: FanOutReport) =>
        reveals
          .finishFanOutSegment(quizId, segment, new Date().toISOString(), report)
          .then(() => undefined, warn('its completion')),
    };
  }
}
