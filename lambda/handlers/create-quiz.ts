import { loadConfig } from '../config';
import { parseCreateQuiz } from '../domain/quiz';
import { httpHandler, readJsonBody, reply } from '../http/http-handler';
import { CREATE_SETTINGS, quizServiceFor } from '../services/wiring';

const quizzes = quizServiceFor(loadConfig(CREATE_SETTINGS));

/** `POST /quizzes` (host): opens a quiz and sends its question cue. */
export const handler = httpHandler(async (event) =>
  reply(201, await quizzes.create(parseCreateQuiz(readJsonBody(event)))),
);
