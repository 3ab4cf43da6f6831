import { loadConfig } from '../config';
import { parseSendEvent } from '../domain/event';
import { httpHandler, readJsonBody, reply } from '../http/http-handler';
import { sendEvent } from '../services/event-service';
import { CUE_SETTINGS, publisherFor } from '../services/wiring';

const publisher = publisherFor(loadConfig(CUE_SETTINGS));

/** `POST /events` (host): one custom timed-metadata cue. */
export const handler = httpHandler(async (event) =>
  reply(200, await sendEvent(publisher, parseSendEvent(readJsonBody(event)))),
);
