import * as z from 'zod/mini';
import { parseWith } from './validation';

/** The part of an EventBridge `IVS Stream State Change` event we use. */
export const StreamStateEventSchema = z.object({
  time: z.iso.datetime({ offset: true }),
  'detail-type': z.literal('IVS Stream State Change'),
  resources: z.array(z.string()),
  detail: z.object({ event_name: z.string() }),
});

export type StreamStateEvent = z.output<typeof StreamStateEventSchema>;

export const parseStreamStateEvent = (event: unknown): StreamStateEvent =>
  parseWith(StreamStateEventSchema, event, 'event');

/** `Stream Start` → live, `Stream End` → offline; other IVS events (e.g. Stream Failure) change nothing. */
export function streamStateOf(eventName: string): 'live' | 'offline' | undefined {
  if (eventName === 'Stream Start') return 'live';
  if (eventName === 'Stream End') return 'offline';
  return undefined;
}
