import type { Context } from 'aws-lambda';
import { logger } from '../clients/logger';
import { count, flushMetrics } from '../clients/metrics';
import { loadConfig } from '../config';
import { parseFanOutJob } from '../domain/fan-out-job';
import { METRIC } from '../metric-names';
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
  const report =
    job.kind === 'stream'
      ? await broadcasts.stream(job)
      : job.kind === 'tally'
        ? await broadcasts.tally(job)
        : await broadcasts.result(job);
  count(METRIC.deliveries, report.delivered);
  count(METRIC.gone, report.gone);
  count(METRIC.failedPosts, report.failed);
  flushMetrics();
  return report;
};
