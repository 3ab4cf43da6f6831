import { count, countBy, milliseconds } from '../clients/metrics';
import { loadConfig } from '../config';
import { parseAnswer, parseFrame } from '../domain/viewer';
import { METRIC, METRIC_DIMENSIONS } from '../metric-names';
import { LiveTally } from '../services/live-tally';
import { ViewerService } from '../services/viewer-service';
import {
  answerStoreFor,
  connectionStoreFor,
  DISPATCH_SETTINGS,
  dispatcherFor,
  posterFor,
  READ_SETTINGS,
  REPLY_SETTINGS,
  showStoreFor,
  tallyStoreFor,
} from '../services/wiring';
import { LiveTallyStore } from '../store/live-tally-store';
import { viewerIdOf } from '../ws/viewer-identity';
import { wsHandler } from '../ws/ws-handler';

const config = loadConfig([...READ_SETTINGS, ...REPLY_SETTINGS, ...DISPATCH_SETTINGS, 'answersTable']);
const live = new LiveTally(new LiveTallyStore(config.quizzesTable), dispatcherFor(config));
const viewers = new ViewerService(
  showStoreFor(config),
  answerStoreFor(config),
  tallyStoreFor(config),
  Date.now,
  (quiz, now) => live.afterCounted(quiz, now),
);

/** `answer`: one accepted answer per viewer per quiz, while the quiz is open. */
export const handler = wsHandler(
  posterFor(config),
  connectionStoreFor(config),
  async (event) => {
    const { connectionId, requestTimeEpoch } = event.requestContext;
    const input = parseAnswer(parseFrame(event.body));
    // The connection, or with viewer auth the verified viewer id: a reconnect cannot vote twice.
    return viewers.answer(input, { viewerId: viewerIdOf(event), connectionId }, new Date(requestTimeEpoch));
  },
  (reply, ms) => {
    if (reply.type === 'answer') count(METRIC.answersAccepted);
    else if (reply.type === 'error') countBy(METRIC.answersRefused, METRIC_DIMENSIONS.code, reply.code);
    milliseconds(METRIC.answerDuration, ms);
  },
);
