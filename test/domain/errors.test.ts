import fc from 'fast-check';
import { HTTP_STATUS_BY_CODE } from '../../client/wire';
import * as errors from '../../lambda/domain/errors';
import {
  AlreadyAnsweredError,
  AnswersStillOpenError,
  BadRequestError,
  ChannelNotBroadcastingError,
  DomainError,
  NotFoundError,
  PayloadTooLargeError,
  QuizClosedError,
  RateLimitedError,
  TryAgainError,
  UnauthorizedError,
  UnknownActionError,
  UnsupportedMediaTypeError,
} from '../../lambda/domain/errors';
import { assertProperty } from './support';

type Code = keyof typeof HTTP_STATUS_BY_CODE;

describe('when the error codes are listed', () => {
  it('maps each wire code of docs/protocol.md §3 and §5 to its status', () => {
    expect(HTTP_STATUS_BY_CODE).toMatchObject({
      BAD_REQUEST: 400,
      FORBIDDEN: 403,
      NOT_FOUND: 404,
      CHANNEL_NOT_BROADCASTING: 409,
      PAYLOAD_TOO_LARGE: 413,
      UNSUPPORTED_MEDIA_TYPE: 415,
      RATE_LIMITED: 429,
      INTERNAL_ERROR: 500,
      UNKNOWN_ACTION: 400,
      QUIZ_CLOSED: 409,
      ALREADY_ANSWERED: 409,
    });
    for (const status of Object.values(HTTP_STATUS_BY_CODE)) {
      expect(Number.isInteger(status) && status >= 400 && status <= 599).toBe(true);
    }
  });
});

const EVERY_SUBCLASS: Array<[string, DomainError, Code, number]> = [
  ['BadRequestError', new BadRequestError('question: is required'), 'BAD_REQUEST', 400],
  ['NotFoundError', new NotFoundError('no quiz quiz-1'), 'NOT_FOUND', 404],
  ['PayloadTooLargeError', new PayloadTooLargeError(1100, 1024), 'PAYLOAD_TOO_LARGE', 413],
  ['ChannelNotBroadcastingError', new ChannelNotBroadcastingError(), 'CHANNEL_NOT_BROADCASTING', 409],
  ['RateLimitedError', new RateLimitedError(2), 'RATE_LIMITED', 429],
  ['QuizClosedError', new QuizClosedError('quiz-1'), 'QUIZ_CLOSED', 409],
  ['AnswersStillOpenError', new AnswersStillOpenError('quiz-1', 8), 'ANSWERS_STILL_OPEN', 409],
  ['AlreadyAnsweredError', new AlreadyAnsweredError('quiz-1'), 'ALREADY_ANSWERED', 409],
  ['UnknownActionError', new UnknownActionError('dance'), 'UNKNOWN_ACTION', 400],
  ['TryAgainError', new TryAgainError('quiz-1'), 'TRY_AGAIN', 429],
  ['UnauthorizedError', new UnauthorizedError('expired'), 'UNAUTHORIZED', 401],
  ['UnsupportedMediaTypeError', new UnsupportedMediaTypeError('text/plain'), 'UNSUPPORTED_MEDIA_TYPE', 415],
];

describe('when a domain error is thrown', () => {
  it.each(EVERY_SUBCLASS)('maps a %s to its code and status', (_name, error, code, status) => {
    expect(error).toBeInstanceOf(DomainError);
    expect(error).toBeInstanceOf(Error);
    expect(error.code).toBe(code);
    expect(error.status).toBe(status);
    expect(error.status).toBe(HTTP_STATUS_BY_CODE[error.code]);
    expect(() => {
      throw error;
    }).toThrow(DomainError);
  });

  it('is tested here for every subclass the module exports', () => {
    const exported = Object.entries(errors)
      .filter(([, value]) => typeof value === 'function' && value.prototype instanceof DomainError)
      .map(([name]) => name)
      .sort();
    expect(exported).toEqual(EVERY_SUBCLASS.map(([name]) => name).sort());
  });

  it('names the quiz in the errors of an answer', () => {
    expect(new QuizClosedError('quiz-1')).toMatchObject({
      quizId: 'quiz-1',
      message: expect.stringContaining('quiz-1'),
    });
    expect(new AlreadyAnsweredError('quiz-2')).toMatchObject({
      quizId: 'quiz-2',
      message: expect.stringContaining('quiz-2'),
    });
    expect(new UnknownActionError('dance').message).toContain('"dance"');
  });

  it('gives every code the status of the table', () => {
    const codes = Object.keys(HTTP_STATUS_BY_CODE) as Code[];
    assertProperty(
      fc.property(fc.constantFrom(...codes), fc.string(), (code, message) => {
        const error = new DomainError(code, message);
        expect(error.status).toBe(HTTP_STATUS_BY_CODE[code]);
        expect(error.message).toBe(message);
      }),
    );
  });

  it('keeps the message a BadRequestError is given', () => {
    expect(() => {
      throw new BadRequestError('choices[1]: must be a string');
    }).toThrow(/^choices\[1\]: must be a string$/);
  });

  it('says how many bytes a PayloadTooLargeError counted, and the limit', () => {
    const error = new PayloadTooLargeError(1100, 1024);
    expect(error).toMatchObject({ bytes: 1100, limit: 1024 });
    expect(error.message).toBe('the cue would be 1100 bytes of UTF-8; the limit is 1024');
  });

  it('says which content type an UnsupportedMediaTypeError got, or that there was none', () => {
    expect(new UnsupportedMediaTypeError('text/plain').message).toBe(
      'content-type: must be application/json, got "text/plain"',
    );
    expect(new UnsupportedMediaTypeError(undefined).message).toBe(
      'content-type: must be application/json; the request had none',
    );
  });

  it('explains by default that the channel is not live', () => {
    expect(new ChannelNotBroadcastingError().message).toMatch(/not live/);
    expect(new ChannelNotBroadcastingError('custom').message).toBe('custom');
  });
});

describe('when a call is rate limited', () => {
  it('carries retryAfterSeconds and puts it in the message', () => {
    assertProperty(
      fc.property(fc.integer({ min: 1, max: 3600 }), (seconds) => {
        const error = new RateLimitedError(seconds);
        expect(error.retryAfterSeconds).toBe(seconds);
        expect(error.status).toBe(429);
        expect(error.message).toMatch(new RegExp(`retry in ${seconds} s$`));
      }),
    );
  });

  it('keeps a message it is given', () => {
    expect(new RateLimitedError(3, 'slow down')).toMatchObject({
      retryAfterSeconds: 3,
      message: 'slow down',
      code: 'RATE_LIMITED',
    });
  });
});
