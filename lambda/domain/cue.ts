import { type Cue, customCue, MAX_CUE_BYTES, questionCue, resultCue } from '../../client/wire';
import { PayloadTooLargeError } from './errors';

export interface EncodedCue {
  /** The exact string handed to PutMetadata. */
  readonly metadata: string;
  readonly bytes: number;
}

export const utf8Bytes = (value: string): number => Buffer.byteLength(value, 'utf8');

/** Serializes a cue and refuses it (413) if IVS would. */
function encode(cue: Cue): EncodedCue {
  const metadata = JSON.stringify(cue);
  const bytes = utf8Bytes(metadata);
  if (bytes > MAX_CUE_BYTES) throw new PayloadTooLargeError(bytes, MAX_CUE_BYTES);
  return { metadata, bytes };
}

/** The question cue: never the correct answer (the builder picks its fields one by one). */
export const encodeQuestionCue = (quiz: Parameters<typeof questionCue>[0]): EncodedCue =>
  encode(questionCue(quiz));

export const encodeResultCue = (result: Parameters<typeof resultCue>[0]): EncodedCue =>
  encode(resultCue(result));

export const encodeCustomCue = (event: Parameters<typeof customCue>[0]): EncodedCue =>
  encode(customCue(event));
