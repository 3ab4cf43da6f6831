/**
 * What a page needs to know, from `config.json` beside it: the stack writes it at deploy time
 * from its own values (lib/constructs/show-pages.ts), and the local runtime serves the same
 * file resolved to its endpoints, in `local` mode.
 */
export interface PageConfig {
  /** `local`: cues come from the IVS stand-in's SSE stream; `aws`: from the IVS player. */
  readonly mode: 'local' | 'aws';
  readonly webSocketUrl: string;
  readonly httpApiUrl: string;
  /**
   * The channel's PlaybackUrl. In local mode, the local ingest's playlist: the page plays it while
   * something publishes, and takes cues from the feed while nothing does.
   */
  readonly playbackUrl?: string;
  /** local mode: the IVS stand-in's `/_local/metadata/events`. */
  readonly cueEventsUrl?: string;
  readonly region?: string;
  /**
   * With viewer auth on (docs/protocol.md §5): the HTTP API's `POST /viewer-token`, where the viewer
   * page gets the token it connects with. Absent means viewer auth is off.
   */
  readonly viewerTokenUrl?: string;
}

/** How the host console signs a host in (docs/protocol.md §6.4): Cognito, then temporary credentials. */
export interface HostSignInConfig {
  readonly region: string;
  readonly userPoolId: string;
  /** The console's app client (no secret: authorization code with PKCE). */
  readonly clientId: string;
  /** The managed login, `https://<prefix>.auth.<region>.amazoncognito.com`. */
  readonly domain: string;
  /** Exchanges the ID token for credentials that may call the host routes only. */
  readonly identityPoolId: string;
  /** The identity pool's endpoint, `https://cognito-identity.<region>.amazonaws.com`. */
  readonly identityEndpoint: string;
}

/**
 * What the host console reads from `host/config.json`: the page config, the sign-in settings
 * of a deployed stack, and, in local mode only, the runtime's throwaway credentials. The viewer's
 * `config.json` carries neither.
 */
export interface HostPageConfig extends PageConfig {
  readonly signIn?: HostSignInConfig;
  readonly credentials?: { accessKeyId: string; secretAccessKey: string };
}

/** Reads the `config.json` beside the page: a `HostPageConfig` for the host console. */
export async function loadConfig<T extends PageConfig = PageConfig>(): Promise<T> {
  const res = await fetch('./config.json', { cache: 'no-store' });
  if (!res.ok) throw new Error(`config.json: HTTP ${res.status}`);
  return (await res.json()) as T;
}
