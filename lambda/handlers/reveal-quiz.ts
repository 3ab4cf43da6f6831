import { loadConfig } from '../config';
import { parseQuizId } from '../domain/quiz';
import { httpHandler, reply } from '../http/http-handler';
import { QUIZ_SETTINGS, quizServiceFor } from '../services/wiring';

const quizzes = quizServiceFor(loadConfig(QUIZ_SETTINGS));

/** `POST /quizzes/{quizId}/reveal` (host): fixes the figures and sends the result cue, once. */
export const handler = httpHandler(async (event) =>
  reply(200, await quizzes.reveal(parseQuizId(event.pathParameters?.quizId))),
);
