import * as z from 'zod/mini';
import { ID_PATTERN, parseWith } from './validation';

/** A setting's default and its inclusive bounds. */
export interface Bounded {
  readonly default: number;
  readonly min: number;
  readonly max: number;
}

/**
 * The most connections one fan-out invocation posts to at once. With bursts, half of it is the
 * least in flight, and 64 at a 20 ms round trip carry a little more posts/s than one vCPU signs.
 */
export const FAN_OUT_CONCURRENCY: Bounded = { default: 128, min: 1, max: 1000 };
/** Scan segments a broadcast is split into: one asynchronous fan-out invocation each. */
export const FAN_OUT_SEGMENTS: Bounded = { default: 4, min: 1, max: 64 };

/** Work handed to the fan-out function, once per scan segment. */
export const FanOutJobSchema = z.discriminatedUnion('kind', [
  z.object({
    kind: z.literal('result'),
    quizId: z.string().check(z.regex(ID_PATTERN)),
    segment: z.int().check(z.gte(0)),
    totalSegments: z.int().check(z.gte(1)),
  }),
  z.object({
    kind: z.literal('tally'),
    quizId: z.string().check(z.regex(ID_PATTERN)),
    /** When the push window ends (epoch ms): the counts are read then. */
    sendAt: z.int(),
    segment: z.int().check(z.gte(0)),
    totalSegments: z.int().check(z.gte(1)),
  }),
  z.object({
    kind: z.literal('stream'),
    state: z.enum(['live', 'offline']),
    segment: z.int().check(z.gte(0)),
    totalSegments: z.int().check(z.gte(1)),
  }),
]);

export type FanOutJob = z.output<typeof FanOutJobSchema>;
/** A job before it is split into segments. */
export type FanOutWork =
  | { kind: 'result'; quizId: string }
  | { kind: 'tally'; quizId: string; sendAt: number }
  | { kind: 'stream'; state: 'live' | 'offline' };

export const parseFanOutJob = (event: unknown): FanOutJob => parseWith(FanOutJobSchema, event, 'job');
