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
  const choices = await answers.choicesByViewer(quiz.quizId, quiz.tallyShards);
  return fanOut(
    connections,
    poster,
    ({ viewerId }) => {
      const choice = choices.get(viewerId);
      return choice === undefined
        ? [result]
        : [result, gradedMessage(quiz.quizId, choice, isCorrect(quiz, choice))];
    },
    segment,
  );
};
