import { loadConfig } from '../config';
import { parseAnswer, parseFrame } from '../domain/viewer';
import { ViewerService } from '../services/viewer-service';
import { answerStoreFor, posterFor, READ_SETTINGS, showStoreFor } from '../services/wiring';
import { wsHandler } from '../ws/ws-handler';

const config = loadConfig([...READ_SETTINGS, 'answersTable', 'callbackUrl']);
const viewers = new ViewerService(showStoreFor(config), answerStoreFor(config));

/** `answer`: one accepted answer per viewer per quiz, while the quiz is open. */
export const handler = wsHandler(posterFor(config), async (event) => {
  const { connectionId, requestTimeEpoch } = event.requestContext;
  const input = parseAnswer(parseFrame(event.body));
  // The viewer is the connection; with viewer auth it would be the verified viewer id.
  return viewers.answer(input, { viewerId: connectionId, connectionId }, new Date(requestTimeEpoch));
});
