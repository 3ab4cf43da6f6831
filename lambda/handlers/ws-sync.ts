import { loadConfig } from '../config';
import { posterFor, quizServiceFor, READ_SETTINGS } from '../services/wiring';
import { wsHandler } from '../ws/ws-handler';

const config = loadConfig([...READ_SETTINGS, 'callbackUrl']);
const quizzes = quizServiceFor(config);

/** `sync`: the same state as `GET /state`, for a viewer who joined late or reconnected. */
export const handler = wsHandler(posterFor(config), async () => ({
  type: 'state',
  ...(await quizzes.state()),
}));
