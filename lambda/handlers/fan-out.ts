import type { Context } from 'aws-lambda';
import { logger } from '../clients/logger';
import { loadConfig } from '../config';
import { parseFanOutJob } from '../domain/fan-out-job';
import { Broadcasts } from '../services/broadcasts';
import type { FanOutReport } from '../services/fan-out';
import {
  answerStoreFor,
  connectionStoreFor,
  posterFor,
  READ_SETTINGS,
  showStoreFor,
  tallyStoreFor,
} from '../services/wiring';
import { RevealStore } from '../store/reveal-store';

const config = loadConfig([
  ...READ_SETTINGS,
  'answersTable',
  'connectionsTable',
  'callbackUrl',
  'fanOutConcurrency',
]);
const broadcasts = new Broadcasts({
  show: showStoreFor(config),
  reveals: new RevealStore(config.quizzesTable),
  answers: answerStoreFor(config),
  connections: connectionStoreFor(config),
  poster: posterFor(config),
  tally: tallyStoreFor(config),
  concurrency: config.fanOutConcurrency,
});

/**
 * Pushes one broadcast to one scan segment of the connections (invoked asynchronously, once per
 * segment): a revealed result, a live poll's running counts, or a stream state change.
 */
export const handler = async (event: unknown, context: Context): Promise<FanOutReport> => {
  logger.addContext(context);
  const job = parseFanOutJob(event);
  if (job.kind === 'stream') return broadcasts.stream(job);
  return job.kind === 'tally' ? broadcasts.tally(job) : broadcasts.result(job);
};
