import { GetStreamCommand, type IvsClient } from '@aws-sdk/client-ivs';
import { RateLimitedError } from '../domain/errors';

/** The channel's stream as IVS reports it: live with its viewers, or offline. */
export interface StreamStatus {
  readonly state: 'live' | 'offline';
  /** IVS's count of current views (live only; IVS updates it about once a minute). */
  readonly viewerCount?: number;
  readonly startTime?: string;
  /** `HEALTHY`, `STARVING` or `UNKNOWN` (live only). */
  readonly health?: string;
}

/** How long a read is reused: every console of every host polls, and GetStream has a rate quota. */
export const STREAM_STATUS_CACHE_MS = 5000;

/**
 * Reads the channel's stream with IVS `GetStream`, at most once per {@link STREAM_STATUS_CACHE_MS}
 * per container. `ChannelNotBroadcasting` is an offline stream, not an error. When IVS throttles,
 * the last reading is reused; with none, the caller gets a 429 to retry.
 */
export class StreamStatusReader {
  private last?: { status: StreamStatus; at: number };

  constructor(
    private readonly ivs: IvsClient,
    private readonly channelArn: string,
    private readonly now: () => number = () => Date.now(),
  ) {}

  async read(): Promise<StreamStatus> {
    if (this.last && this.now() - this.last.at < STREAM_STATUS_CACHE_MS) return this.last.status;
    let status: StreamStatus;
    try {
      const { stream } = await this.ivs.send(new GetStreamCommand({ channelArn: this.channelArn }));
      status =
        stream?.state === 'LIVE'
          ? {
              state: 'live',
              viewerCount: stream.viewerCount ?? 0,
              startTime: stream.startTime?.toISOString(),
              health: stream.health,
            }
          : { state: 'offline' };
    } catch (error) {
      const name = (error as { name?: string } | null)?.name;
      if (name === 'ChannelNotBroadcasting') status = { state: 'offline' };
      else if (name === 'ThrottlingException' && this.last) return this.last.status;
      else if (name === 'ThrottlingException')
        throw new RateLimitedError(1, 'IVS is throttling GetStream; retry in 1 s');
      else throw error;
    }
    this.last = { status, at: this.now() };
    return status;
  }
}
