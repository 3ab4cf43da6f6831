import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { FaultPlan } from './faults';
import {
  awsErrorReply,
  close,
  guarded,
  HttpError,
  listen,
  readBody,
  requestUrl,
  sendAwsError,
  sendJson,
} from './http-util';
import { ChannelStreams, type IvsChannel, listStreamKeys, type StreamChangeListener } from './ivs-streams';
import { answerPreflight, CueFeed, LOCAL_CONTROL_HEADER, localCors } from './local-controls';
import { type LocalSigning, SigV4Verifier, sendSignatureError } from './sigv4';
import type { LocalVideo } from './video/local-video';

export interface Cue {
  readonly channelArn: string;
  readonly metadata: string;
  readonly receivedAt: string;
}

export interface IvsStandInOptions {
  readonly port: number;
  readonly channels: IvsChannel[];
  /**
   * Called when a channel's stream state changes, with the IVS event names to emit in order (the
   * runtime sends each to EventBridge as an "IVS Stream State Change").
   */
  readonly onStreamChange: StreamChangeListener;
  readonly log: (line: string) => void;
  /** The IVS API (`PutMetadata`, `GetStreamKey`) checks signatures for `ivs` against these. */
  readonly signing: LocalSigning;
  /** The one origin allowed to read the local controls cross-origin: the local pages. @default none */
  readonly pagesOrigin?: string;
  /** Local video: accepted cues go into it, and its playlists are served. @default none */
  readonly video?: LocalVideo;
  /** What `GET /_local/alarms` answers: the alarms as DescribeAlarms lists them. @default none */
  readonly alarms?: () => unknown;
}

/** What an injected PutMetadata fault does (R3). */
export type IvsFault =
  /** Answers 429 ThrottlingException, as IVS does over 5 TPS. */
  | 'throttle'
  /** Answers 404 ChannelNotBroadcasting, as if the stream had just dropped. */
  | 'offline'
  /** Never answers: the call hangs until `releaseHanging()` drops it, and no cue is accepted. */
  | 'hang';

/** A PutMetadata call, as fault rules see it. */
export interface PutMetadataRequest {
  readonly channelArn: string;
  readonly metadata: string;
}

const MAX_METADATA_BYTES = 1024;
const MAX_CALLS_PER_SECOND = 5;
/** Required on local controls that change state; see `IvsStandIn.control`. */

/**
 * A stand-in for the AWS IVS API on loopback: PutMetadata, GetStreamKey, GetChannel, GetStream and ListStreamKeys
 * with the real error shapes (1 KB limit, 5 TPS per channel, ChannelNotBroadcasting), plus local
 * controls.
 */
export class IvsStandIn {
  private server?: Server;
  private readonly cues: Cue[] = [];
  private readonly recentCalls = new Map<string, number[]>();
  private readonly feed = new CueFeed();
  readonly endpoint: string;
  /** PutMetadata calls answered ThrottlingException, for the benchmark and the logs. */
  throttled = 0;
  /** Injected PutMetadata faults (tests only; nothing is armed by default). */
  readonly faults = new FaultPlan<PutMetadataRequest, IvsFault>();
  private readonly hanging = new Set<ServerResponse>();
  private readonly verifier: SigV4Verifier;
  /** Each channel's stream state: it starts live; the local control and the ingest switch it. */
  readonly streams: ChannelStreams;

  constructor(private readonly options: IvsStandInOptions) {
    this.endpoint = `http://127.0.0.1:${options.port}`;
    this.verifier = new SigV4Verifier('ivs', options.signing);
    this.streams = new ChannelStreams(options.channels, options.log, options.onStreamChange);
  }

  async start(): Promise<void> {
    this.server = createServer(
      guarded(
        (req, res) => this.route(req, res),
        awsErrorReply('ValidationException', 'InternalServerException'),
      ),
    );
    await listen(this.server, this.options.port, 'IVS stand-in');
  }

  metadata(): readonly Cue[] {
    return this.cues;
  }

  /** PutMetadata calls held open by a `hang` fault right now. */
  get hangingCalls(): number {
    return this.hanging.size;
  }

  /** Drops every call a `hang` fault holds, without accepting its cue (the caller sees a reset). */
  releaseHanging(): void {
    for (const res of this.hanging) res.destroy();
    this.hanging.clear();
  }

