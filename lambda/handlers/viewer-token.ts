import { loadConfig } from '../config';
import { httpHandler, readJsonBody, reply } from '../http/http-handler';
import { parseIssueToken } from '../services/viewer-token-service';
import { tokenServiceFor, VIEWER_AUTH_SETTINGS } from '../services/wiring';

const tokens = tokenServiceFor(loadConfig(VIEWER_AUTH_SETTINGS));

/**
 * `POST /viewer-token` (public, viewer auth only): a signed, expiring viewer token for
 * `$connect?token=`. An empty body starts a new viewer; `{"token"}` renews the same viewer.
 */
export const handler = httpHandler(async (event) => {
  const body = event.body ? readJsonBody(event) : {};
  return reply(201, await tokens.issue(parseIssueToken(body)));
});
