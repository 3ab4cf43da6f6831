import type { Context } from 'aws-lambda';
import { logger } from '../clients/logger';
import { loadConfig } from '../config';
import { gradedMessage, parseFanOutJob, resultMessage, streamMessage } from '../domain/fan-out-job';
import { isCorrect } from '../domain/viewer';
import { type FanOutReport, fanOut } from '../services/fan-out';
import { settledChoices } from '../services/grades';
import {
  answerStoreFor,
  connectionStoreFor,
  posterFor,
  READ_SETTINGS,
  showStoreFor,
} from '../services/wiring';
import { FAN_OUT_HEARTBEAT_MS } from '../store/show-store';

const config = loadConfig([
  ...READ_SETTINGS,
  'answersTable',
  'connectionsTable',
  'callbackUrl',
  'fanOutConcurrency',
]);
const show = showStoreFor(config);
const answers = answerStoreFor(config);
const connections = connectionStoreFor(config);
const poster = posterFor(config);

/**
 * Pushes one broadcast to one scan segment of the connections (invoked asynchronously,
 * once per segment): `result` to everyone plus `graded` to each viewer who answered, or a
 * `stream` state change.
 */
export const handler = async (event: unknown, context: Context): Promise<FanOutReport> => {
  logger.addContext(context);
  const job = parseFanOutJob(event);
  const segment = {
    segment: job.segment,
    totalSegments: job.totalSegments,
    concurrency: config.fanOutConcurrency,
  };

  if (job.kind === 'stream') {
    const message = streamMessage(job.state);
    return fanOut(connections, poster, () => [message], segment);
  }

  const quiz = await show.getQuiz(job.quizId);
  if (!quiz?.result) throw new Error(`fan-out: quiz ${job.quizId} has no result to send`);
  // Marks exist once the reveal recorded its cue; quizzes revealed before that carry none.
  const mark = quiz.fanOut?.[String(job.segment)];
  if (mark?.doneAt) {
    // Lambda delivers asynchronous events at least once; a finished segment is not sent twice.
    logger.info('fan-out segment already finished', { quizId: quiz.quizId, segment: job.segment });
    return { connections: 0, delivered: 0, gone: 0, failed: 0 };
  }
  const result = resultMessage({ quizId: quiz.quizId, correctIndex: quiz.correctIndex, ...quiz.result });
  // Results go out at once; the counted answers (for `graded`) load meanwhile and are awaited per viewer.
  const choices = settledChoices(answers, { ...quiz, result: quiz.result }).catch((error: Error) => {
    // Results still reach everyone; only the grades are lost, and loudly.
    logger.error('could not load answers: no graded messages in this segment', {
      quizId: quiz.quizId,
      error,
    });
    return new Map<string, number>();
  });
  const progress = mark ? segmentProgress(quiz.quizId, job.segment) : undefined;
  const report = await fanOut(
    connections,
    poster,
    ({ viewerId }) => [
      result,
      choices.then((byViewer) => {
        const choice = byViewer.get(viewerId);
        return choice === undefined ? undefined : gradedMessage(quiz.quizId, choice, isCorrect(quiz, choice));
      }),
    ],
    segment,
  ).finally(() => progress?.stop());
  await progress?.finish(report);
  return report;
};

/**
 * Heartbeats while a result segment runs, then its completion mark: a retried reveal dispatches
 * again only a segment that went silent without finishing (a crash). Marks are best-effort: a
 * failed write is logged and never stops the broadcast.
 */
function segmentProgress(quizId: string, segment: number) {
  const warn = (what: string) => (error: Error) =>
    logger.warn(`fan-out: could not record ${what}`, { quizId, segment, error });
  const beat = () =>
    void show.beatFanOutSegment(quizId, segment, new Date().toISOString()).catch(warn('a heartbeat'));
  beat();
  const timer = setInterval(beat, FAN_OUT_HEARTBEAT_MS);
  return {
    stop: () => clearInterval(timer),
    finish: (report: FanOutReport) =>
      show
        .finishFanOutSegment(quizId, segment, new Date().toISOString(), report)
        .then(() => undefined, warn('its completion')),
  };
}
