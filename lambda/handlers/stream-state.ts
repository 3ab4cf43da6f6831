import type { Context } from 'aws-lambda';
import { logger } from '../clients/logger';
import { loadConfig } from '../config';
import { parseStreamStateEvent, streamStateOf } from '../domain/stream-event';
import { DISPATCH_SETTINGS, dispatcherFor, READ_SETTINGS, showStoreFor } from '../services/wiring';

const config = loadConfig([...READ_SETTINGS, ...DISPATCH_SETTINGS, 'channelArn']);
const show = showStoreFor(config);
const fanOut = dispatcherFor(config);

/**
 * EventBridge `IVS Stream State Change` for our channel: stores live/offline unless a newer
 * event was already applied (IVS events can be late or out of order), and pushes a change
 * to every connection.
 */
export const handler = async (event: unknown, context: Context) => {
  logger.addContext(context);
  const parsed = parseStreamStateEvent(event);
  const state = streamStateOf(parsed.detail.event_name);
  if (!state || !parsed.resources.includes(config.channelArn)) {
    logger.info('stream event ignored', { eventName: parsed.detail.event_name, resources: parsed.resources });
    return { applied: false, changed: false };
  }
  const outcome = await show.recordStreamState(state, new Date(parsed.time).toISOString());
  if (!outcome.applied) logger.info('stale stream event ignored', { state, time: parsed.time });
  if (outcome.changed) await fanOut.dispatch({ kind: 'stream', state });
  return outcome;
};
