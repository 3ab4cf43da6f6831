import { loadConfig } from '../config';
import { parseQuizId } from '../domain/quiz';
import { httpHandler, reply } from '../http/http-handler';
import { quizServiceFor, READ_SETTINGS } from '../services/wiring';

const quizzes = quizServiceFor(loadConfig(READ_SETTINGS));

/** `GET /quizzes/{quizId}` (host): the quiz with its answer and live counts. */
export const handler = httpHandler(async (event) =>
  reply(200, await quizzes.describe(parseQuizId(event.pathParameters?.quizId))),
);
