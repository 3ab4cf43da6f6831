import { logger } from '../clients/logger';
import { loadConfig } from '../config';
import { parseQuizId, parseRevealQuery } from '../domain/quiz';
import { httpHandler, reply } from '../http/http-handler';
import { DISPATCH_SETTINGS, dispatcherFor, QUIZ_SETTINGS, revealServiceFor } from '../services/wiring';

const config = loadConfig([...QUIZ_SETTINGS, ...DISPATCH_SETTINGS]);
const fanOut = dispatcherFor(config);
const reveals = revealServiceFor(config, {
  // The result cue already went out in the video; the WebSocket copy is handed to the fan-out function.
  onRevealed: async ({ quizId }, segments) => {
    const failedSegments = await fanOut.dispatch({ kind: 'result', quizId }, segments);
    if (failedSegments > 0) logger.error('result fan-out partly not dispatched', { quizId, failedSegments });
  },
});

/**
 * `POST /quizzes/{quizId}/reveal[?force=true]` (host): fixes the figures, sends the result cue
 * once, then fans out. The invocation's deadline bounds the claim's lease, so a retry can take
 * over a crashed one.
 */
export const handler = httpHandler(async (event, context) => {
  const deadline = Date.now() + context.getRemainingTimeInMillis();
  const quizId = parseQuizId(event.pathParameters?.quizId);
  const { force } = parseRevealQuery(event.queryStringParameters);
  return reply(200, await reveals.reveal(quizId, { deadline, force }));
});
