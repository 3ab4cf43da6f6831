import { loadConfig } from '../config';
import { httpHandler, reply } from '../http/http-handler';
import { READ_SETTINGS, showOverviewFor } from '../services/wiring';

const overview = showOverviewFor(loadConfig([...READ_SETTINGS, 'channelArn']));

/** `GET /show` (host): the stream with its viewer count, the current quiz, and the latest quizzes. */
export const handler = httpHandler(async () => reply(200, await overview.read()));
