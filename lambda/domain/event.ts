import * as z from 'zod/mini';
import { parseWith } from './validation';

/** Cue types the platform itself sends; a host's custom event may not impersonate them. */
export const RESERVED_CUE_TYPES: readonly string[] = ['question', 'result'];

export const EVENT_TYPE_PATTERN = /^[a-z][a-z0-9_-]{0,31}$/;

/** Body of `POST /events` (DESIGN.md §3). */
export const SendEventSchema = z.strictObject(
  {
    type: z.string({ error: 'must be a string' }).check(
      z.regex(EVENT_TYPE_PATTERN, { error: 'must match ^[a-z][a-z0-9_-]{0,31}$' }),
      z.refine((type) => !RESERVED_CUE_TYPES.includes(type), { error: 'is reserved for platform cues' }),
    ),
    data: z.record(z.string(), z.json(), { error: 'must be a JSON object' }),
  },
  { error: 'must be a JSON object' },
);

export type SendEventInput = z.output<typeof SendEventSchema>;

export const parseSendEvent = (body: unknown): SendEventInput => parseWith(SendEventSchema, body);
