import type { HostPageConfig, PageConfig } from '../web/src/config';
import { localContentSecurityPolicy } from './pages-asset';
import type { StackModel } from './stack-model';

/** What the local pages' configs are made of, besides the template. */
export interface LocalPageValues {
  readonly httpApiUrl: string;
  readonly webSocketUrl: string;
  readonly playbackUrl: string;
  readonly viewerAuth: boolean;
  readonly region: string;
  readonly ivsEndpoint: string;
  /** The pages a test names instead of the stack's own: their config is made from these values. */
  readonly ownPages: boolean;
  /** Host sign-in runs locally (the Cognito stand-in started). */
  readonly signInRuns: boolean;
  readonly credentials: { readonly accessKeyId: string; readonly secretAccessKey: string };
}

/**
 * The two `config.json`s the local pages get. Each is the one the deployment writes, resolved to
 * the local endpoints, plus what only local mode has: cues from the IVS stand-in's feed while
 * nothing is published. The console signs its host in as deployed; only pages without sign-in in
 * the template (a test's own) get the runtime's credentials. The viewer page never gets any.
 */
export function localPageConfigs(
  model: StackModel,
  local: LocalPageValues,
): { viewer: PageConfig; host: HostPageConfig } {
  const viewer = {
    ...(model.pages?.config as Partial<PageConfig> | undefined),
    ...(model.pages && !local.ownPages
      ? {}
      : {
          webSocketUrl: local.webSocketUrl,
          httpApiUrl: local.httpApiUrl,
          playbackUrl: local.playbackUrl,
          viewerTokenUrl: local.viewerAuth ? `${local.httpApiUrl}viewer-token` : undefined,
          region: local.region,
        }),
    mode: 'local',
    cueEventsUrl: `${local.ivsEndpoint}/_local/metadata/events`,
  } as PageConfig;
  const signIn = (model.pages?.hostConfig as HostPageConfig | undefined)?.signIn;
  return {
    viewer,
    host: signIn && local.signInRuns ? { ...viewer, signIn } : { ...viewer, credentials: local.credentials },
  };
}

/**
 * The distribution's security headers. The WebSocket API the policy names is already its local
 * stand-in, and so are the host sign-in's origins; the stand-ins for what it allows by wildcard
 * (the HTTP API in `*.execute-api`, IVS playback in `*.live-video.net`) are added by their exact
 * loopback origins.
 */
export function localPageHeaders(
  model: StackModel,
  local: { httpApi: string; ivs: string },
): Record<string, string> {
  const headers = { ...(model.pages?.headers ?? {}) };
  const csp = headers['content-security-policy'];
  if (csp) {
    headers['content-security-policy'] = localContentSecurityPolicy(csp, {
      connect: [local.httpApi, local.ivs],
      media: [local.ivs],
    });
  }
  return headers;
}
