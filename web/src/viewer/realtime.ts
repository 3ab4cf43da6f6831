import { LATEST_PUSH_VERSION, type ServerMessage } from '../../../client/wire';

export type ConnectionState = 'connecting' | 'open' | 'reconnecting';

export interface RealtimeOptions {
  readonly url: string;
  /**
   * With viewer auth on: the token for `?token=` on every (re)connect, and a hook for a
   * connection that closed before it opened (a browser cannot see the 401). @default none
   */
  readonly auth?: { token(): Promise<string>; connectFailed(): void };
  readonly onMessage: (message: ServerMessage) => void;
  readonly onConnection: (state: ConnectionState) => void;
  /** Well under API Gateway's 10-minute idle timeout. @default 60_000 */
  readonly pingEveryMs?: number;
}

/**
 * The viewer's WebSocket: `sync` on every open (a late joiner or a reconnect gets the current
 * state), `ping` often enough to beat the idle timeout, and reconnection with exponential
 * backoff and jitter (0.5 s doubling to 15 s), since API Gateway closes every connection within 2 h.
 */
export class RealtimeClient {
  private socket?: WebSocket;
  private attempt = 0;
  private pingTimer?: number;
  private stopped = false;
  /** Server clock minus ours, from pong round trips. */
  clockOffsetMs = 0;
  private pingSentAt = 0;

  constructor(private readonly options: RealtimeOptions) {}

  start(): void {
    this.open();
  }

  send(message: Record<string, unknown>): boolean {
    if (this.socket?.readyState !== WebSocket.OPEN) return false;
    this.socket.send(JSON.stringify(message));
    return true;
  }

  private open(): void {
    this.options.onConnection(this.attempt === 0 ? 'connecting' : 'reconnecting');
    // Pushes v2: a viewer who answered gets the result and the grade in one message.
    const url = new URL(this.options.url);
    url.searchParams.set('v', String(LATEST_PUSH_VERSION));
    const auth = this.options.auth;
    if (!auth) return this.connect(url.toString());
    auth.token().then(
      (token) => {
        url.searchParams.set('token', token);
        this.connect(url.toString());
      },
      () => this.retryLater(),
    );
  }

  private connect(url: string): void {
    if (this.stopped) return;
    const socket = new WebSocket(url);
    this.socket = socket;
    let opened = false;
    socket.onopen = () => {
      opened = true;
      this.attempt = 0;
      this.options.onConnection('open');
      this.send({ action: 'sync' });
      this.ping();
      window.clearInterval(this.pingTimer);
      this.pingTimer = window.setInterval(() => this.ping(), this.options.pingEveryMs ?? 60_000);
    };
    socket.onmessage = (event) => {
      let message: ServerMessage;
      try {
        message = JSON.parse(String(event.data));
      } catch {
        return;
      }
      if (message.type === 'pong') {
        const now = Date.now();
        this.clockOffsetMs = message.t - (this.pingSentAt + now) / 2;
      }
      this.options.onMessage(message);
    };
    socket.onclose = () => {
      window.clearInterval(this.pingTimer);
      if (!opened) this.options.auth?.connectFailed();
      this.retryLater();
    };
  }

  private retryLater(): void {
    if (this.stopped) return;
    const delay = Math.min(15_000, 500 * 2 ** this.attempt) * (0.75 + Math.random() * 0.5);
    this.attempt++;
    this.options.onConnection('reconnecting');
    window.setTimeout(() => this.open(), delay);
  }

  private ping(): void {
    this.pingSentAt = Date.now();
    this.send({ action: 'ping' });
  }

  stop(): void {
    this.stopped = true;
    window.clearInterval(this.pingTimer);
    this.socket?.close();
  }
}
