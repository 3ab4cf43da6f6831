/**
 * A client for the host API (docs/protocol.md §3), signed with SigV4 for `execute-api`. Isomorphic:
 * it needs only `fetch` and a SHA-256 implementation, so the host CLI (Node) and the host
 * console (browser) share it.
 */
import { SignatureV4 } from '@smithy/signature-v4';
import type { QuizKind, QuizPhase, RevealFigures, ShowState } from './wire';

export interface HostCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
}

type Sha256Constructor = ConstructorParameters<typeof SignatureV4>[0]['sha256'];

export interface HostClientOptions {
  /** The `HttpApiUrl` output, or `httpApiUrl` of `.cuecast/local.json`. */
  readonly apiUrl: string;
  readonly region: string;
  readonly credentials: HostCredentials | (() => Promise<HostCredentials>);
  readonly sha256: Sha256Constructor;
  readonly fetch?: typeof fetch;
}

/** An error reply of the API, with the contract's code (`BAD_REQUEST`, `RATE_LIMITED`, …). */
export class HostApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
    this.name = 'HostApiError';
  }
}

export interface CreateQuizRequest {
  question: string;
  choices: string[];
  /** `poll`: no correct answer, no grades. @default 'quiz' */
  kind?: QuizKind;
  /** Required for a quiz, refused for a poll. */
  correctIndex?: number;
  /** A poll only: viewers see the running counts while it is open. @default false */
  liveResults?: boolean;
  durationSeconds?: number;
}

export interface CreatedQuiz {
  quizId: string;
  opensAt: string;
  closesAt: string;
  /** Answers are taken until `answersCloseAt`: `closesAt` plus this. */
  graceSeconds: number;
  answersCloseAt: string;
}

/** The reveal's reply: the figures the result cue carries (no `correctIndex` for a poll). */
export type RevealedQuiz = RevealFigures;

export interface QuizDetails extends RevealedQuiz {
  question: string;
  choices: string[];
  state: QuizPhase;
  opensAt: string;
  closesAt: string;
  graceSeconds: number;
  /** From then on a reveal needs no `force`. */
  answersCloseAt: string;
}

/** `GET /show`: the host's cockpit (docs/protocol.md §3.11). */
export interface ShowOverview {
  stream: {
    state: 'live' | 'offline';
    /** IVS's count of current views, while live. */
    viewerCount?: number;
    startTime?: string;
    health?: string;
  };
  currentQuizId?: string;
  /** The latest quizzes and polls, newest first. */
  quizzes: QuizDetails[];
}

export class HostClient {
  private readonly base: URL;
  private readonly fetcher: typeof fetch;

  constructor(private readonly options: HostClientOptions) {
    this.base = new URL(options.apiUrl.endsWith('/') ? options.apiUrl : `${options.apiUrl}/`);
    this.fetcher = options.fetch ?? ((input, init) => fetch(input, init));
  }

  createQuiz(request: CreateQuizRequest): Promise<CreatedQuiz> {
    return this.call('POST', 'quizzes', request);
  }

  /**
   * Reveals a quiz. Before its answers close (`closesAt` plus the grace) the API refuses with
   * `ANSWERS_STILL_OPEN` and `Retry-After`, unless `force` cuts the late viewers short.
   */
  revealQuiz(quizId: string, options: { force?: boolean } = {}): Promise<RevealedQuiz> {
    const query = options.force ? '?force=true' : '';
    return this.call('POST', `quizzes/${encodeURIComponent(quizId)}/reveal${query}`);
  }

  getQuiz(quizId: string): Promise<QuizDetails> {
    return this.call('GET', `quizzes/${encodeURIComponent(quizId)}`);
  }

  /** The stream with its viewers, the current quiz, and the show's latest quizzes. */
  show(): Promise<ShowOverview> {
    return this.call('GET', 'show');
  }

  sendEvent(type: string, data: unknown): Promise<{ eventId: string; bytes: number }> {
    return this.call('POST', 'events', { type, data });
  }

  /** Public: not signed. */
  state(): Promise<ShowState> {
    return this.call('GET', 'state', undefined, false);
  }

  private async call<T>(method: string, route: string, body?: unknown, sign = true): Promise<T> {
    const url = new URL(route, this.base);
    const text = body === undefined ? undefined : JSON.stringify(body);
    let headers: Record<string, string> = { host: url.host, accept: 'application/json' };
    if (text !== undefined) headers['content-type'] = 'application/json';
    if (sign) {
      const credentials =
        typeof this.options.credentials === 'function'
          ? await this.options.credentials()
          : this.options.credentials;
      const signer = new SignatureV4({
        credentials,
        region: this.options.region,
        service: 'execute-api',
        sha256: this.options.sha256,
      });
      const signed = await signer.sign({
        method,
        protocol: url.protocol,
        hostname: url.hostname,
        port: url.port ? Number(url.port) : undefined,
        path: url.pathname,
        query: Object.fromEntries(url.searchParams),
        headers,
        body: text,
      });
      headers = signed.headers as Record<string, string>;
    }
    // Browsers and undici set Host themselves from the URL.
    const { host: _host, ...sendable } = headers;
    const res = await this.fetcher(url, { method, headers: sendable, body: text });
    const raw = await res.text();
    let parsed: unknown;
    try {
      parsed = raw ? JSON.parse(raw) : undefined;
    } catch {
      parsed = undefined;
    }
    if (res.ok) return parsed as T;
    const reply = parsed as { error?: { code?: string; message?: string }; message?: string } | undefined;
    const code = reply?.error?.code ?? (res.status === 403 ? 'FORBIDDEN' : `HTTP_${res.status}`);
    const message = reply?.error?.message ?? reply?.message ?? (raw || res.statusText);
    const retryAfter = res.headers.get('retry-after');
    throw new HostApiError(res.status, code, message, retryAfter ? Number(retryAfter) : undefined);
  }
}