  private async route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const { pathname } = requestUrl(req);
    if (req.method === 'OPTIONS') return answerPreflight(req, res, this.options.pagesOrigin);
    if (req.method === 'GET' && pathname.startsWith('/_local/playback/') && this.options.video) {
      return this.options.video.serve(
        res,
        this.options.channels.map((c) => c.arn),
        pathname,
      );
    }
    if (pathname.startsWith('/_local/')) return this.control(req, res, pathname);
    const body = await readBody(req, 1024 * 1024);
    const verdict = this.verifier.verify(req, body);
    if (!verdict.ok) {
      this.options.log(`[ivs] ${req.method} ${pathname} -> 403 (${verdict.message})`);
      return sendSignatureError(res, verdict, 'rest');
    }
    const key = `${req.method} ${pathname}`;
    switch (key) {
      case 'POST /PutMetadata':
        return this.putMetadata(parseObject(body), res);
      case 'POST /GetStreamKey':
        return this.getStreamKey(parseObject(body), res);
      case 'POST /GetChannel':
        return this.getChannel(parseObject(body), res);
      case 'POST /GetStream':
        return this.getStream(parseObject(body), res);
      case 'POST /ListStreamKeys': {
        const { channelArn } = parseObject(body);
        const keys = listStreamKeys(this.options.channels, channelArn);
        if (keys) return sendJson(res, 200, keys);
        return sendAwsError(res, 404, 'ResourceNotFoundException', `no channel ${String(channelArn)}`);
      }
      default:
        return sendAwsError(res, 404, 'ResourceNotFoundException', `no route ${key}`);
    }
  }

  /**
   * The local controls, which are not IVS and take no signature: `POST /_local/stream` switches
   * the stream, `GET /_local/stream` and `GET /_local/metadata` read it, and
   * `GET /_local/metadata/events` is the viewer page's cue feed (a plain GET, for `EventSource`),
   * and `GET /_local/alarms` lists the local alarms as CloudWatch's DescribeAlarms would. Only the local pages' origin may read them cross-origin, and a call that changes state needs
   * the header `X-Cuecast-Local: 1` (403 without it): a browser sends that header cross-site only
   * after a preflight, which is refused for any other origin, so no web page the developer
   * happens to open can switch the stream.
   */
  private async control(req: IncomingMessage, res: ServerResponse, pathname: string): Promise<void> {
    const cors = localCors(req, this.options.pagesOrigin);
    if (req.method !== 'GET' && req.headers[LOCAL_CONTROL_HEADER] !== '1') {
      const message = `${req.method} ${pathname} changes state: send the header X-Cuecast-Local: 1`;
      return sendJson(res, 403, { error: { code: 'FORBIDDEN', message } }, cors);
    }
    switch (`${req.method} ${pathname}`) {
      case 'POST /_local/stream':
        return this.setStream(parseObject(await readBody(req, 1024 * 1024)), res, cors);
      case 'GET /_local/stream':
        return sendJson(res, 200, this.streams.list(), cors);
      case 'GET /_local/metadata':
        return sendJson(res, 200, this.cues, cors);
      case 'GET /_local/metadata/events':
        return this.feed.subscribe(req, res, cors);
      case 'GET /_local/alarms':
        if (this.options.alarms) return sendJson(res, 200, { MetricAlarms: this.options.alarms() }, cors);
    }
    const message = `no route ${req.method} ${pathname}`;
    return sendJson(res, 404, { error: { code: 'NOT_FOUND', message } }, cors);
  }

  private putMetadata(body: Record<string, unknown>, res: ServerResponse): void {
    const { channelArn, metadata } = body;
    if (typeof channelArn !== 'string' || typeof metadata !== 'string' || metadata.length === 0) {
      return sendAwsError(res, 400, 'ValidationException', 'channelArn and metadata are required');
    }
    if (!this.streams.has(channelArn))
      return sendAwsError(res, 404, 'ResourceNotFoundException', `no channel ${channelArn}`);
    if (Buffer.byteLength(metadata, 'utf8') > MAX_METADATA_BYTES) {
      return sendAwsError(res, 400, 'ValidationException', 'metadata must be at most 1 KB');
    }
    const fault = this.faults.take({ channelArn, metadata });
    if (fault === 'throttle') {
      this.throttled++;
      this.options.log('[ivs] PutMetadata throttled (injected fault)');
      return sendAwsError(res, 429, 'ThrottlingException', 'Request rate exceeded for this channel');
    }
    if (fault === 'offline')
      return sendAwsError(res, 404, 'ChannelNotBroadcasting', 'Channel is not currently online');
    if (fault === 'hang') {
      this.hanging.add(res);
      res.on('close', () => this.hanging.delete(res));
      this.options.log('[ivs] PutMetadata hanging (injected fault)');
      return;
    }
    const now = Date.now();
    const recent = (this.recentCalls.get(channelArn) ?? []).filter((t) => now - t < 1000);
    if (recent.length >= MAX_CALLS_PER_SECOND) {
      this.recentCalls.set(channelArn, recent);
      this.throttled++;
      this.options.log(`[ivs] PutMetadata throttled (${recent.length} calls in the last second)`);
      return sendAwsError(res, 429, 'ThrottlingException', 'Request rate exceeded for this channel');
    }
    if (this.streams.state(channelArn) !== 'live') {
      return sendAwsError(res, 404, 'ChannelNotBroadcasting', 'Channel is not currently online');
    }
    recent.push(now);
    this.recentCalls.set(channelArn, recent);
    const cue: Cue = { channelArn, metadata, receivedAt: new Date(now).toISOString() };
    this.cues.push(cue);
    this.feed.publish(cue);
    const inVideo = this.options.video?.insertCue(channelArn, metadata);
    const where = inVideo ? ` (in the video at PTS ${inVideo.pts})` : '';
    this.options.log(`[ivs] PutMetadata ${Buffer.byteLength(metadata)} B${where} ${metadata.slice(0, 80)}`);
    res.writeHead(204).end();
  }

  private getStreamKey(body: Record<string, unknown>, res: ServerResponse): void {
    const channel = this.options.channels.find((c) => c.streamKeyArn === body.arn);
    if (!channel)
      return sendAwsError(res, 404, 'ResourceNotFoundException', `no stream key ${String(body.arn)}`);
    sendJson(res, 200, {
      streamKey: {
        arn: channel.streamKeyArn,
        channelArn: channel.arn,
        value: channel.streamKeyValue,
        tags: {},
      },
    });
  }

  /** `GetChannel`: the channel's configuration, as IVS answers it. */
  private getChannel(body: Record<string, unknown>, res: ServerResponse): void {
    const channel = this.options.channels.find((c) => c.arn === body.arn);
    if (!channel)
      return sendAwsError(res, 404, 'ResourceNotFoundException', `no channel ${String(body.arn)}`);
    sendJson(res, 200, {
      channel: {
        arn: channel.arn,
        name: channel.name,
        type: channel.type,
        latencyMode: channel.latencyMode,
        ingestEndpoint: '127.0.0.1',
        playbackUrl: channel.playbackUrl,
        authorized: false,
        insecureIngest: false,
        recordingConfigurationArn: '',
        preset: '',
        tags: {},
      },
    });
  }

  /**
   * `GetStream`: the live stream and how many watch it (`viewerCount`, see
   * `LocalVideo.viewerCount`); `ChannelNotBroadcasting` while the channel is offline, as IVS.
   */
  private getStream(body: Record<string, unknown>, res: ServerResponse): void {
    const channel = this.options.channels.find((c) => c.arn === body.channelArn);
    if (!channel)
      return sendAwsError(res, 404, 'ResourceNotFoundException', `no channel ${String(body.channelArn)}`);
    const startTime = this.streams.startTime(channel.arn);
    if (!startTime)
      return sendAwsError(res, 404, 'ChannelNotBroadcasting', 'Channel is not currently online');
    sendJson(res, 200, {
      stream: {
        channelArn: channel.arn,
        streamId: `st-local${startTime.getTime().toString(36)}`,
        playbackUrl: channel.playbackUrl,
        startTime: startTime.toISOString(),
        state: 'LIVE',
        health: 'HEALTHY',
        viewerCount: this.options.video?.viewerCount(channel.arn) ?? 0,
      },
    });
  }

  private setStream(body: Record<string, unknown>, res: ServerResponse, cors: Record<string, string>): void {
    const reply = this.streams.control(body);
    sendJson(res, reply.status, reply.body, cors);
  }

  async stop(): Promise<void> {
    this.releaseHanging();
    this.feed.close();
    if (this.server) await close(this.server);
  }
}

/** A JSON object body; anything else that parses is an empty request, anything unparsable a 400. */
function parseObject(body: Buffer): Record<string, unknown> {
  try {
    const parsed = JSON.parse(body.toString('utf8') || '{}');
    return parsed && typeof parsed === 'object' && !Array.isArray(parsed) ? parsed : {};
  } catch {
    throw new HttpError(400, 'body is not valid JSON');
  }
}
