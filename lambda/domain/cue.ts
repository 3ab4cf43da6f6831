import { PayloadTooLargeError } from './errors';

/** IVS PutMetadata accepts at most 1 KB; we count the UTF-8 bytes of the exact string sent. */
export const MAX_CUE_BYTES = 1024;

export const CUE_VERSION = 1;

export interface EncodedCue {
  /** The exact string handed to PutMetadata. */
  readonly metadata: string;
  readonly bytes: number;
}

export const utf8Bytes = (value: string): number => Buffer.byteLength(value, 'utf8');

/** Serializes a cue and refuses it (413) if IVS would. */
function encode(cue: Record<string, unknown>): EncodedCue {
  const metadata = JSON.stringify(cue);
  const bytes = utf8Bytes(metadata);
  if (bytes > MAX_CUE_BYTES) throw new PayloadTooLargeError(bytes, MAX_CUE_BYTES);
  return { metadata, bytes };
}

/**
 * The question cue. Fields are picked one by one: the correct answer must never reach a
 * viewer's player before the reveal, so it cannot be spread in by accident.
 */
export function encodeQuestionCue(quiz: {
  readonly quizId: string;
  readonly question: string;
  readonly choices: readonly string[];
  readonly closesAt: string;
}): EncodedCue {
  return encode({
    v: CUE_VERSION,
    type: 'question',
    quizId: quiz.quizId,
    question: quiz.question,
    choices: quiz.choices,
    closesAt: quiz.closesAt,
  });
}

export function encodeResultCue(result: {
  readonly quizId: string;
  readonly correctIndex: number;
  readonly counts: readonly number[];
  readonly total: number;
}): EncodedCue {
  return encode({
    v: CUE_VERSION,
    type: 'result',
    quizId: result.quizId,
    correctIndex: result.correctIndex,
    counts: result.counts,
    total: result.total,
  });
}

export function encodeCustomCue(event: {
  readonly type: string;
  readonly eventId: string;
  readonly data: Record<string, unknown>;
}): EncodedCue {
  return encode({ v: CUE_VERSION, type: event.type, eventId: event.eventId, data: event.data });
}
