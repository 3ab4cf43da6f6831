import { randomBytes, randomUUID } from 'node:crypto';

export interface IvsChannel {
  readonly arn: string;
  readonly name: string;
  readonly playbackUrl: string;
  readonly type: string;
  readonly latencyMode: string;
  readonly streamKeyArn?: string;
  readonly streamKeyValue: string;
}

export type StreamState = 'live' | 'offline';

/** Told of each change, with the IVS event names to emit in order. */
export type StreamChangeListener = (
  channel: IvsChannel,
  state: StreamState,
  eventNames: readonly string[],
) => void;

/**
 * The IVS stand-in's stream state per channel, and the events IVS sends when it changes. It
 * starts live (there may be no video at all); the local control `POST /_local/stream` and the
 * local ingest switch it.
 */
export class ChannelStreams {
  private readonly live = new Map<string, boolean>();
  /** When each live channel's stream started (the runtime's start for one live from the outset). */
  private readonly since = new Map<string, Date>();

  constructor(
    private readonly channels: readonly IvsChannel[],
    private readonly log: (line: string) => void,
    private readonly onChange: StreamChangeListener,
  ) {
    const now = new Date();
    for (const channel of channels) {
      this.live.set(channel.arn, true);
      this.since.set(channel.arn, now);
    }
  }

  has(channelArn: string): boolean {
    return this.live.has(channelArn);
  }

  state(channelArn: string): StreamState {
    return this.live.get(channelArn) ? 'live' : 'offline';
  }

  /** When the channel's current stream started; undefined while it is offline. */
  startTime(channelArn: string): Date | undefined {
    return this.state(channelArn) === 'live' ? this.since.get(channelArn) : undefined;
  }

  list(): Array<{ channelArn: string; state: StreamState }> {
    return this.channels.map((c) => ({ channelArn: c.arn, state: this.state(c.arn) }));
  }

  /**
   * `POST /_local/stream` `{"state", "channelArn"?}`: switches one channel or all, emitting
   * "Stream Start" or "Stream End" for each that changed. Returns the reply to send.
   */
  control(body: Record<string, unknown>): { status: number; body: unknown } {
    const state = body.state;
    if (state !== 'live' && state !== 'offline') {
      return {
        status: 400,
        body: { error: { code: 'BAD_REQUEST', message: 'state: must be "live" or "offline"' } },
      };
    }
    const targets = this.channels.filter((c) => body.channelArn === undefined || c.arn === body.channelArn);
    if (targets.length === 0) {
      return {
        status: 404,
        body: { error: { code: 'NOT_FOUND', message: `no channel ${String(body.channelArn)}` } },
      };
    }
    for (const channel of targets) {
      this.change(channel, state, [state === 'live' ? 'Stream Start' : 'Stream End'], 'local control');
    }
    return { status: 200, body: targets.map((c) => ({ channelArn: c.arn, state: this.state(c.arn) })) };
  }

  /**
   * A publisher started or stopped on the local ingest: the stream goes live with a new session
   * ("Session Created", then "Stream Start"), or offline ("Stream End", then "Session Ended"), as
   * IVS reports a broadcast. The events go out even when the state was already so, since a new
   * broadcast session is news of its own.
   */
  publishing(channelArn: string, publishing: boolean): void {
    const channel = this.channels.find((c) => c.arn === channelArn);
    if (!channel) return;
    if (publishing) this.change(channel, 'live', ['Session Created', 'Stream Start'], 'publisher', true);
    else this.change(channel, 'offline', ['Stream End', 'Session Ended'], 'publisher gone', true);
  }

  private change(
    channel: IvsChannel,
    state: StreamState,
    eventNames: readonly string[],
    cause: string,
    always = false,
  ): void {
    const changed = this.state(channel.arn) !== state;
    this.live.set(channel.arn, state === 'live');
    if (changed && state === 'live') this.since.set(channel.arn, new Date());
    if (!changed && !always) return;
    this.log(`[ivs] stream ${state} (${cause}): ${channel.arn}`);
    this.onChange(channel, state, eventNames);
  }
}

/** A stream key value for the local channel: random, like a real one, and never printed. */
export const newStreamKeyValue = (): string => `sk_local_${randomBytes(18).toString('base64url')}`;

/** The EventBridge event IVS sends on a stream state change (`eventName` defaults from the state). */
export function streamStateEvent(
  channel: IvsChannel,
  state: StreamState,
  region: string,
  accountId: string,
  eventName = state === 'live' ? 'Stream Start' : 'Stream End',
) {
  return {
    version: '0',
    id: randomUUID(),
    'detail-type': 'IVS Stream State Change',
    source: 'aws.ivs',
    account: accountId,
    // Milliseconds, unlike AWS's whole seconds, so quick local toggles stay in order.
    time: new Date().toISOString(),
    region,
    resources: [channel.arn],
    detail: {
      event_name: eventName,
      channel_name: channel.name,
      stream_id: `st-local-${Date.now()}`,
    },
  };
}

/**
 * `ListStreamKeys` (IVS): the channel's stream key, without its value (IVS lists only ARNs and
 * tags); `undefined` for a channel the stand-in does not have (ResourceNotFoundException).
 */
export function listStreamKeys(channels: readonly IvsChannel[], channelArn: unknown) {
  const channel = channels.find((c) => c.arn === channelArn);
  if (!channel) return undefined;
  const keys = channel.streamKeyArn ? [{ arn: channel.streamKeyArn, channelArn: channel.arn, tags: {} }] : [];
  return { streamKeys: keys };
}
