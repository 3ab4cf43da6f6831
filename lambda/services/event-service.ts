import { encodeCustomCue } from '../domain/cue';
import type { SendEventInput } from '../domain/event';
import { newId } from './ids';
import type { MetadataPublisher } from './metadata-publisher';

/** `POST /events`: one custom cue, metered like every other. */
export async function sendEvent(publisher: MetadataPublisher, input: SendEventInput) {
  const eventId = newId();
  const cue = encodeCustomCue({ type: input.type, eventId, data: input.data });
  await publisher.publish(cue);
  return { eventId, bytes: cue.bytes };
}
