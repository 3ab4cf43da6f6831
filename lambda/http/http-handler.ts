import type { APIGatewayProxyEventV2, APIGatewayProxyResultV2, Context } from 'aws-lambda';
import { logger } from '../clients/logger';
import { countBy, flushMetrics } from '../clients/metrics';
import { BadRequestError, DomainError, UnsupportedMediaTypeError } from '../domain/errors';
import { parseJson } from '../domain/validation';
import { METRIC, METRIC_DIMENSIONS } from '../metric-names';
import { throttlingAsRateLimited } from '../transport/error-mapping';

/** What a route returns; the wrapper turns it into the API Gateway payload v2 reply. */
export interface HttpReply {
  readonly status: number;
  readonly body: unknown;
}

export type HttpRoute = (event: APIGatewayProxyEventV2, context: Context) => Promise<HttpReply>;

export const reply = (status: number, body: unknown): HttpReply => ({ status, body });

const JSON_HEADERS = { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' };

/**
 * The one skeleton every HTTP handler shares: log context, run the route, and map any
 * error to the contract's `{"error":{"code","message"}}` body. Only an unexpected fault is
 * a 500, and it is logged with the request id the client sees.
 */
export function httpHandler(route: HttpRoute) {
  return async (event: APIGatewayProxyEventV2, context: Context): Promise<APIGatewayProxyResultV2> => {
    logger.addContext(context);
    try {
      const { status, body } = await route(event, context);
      return { statusCode: status, headers: JSON_HEADERS, body: JSON.stringify(body) };
    } catch (error) {
      return errorReply(throttlingAsRateLimited(error), context.awsRequestId);
    } finally {
      flushMetrics();
    }
  };
}

function errorReply(error: unknown, requestId: string): APIGatewayProxyResultV2 {
  if (error instanceof DomainError) {
    logger.info('request refused', { code: error.code, reason: error.message });
    countBy(METRIC.hostRequestsRefused, METRIC_DIMENSIONS.code, error.code);
    const headers: Record<string, string> =
      error.retryAfterSeconds === undefined
        ? JSON_HEADERS
        : { ...JSON_HEADERS, 'retry-after': String(error.retryAfterSeconds) };
    return { statusCode: error.status, headers, body: errorBody(error.code, error.message) };
  }
  logger.error('unexpected failure', error as Error);
  return {
    statusCode: 500,
    headers: JSON_HEADERS,
    body: errorBody('INTERNAL_ERROR', `unexpected failure; quote request id ${requestId} when reporting it`),
  };
}

const errorBody = (code: string, message: string) => JSON.stringify({ error: { code, message } });

/** `application/json`, in any case, with or without parameters such as `charset=utf-8`. */
const JSON_MEDIA_TYPE = /^application\/json\s*(;|$)/i;

/**
 * The request body as JSON: an empty, malformed or too deeply nested body is a 400, and a body
 * not declared `application/json` is a 415.
 */
export function readJsonBody(event: APIGatewayProxyEventV2): unknown {
  if (event.body === undefined || event.body === '')
    throw new BadRequestError('body: a JSON object is required');
  // Payload v2 gives header names in lower case.
  const contentType = event.headers?.['content-type'];
  if (!JSON_MEDIA_TYPE.test(contentType?.trim() ?? '')) throw new UnsupportedMediaTypeError(contentType);
  const text = event.isBase64Encoded ? Buffer.from(event.body, 'base64').toString('utf8') : event.body;
  return parseJson(text, 'body');
}
