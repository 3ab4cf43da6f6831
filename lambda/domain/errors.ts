import { type ErrorCode, HTTP_STATUS_BY_CODE } from '../../client/wire';

/**
 * A failure the caller can understand and act on; `code` is one of the contract's error codes
 * (client/wire.ts, docs/protocol.md §7). Handlers throw these; nothing else picks codes.
 */
export class DomainError extends Error {
  /** When set, the caller may retry after this many seconds; HTTP replies carry it as `Retry-After`. */
  readonly retryAfterSeconds?: number;

  constructor(
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'DomainError';
  }

  get status(): number {
    return HTTP_STATUS_BY_CODE[this.code];
  }
}

export class BadRequestError extends DomainError {
  constructor(message: string) {
    super('BAD_REQUEST', message);
  }
}

/**
 * A missing, forged or expired viewer token. The message tells the client what to do; `reason`
 * (absent, malformed, bad signature, expired…) is for the logs, so a forger learns nothing.
 */
export class UnauthorizedError extends DomainError {
  constructor(readonly reason: string) {
    super('UNAUTHORIZED', 'a valid viewer token is required: get a new one from POST /viewer-token');
  }
}

export class NotFoundError extends DomainError {
  constructor(message: string) {
    super('NOT_FOUND', message);
  }
}

export class PayloadTooLargeError extends DomainError {
  constructor(
    readonly bytes: number,
    readonly limit: number,
  ) {
    super('PAYLOAD_TOO_LARGE', `the cue would be ${bytes} bytes of UTF-8; the limit is ${limit}`);
  }
}

/** A request body that is not declared `application/json`: guessing at other formats would hide a client bug. */
export class UnsupportedMediaTypeError extends DomainError {
  constructor(readonly contentType: string | undefined) {
    super(
      'UNSUPPORTED_MEDIA_TYPE',
      contentType === undefined
        ? 'content-type: must be application/json; the request had none'
        : `content-type: must be application/json, got "${contentType.slice(0, 100)}"`,
    );
  }
}

export class ChannelNotBroadcastingError extends DomainError {
  constructor(message = 'the channel is not live: start the stream, then try again') {
    super('CHANNEL_NOT_BROADCASTING', message);
  }
}

/** Carries how long the caller should wait; the HTTP mapper turns it into `Retry-After`. */
export class RateLimitedError extends DomainError {
  constructor(
    readonly retryAfterSeconds: number,
    message = `at most 5 timed-metadata events per second per channel; retry in ${retryAfterSeconds} s`,
  ) {
    super('RATE_LIMITED', message);
  }
}

/**
 * A reveal while viewers further behind in the video may still answer (docs/protocol.md §3.4):
 * it would cut them short. Retry once the grace is over, or force it.
 */
export class AnswersStillOpenError extends DomainError {
  constructor(
    readonly quizId: string,
    override readonly retryAfterSeconds: number,
  ) {
    super(
      'ANSWERS_STILL_OPEN',
      `quiz "${quizId}" still takes answers from viewers behind in the video for ${retryAfterSeconds} s; ` +
        'reveal then, or add ?force=true to cut them short now',
    );
  }
}

export class QuizClosedError extends DomainError {
  constructor(readonly quizId: string) {
    super('QUIZ_CLOSED', `quiz "${quizId}" no longer takes answers`);
  }
}

export class AlreadyAnsweredError extends DomainError {
  constructor(readonly quizId: string) {
    super('ALREADY_ANSWERED', `you already answered quiz "${quizId}"; only your first answer counts`);
  }
}

/**
 * A passing fault (DynamoDB throttling) kept the viewer's answer from being recorded: nothing of
 * it is stored, so sending the same answer again is safe and is the thing to do.
 */
export class TryAgainError extends DomainError {
  constructor(readonly quizId: string) {
    super(
      'TRY_AGAIN',
      `your answer to quiz "${quizId}" was not recorded (the service is busy); send it again`,
    );
  }
}

export class UnknownActionError extends DomainError {
  constructor(action: string) {
    super('UNKNOWN_ACTION', `unknown action "${action}"; use answer, sync or ping`);
  }
}
