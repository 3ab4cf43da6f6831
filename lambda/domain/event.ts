import * as z from 'zod/mini';
import { BadRequestError } from './errors';
import { parseWith } from './validation';
import { isWellKnownType, WELL_KNOWN_DATA } from './well-known-cues';

/** Cue types the platform itself sends; a host's custom event may not impersonate them. */
export const RESERVED_CUE_TYPES: readonly string[] = ['question', 'result'];

export const EVENT_TYPE_PATTERN = /^[a-z][a-z0-9_-]{0,31}$/;

/** Body of `POST /events` (docs/protocol.md §3). */
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

/**
 * Parses `POST /events`. A `__proto__` key is valid JSON, but rebuilding the object would turn
 * it into a prototype and drop it from the cue, so it is refused rather than lost silently.
 */
export function parseSendEvent(body: unknown): SendEventInput {
  const data = body !== null && typeof body === 'object' ? (body as { data?: unknown }).data : undefined;
  const found = findProtoKey(data, 'data');
  if (found) throw new BadRequestError(`${found}: the key "__proto__" is not allowed`);
  const event = parseWith(SendEventSchema, body);
  if (!isWellKnownType(event.type)) return event;
  // A drop or an announcement: its data has a schema of its own (docs/protocol.md §4.5). Parsed
  // under `data`, so a refusal names the field as `data.link`.
  const checked = parseWith(z.object({ data: WELL_KNOWN_DATA[event.type] }), { data: event.data });
  // Strings and whole numbers only: JSON by construction.
  return { type: event.type, data: checked.data as SendEventInput['data'] };
}

/** Path of the first own `__proto__` key in a JSON value, if any. */
function findProtoKey(value: unknown, path: string, depth = 0): string | undefined {
  if (value === null || typeof value !== 'object' || depth > 64) return undefined;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const found = findProtoKey(value[i], `${path}[${i}]`, depth + 1);
      if (found) return found;
    }
    return undefined;
  }
  if (Object.hasOwn(value, '__proto__')) return path;
  for (const [key, inner] of Object.entries(value)) {
    const found = findProtoKey(inner, `${path}.${key}`, depth + 1);
    if (found) return found;
  }
  return undefined;
}
