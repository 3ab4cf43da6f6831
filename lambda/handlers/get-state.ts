import { loadConfig } from '../config';
import { httpHandler, reply } from '../http/http-handler';
import { quizServiceFor, READ_SETTINGS } from '../services/wiring';

const quizzes = quizServiceFor(loadConfig(READ_SETTINGS));

/** `GET /state` (public): stream state and the current quiz, for late joiners. */
export const handler = httpHandler(async () => reply(200, await quizzes.state()));
