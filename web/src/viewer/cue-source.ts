import { type Cue, parseCue } from '../../../client/wire';

/** How a cue reached the page: in the video through the player, or the local runtime's feed. */
export type CueOrigin = 'player' | 'feed';

export type CueHandler = (cue: Cue, origin: CueOrigin) => void;

/**
 * Where cues come from. The quiz UI only sees this interface, so it is the same code with the
 * IVS player (cues in the video, at the same frame for everyone) and in local mode with no video.
 */
export interface CueSource {
  start(onCue: CueHandler): Promise<void>;
  stop(): void;
}

/** Local mode: the IVS stand-in's Server-Sent Events replay every accepted cue as it arrives. */
export class LocalSseCueSource implements CueSource {
  private source?: EventSource;

  constructor(private readonly url: string) {}

  async start(onCue: CueHandler): Promise<void> {
    this.source = new EventSource(this.url);
    this.source.onmessage = (message) => {
      const envelope = JSON.parse(message.data) as { metadata: string };
      const cue = parseCue(envelope.metadata);
      if (cue) onCue(cue, 'feed');
    };
  }

  stop(): void {
    this.source?.close();
  }
}

/**
 * How long after its start (in video time) the page shows a cue from the player. The IVS Player
 * raises `TEXT_METADATA_CUE` once its playhead has passed the cue, which it checks a few times a
 * second: a cue reaches the page up to about 0.27 s after its frame, by a different amount on
 * each screen (measured in `npm run bench`, P5). Shown at the first frame presented past
 * start + this, every screen shows it at the same frame.
 */
export const CUE_ALIGN_SECONDS = 0.3;

/** Deployed: the Amazon IVS Player plays the channel and raises TEXT_METADATA_CUE in sync with the video. */
export class IvsPlayerCueSource implements CueSource {
  private player?: { delete(): void };
  private stopped = false;

  /** `onGone` is told when playback fails or the stream ends (local mode then falls back). */
  constructor(
    private readonly playbackUrl: string,
    private readonly video: HTMLVideoElement,
    private readonly onGone?: (why: string) => void,
  ) {}

  async start(onCue: CueHandler): Promise<void> {
    // Loaded only when there is video to play: local mode never downloads the player.
    const [ivs, worker, binary] = await Promise.all([
      import('amazon-ivs-player'),
      // The player runs in a WebAssembly worker that must be served beside the page.
      import('amazon-ivs-player/dist/assets/amazon-ivs-wasmworker.min.js?url'),
      import('amazon-ivs-player/dist/assets/amazon-ivs-wasmworker.min.wasm?url'),
    ]);
    const wasmWorker = worker.default;
    const wasmBinary = binary.default;
    if (!ivs.isPlayerSupported) throw new Error('this browser cannot play IVS streams');
    const player = ivs.create({ wasmWorker, wasmBinary });
    player.attachHTMLVideoElement(this.video);
    player.addEventListener(
      ivs.PlayerEventType.TEXT_METADATA_CUE,
      (cue: { text: string; startTime: number }) => {
        const parsed = parseCue(cue.text);
        if (parsed) this.atVideoTime(cue.startTime + CUE_ALIGN_SECONDS, () => onCue(parsed, 'player'));
      },
    );
    const onGone = this.onGone;
    if (onGone) {
      player.addEventListener(ivs.PlayerEventType.ERROR, (error: { message?: string }) =>
        onGone(error.message ?? 'playback error'),
      );
      player.addEventListener(ivs.PlayerState.ENDED, () => onGone('the stream ended'));
    }
    // Browsers let a page start video by itself only muted; the controls unmute it.
    player.setMuted(true);
    player.setAutoplay(true);
    player.load(this.playbackUrl);
    this.player = player;
  }

  /** Runs `show` when the first frame at or past `time` (video seconds) is presented. */
  private atVideoTime(time: number, show: () => void): void {
    const video = this.video;
    const check = (presented: number) => {
      if (this.stopped) return;
      if (presented >= time) show();
      else if (typeof video.requestVideoFrameCallback === 'function')
        video.requestVideoFrameCallback((_now, frame) => check(frame.mediaTime));
      else window.requestAnimationFrame(() => check(video.currentTime));
    };
    check(video.currentTime);
  }

  stop(): void {
    this.stopped = true;
    this.player?.delete();
  }
}

/**
 * Local mode: the same player as in `aws` mode while the local ingest has video (OBS, or
 * `npm run dev -- --test-stream`), and the runtime's cue feed while it has none. It checks for a
 * playlist every few seconds, and falls back to the feed when playback fails or the stream ends.
 */
export class LocalCueSource implements CueSource {
  private current?: CueSource;
  private timer?: number;
  private stopped = false;

  constructor(
    private readonly playbackUrl: string,
    private readonly cueEventsUrl: string,
    private readonly video: HTMLVideoElement,
    private readonly pollMs = 2000,
  ) {}

  async start(onCue: CueHandler): Promise<void> {
    await this.useFeed(onCue);
  }

  private async useFeed(onCue: CueHandler): Promise<void> {
    this.current?.stop();
    this.video.hidden = true;
    this.current = new LocalSseCueSource(this.cueEventsUrl);
    await this.current.start(onCue);
    const check = async () => {
      if (this.stopped) return;
      const live = await fetch(this.playbackUrl, { cache: 'no-store' }).then(
        (res) => res.ok,
        () => false,
      );
      if (this.stopped) return;
      if (live) await this.usePlayer(onCue);
      else this.timer = window.setTimeout(check, this.pollMs);
    };
    this.timer = window.setTimeout(check, 0);
  }

  private async usePlayer(onCue: CueHandler): Promise<void> {
    this.current?.stop();
    this.video.hidden = false;
    let gone = false;
    this.current = new IvsPlayerCueSource(this.playbackUrl, this.video, () => {
      if (gone || this.stopped) return;
      gone = true;
      void this.useFeed(onCue);
    });
    await this.current.start(onCue);
  }

  stop(): void {
    this.stopped = true;
    window.clearTimeout(this.timer);
    this.current?.stop();
  }
}
