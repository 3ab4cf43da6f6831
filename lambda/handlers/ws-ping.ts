import type { PongMessage } from '../../client/wire';
import { loadConfig } from '../config';
import { connectionStoreFor, posterFor, REPLY_SETTINGS } from '../services/wiring';
import { wsHandler } from '../ws/ws-handler';

const config = loadConfig(REPLY_SETTINGS);

/** `ping`: keeps the connection inside API Gateway's 10-minute idle limit and gives the server clock. */
export const handler = wsHandler(
  posterFor(config),
  connectionStoreFor(config),
  async (): Promise<PongMessage> => ({
    type: 'pong',
    t: Date.now(),
  }),
);
