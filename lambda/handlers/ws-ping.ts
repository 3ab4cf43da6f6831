import { loadConfig } from '../config';
import { posterFor } from '../services/wiring';
import { wsHandler } from '../ws/ws-handler';

/** `ping`: keeps the connection inside API Gateway's 10-minute idle limit and gives the server clock. */
export const handler = wsHandler(posterFor(loadConfig(['callbackUrl'])), async () => ({
  type: 'pong',
  t: Date.now(),
}));
