import { PutMetadataCommand } from '@aws-sdk/client-ivs';
import { ivs } from '../clients/ivs';
import { logger } from '../clients/logger';
import { count, countBy } from '../clients/metrics';
import type { EncodedCue } from '../domain/cue';
import { ChannelNotBroadcastingError, RateLimitedError } from '../domain/errors';
import { decideAdmission, retryAfterSeconds } from '../domain/rate-window';
import { METRIC, METRIC_DIMENSIONS } from '../metric-names';
import type { RateWindowStore } from '../store/rate-window-store';

/** Lost races on the rate window before we give up and ask the host to retry. */
const MAX_RACES = 6;

/**
 * IVS counts calls when they arrive; we decide before sending. A margin over the 1 s window
 * absorbs the jitter between the two, so six calls never land inside one IVS second.
 * Measured by `npm run bench` (P4): without it, a few admitted calls came back throttled.
 */
export const RATE_WINDOW_MS = 1000 + 150;

/**
 * Sends cues to one IVS channel, never more than `ratePerSecond` in any rolling second
 * across every concurrent Lambda: each call first takes a slot in a DynamoDB sliding-window
 * log with a conditional write.
 */
export class MetadataPublisher {
  constructor(
    private readonly channelArn: string,
    private readonly window: RateWindowStore,
    private readonly ratePerSecond: number,
    private readonly clock: () => number = Date.now,
  ) {}

  async publish(cue: EncodedCue): Promise<void> {
    try {
      await this.admit();
    } catch (error) {
      countBy(METRIC.cuesRefused, METRIC_DIMENSIONS.reason, 'RATE_LIMITED');
      throw error;
    }
    try {
      await ivs.send(new PutMetadataCommand({ channelArn: this.channelArn, metadata: cue.metadata }));
    } catch (error) {
      const translated = translateIvsError(error);
      countBy(METRIC.cuesRefused, METRIC_DIMENSIONS.reason, refusalReason(translated));
      throw translated;
    }
    count(METRIC.cuesSent);
  }

  private async admit(): Promise<void> {
    for (let race = 0; race < MAX_RACES; race++) {
      const seen = await this.window.readRateWindow(this.channelArn, this.ratePerSecond);
      const now = this.clock();
      const decision = decideAdmission(seen, now, this.ratePerSecond, RATE_WINDOW_MS);
      if (!decision.admit) throw new RateLimitedError(retryAfterSeconds(decision.retryAfterMs));
      if (await this.window.takeRateSlot(this.channelArn, seen.seq, decision.slot, now)) return;
    }
    logger.warn('metadata rate window: too many lost races', { channelArn: this.channelArn });
    throw new RateLimitedError(1);
  }
}

/** A refused cue's reason, as the CuesRefused metric names it. */
function refusalReason(error: unknown): string {
  if (error instanceof ChannelNotBroadcastingError) return 'CHANNEL_NOT_BROADCASTING';
  if (error instanceof RateLimitedError) return 'IVS_THROTTLED';
  return 'OTHER';
}

/** IVS's own refusals become contract errors; anything else is ours to investigate. */
export function translateIvsError(error: unknown): unknown {
  const name = (error as { name?: string } | null)?.name;
  if (name === 'ChannelNotBroadcasting') return new ChannelNotBroadcastingError();
  if (name === 'ThrottlingException') {
    return new RateLimitedError(1, 'IVS is throttling timed metadata on this channel; retry in 1 s');
  }
  return error;
}
