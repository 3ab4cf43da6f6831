import type { StateMessage } from '../../client/wire';
import { loadConfig } from '../config';
import {
  connectionStoreFor,
  posterFor,
  quizServiceFor,
  READ_SETTINGS,
  REPLY_SETTINGS,
} from '../services/wiring';
import { wsHandler } from '../ws/ws-handler';

const config = loadConfig([...READ_SETTINGS, ...REPLY_SETTINGS]);
const quizzes = quizServiceFor(config);

/** `sync`: the same state as `GET /state`, for a viewer who joined late or reconnected. */
export const handler = wsHandler(
  posterFor(config),
  connectionStoreFor(config),
  async (): Promise<StateMessage> => ({
    type: 'state',
    ...(await quizzes.state()),
  }),
);
