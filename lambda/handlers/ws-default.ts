import { loadConfig } from '../config';
import { explainDefaultRoute } from '../domain/viewer';
import { connectionStoreFor, posterFor, REPLY_SETTINGS } from '../services/wiring';
import { wsHandler } from '../ws/ws-handler';

const config = loadConfig(REPLY_SETTINGS);

/** `$default`: bad JSON, a wrong shape or an unknown action gets an error frame, never a dropped connection. */
export const handler = wsHandler(posterFor(config), connectionStoreFor(config), async (event) =>
  explainDefaultRoute(event.body),
);
