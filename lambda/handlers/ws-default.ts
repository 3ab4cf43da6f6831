import { loadConfig } from '../config';
import { explainDefaultRoute } from '../domain/viewer';
import { posterFor } from '../services/wiring';
import { wsHandler } from '../ws/ws-handler';

/** `$default`: bad JSON, a wrong shape or an unknown action gets an error frame, never a dropped connection. */
export const handler = wsHandler(posterFor(loadConfig(['callbackUrl'])), async (event) =>
  explainDefaultRoute(event.body),
);
