import { type Cue, parseCue } from '../../../client/wire';

/**
 * Where cues come from. The quiz UI only sees this interface, so it is the same code with the
 * IVS player (cues in the video, at the same frame for everyone) and in local mode (no video).
 */
export interface CueSource {
  start(onCue: (cue: Cue) => void): Promise<void>;
  stop(): void;
}

/** Local mode: the IVS stand-in's Server-Sent Events replay every accepted cue as it arrives. */
export class LocalSseCueSource implements CueSource {
  private source?: EventSource;

  constructor(private readonly url: string) {}

  async start(onCue: (cue: Cue) => void): Promise<void> {
    this.source = new EventSource(this.url);
    this.source.onmessage = (message) => {
      const envelope = JSON.parse(message.data) as { metadata: string };
      const cue = parseCue(envelope.metadata);
      if (cue) onCue(cue);
    };
  }

  stop(): void {
    this.source?.close();
  }
}

/** Deployed: the Amazon IVS Player plays the channel and raises TEXT_METADATA_CUE in sync with the video. */
export class IvsPlayerCueSource implements CueSource {
  private player?: { delete(): void };

  constructor(
    private readonly playbackUrl: string,
    private readonly video: HTMLVideoElement,
  ) {}

  async start(onCue: (cue: Cue) => void): Promise<void> {
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
    player.addEventListener(ivs.PlayerEventType.TEXT_METADATA_CUE, (cue: { text: string }) => {
      const parsed = parseCue(cue.text);
      if (parsed) onCue(parsed);
    });
    player.setAutoplay(true);
    player.load(this.playbackUrl);
    this.player = player;
  }

  stop(): void {
    this.player?.delete();
  }
}
