import type { Context } from 'aws-lambda';
import { logger } from '../clients/logger';
import { loadConfig } from '../config';
import { gradedMessage, parseFanOutJob, resultMessage, streamMessage } from '../domain/fan-out-job';
import { isCorrect } from '../domain/viewer';
import { type FanOutReport, fanOut } from '../services/fan-out';
import {
  answerStoreFor,
  connectionStoreFor,
  posterFor,
  READ_SETTINGS,
  showStoreFor,
} from '../services/wiring';

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
  const result = resultMessage({ quizId: quiz.quizId, correctIndex: quiz.correctIndex, ...quiz.result });
  // Results go out at once; the answers (for `graded`) load meanwhile and are awaited per viewer.
  const choices = answers.choicesByViewer(quiz.quizId, quiz.tallyShards).catch((error: Error) => {
    // Results still reach everyone; only the grades are lost, and loudly.
    logger.error('could not load answers: no graded messages in this segment', {
      quizId: quiz.quizId,
      error,
    });
    return new Map<string, number>();
  });
  return fanOut(
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
  );
};
