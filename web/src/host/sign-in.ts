import { authorizeUrl, identityPoolCall, loginsOf, oauthCall } from '../../../client/cognito-calls';
import type { HostCredentials } from '../../../client/host-client';
import type { HostSignInConfig } from '../config';

/**
 * Host sign-in in the console (docs/protocol.md §6.4): the managed login with the authorization
 * code and PKCE, then the identity pool's temporary credentials, which the console signs its
 * requests with. Tokens live in this tab's sessionStorage only; credentials are renewed before
 * they expire, and sign-out revokes the refresh token and ends the managed login's session.
 */

const KEY = 'cuecast.host.signIn';
const PENDING = 'cuecast.host.pending';
const SIGNED_OUT = 'cuecast.host.signedOut';
/** Renew when this much of a credential's life is left (or half of it, if it is shorter). */
const RENEW_AHEAD_MS = 5 * 60 * 1000;

interface Tokens {
  readonly idToken: string;
  readonly refreshToken: string;
  /** Epoch ms, from the ID token's `exp`. */
  readonly idExpiresAt: number;
  readonly email: string;
}

interface Minted extends HostCredentials {
  /** Epoch ms. */
  readonly expiresAt: number;
  readonly renewAt: number;
}

/** Why there is no session now: what the console says, above its Sign in button. */
class SignInNeeded extends Error {}

const b64url = (bytes: ArrayBuffer | Uint8Array): string =>
  btoa(String.fromCharCode(...new Uint8Array(bytes)))
    .replace(/\+/g, '-')
    .replace(/\//g, '_')
    .replace(/=+$/, '');
const randomText = (bytes: number): string => b64url(crypto.getRandomValues(new Uint8Array(bytes)));

function claimsOf(idToken: string): { exp: number; email?: string } {
  const body = idToken.split('.')[1] ?? '';
  return JSON.parse(atob(body.replace(/-/g, '+').replace(/_/g, '/')));
}

export class HostSession {
  private tokens?: Tokens;
  private minted?: Minted;
  private identityId?: string;
  private renewing?: Promise<Minted>;
  private timer?: number;

  constructor(
    private readonly config: HostSignInConfig,
    /** The console's own URL: the client's callback and sign-out URL. */
    private readonly consoleUrl: string,
    /** Told when the session ends by itself (the refresh token no longer works). */
    private readonly onEnded: (reason: string) => void,
  ) {
    const stored = sessionStorage.getItem(KEY);
    if (stored) this.tokens = JSON.parse(stored) as Tokens;
  }

  get email(): string | undefined {
    return this.tokens?.email;
  }

  /** True right after a sign-out came back here: the console offers to sign in, no more. */
  static justSignedOut(): boolean {
    const flag = sessionStorage.getItem(SIGNED_OUT) !== null;
    sessionStorage.removeItem(SIGNED_OUT);
    return flag;
  }

  /** Goes to the managed login; it comes back to the console with a code. */
  async signIn(): Promise<never> {
    const verifier = randomText(48);
    const state = randomText(24);
    const challenge = b64url(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier)));
    sessionStorage.setItem(PENDING, JSON.stringify({ verifier, state }));
    const url = authorizeUrl(this.config, { redirectUri: this.consoleUrl, state, codeChallenge: challenge });
    location.assign(url.toString());
    return new Promise<never>(() => undefined);
  }

  /**
   * Finishes a sign-in the managed login sent back (`?code=…&state=…`, or `?error=…`), and takes
   * those parameters off the address bar. False when the page was not opened that way.
   */
  async completeSignIn(): Promise<boolean> {
    const params = new URLSearchParams(location.search);
    const code = params.get('code');
    const error = params.get('error');
    if (!code && !error) return false;
    history.replaceState(null, '', this.consoleUrl);
    const pending = JSON.parse(sessionStorage.getItem(PENDING) ?? 'null') as {
      verifier: string;
      state: string;
    } | null;
    sessionStorage.removeItem(PENDING);
    if (error) throw new SignInNeeded(`Sign-in failed: ${error}. Sign in again.`);
    if (!pending || pending.state !== params.get('state'))
      throw new SignInNeeded('That sign-in did not start here (its state does not match). Sign in again.');
    const reply = await this.tokenCall({
      grant_type: 'authorization_code',
      client_id: this.config.clientId,
      code: code as string,
      redirect_uri: this.consoleUrl,
      code_verifier: pending.verifier,
    });
    this.keep(reply.id_token, reply.refresh_token);
    return true;
  }

  /** Credentials for the next request: the current ones, or new ones when they near their end. */
  async credentials(): Promise<HostCredentials> {
    if (this.minted && Date.now() < this.minted.renewAt) return this.minted;
    this.renewing ??= this.mint().finally(() => {
      this.renewing = undefined;
    });
    return this.renewing;
  }

  /** Forgets everything here, revokes the refresh token, and ends the managed login's session. */
  async signOut(): Promise<never> {
    window.clearTimeout(this.timer);
    const refreshToken = this.tokens?.refreshToken;
    this.tokens = undefined;
    this.minted = undefined;
    sessionStorage.removeItem(KEY);
    sessionStorage.setItem(SIGNED_OUT, '1');
    if (refreshToken) {
      await oauthCall(
        this.config.domain,
        { token: refreshToken, client_id: this.config.clientId },
        '/oauth2/revoke',
      ).catch(() => undefined);
    }
    const url = new URL('/logout', this.config.domain);
    url.search = new URLSearchParams({
      client_id: this.config.clientId,
      logout_uri: this.consoleUrl,
    }).toString();
    location.assign(url.toString());
    return new Promise<never>(() => undefined);
  }

  private async mint(): Promise<Minted> {
    if (!this.tokens) throw new SignInNeeded('Sign in to run the show.');
    // The identity pool takes only a live ID token: refresh it first when it is near its end.
    if (Date.now() > this.tokens.idExpiresAt - 60_000) await this.refresh();
    const tokens = this.tokens as Tokens;
    const logins = loginsOf(this.config, tokens.idToken);
    if (!this.identityId) {
      const { IdentityId } = await this.identityCall('GetId', {
        IdentityPoolId: this.config.identityPoolId,
        Logins: logins,
      });
      this.identityId = IdentityId as string;
    }
    const { Credentials } = await this.identityCall('GetCredentialsForIdentity', {
      IdentityId: this.identityId,
      Logins: logins,
    });
    const now = Date.now();
    const creds = Credentials as {
      AccessKeyId: string;
      SecretKey: string;
      SessionToken: string;
      Expiration: number;
    };
    const expiresAt = creds.Expiration * 1000;
    const minted: Minted = {
      accessKeyId: creds.AccessKeyId,
      secretAccessKey: creds.SecretKey,
      sessionToken: creds.SessionToken,
      expiresAt,
      renewAt: expiresAt - Math.min(RENEW_AHEAD_MS, (expiresAt - now) / 2),
    };
    this.minted = minted;
    // Renew ahead of time even when the console is idle, so a click never waits on it.
    window.clearTimeout(this.timer);
    this.timer = window.setTimeout(() => {
      this.credentials().catch((error: Error) => this.onEnded(error.message));
    }, minted.renewAt - now);
    return minted;
  }

  private async refresh(): Promise<void> {
    try {
      const reply = await this.tokenCall({
        grant_type: 'refresh_token',
        client_id: this.config.clientId,
        refresh_token: this.tokens?.refreshToken ?? '',
      });
      this.keep(reply.id_token, this.tokens?.refreshToken ?? '');
    } catch (error) {
      this.tokens = undefined;
      sessionStorage.removeItem(KEY);
      throw new SignInNeeded(`Your session ended (${(error as Error).message}). Sign in again.`);
    }
  }

  private keep(idToken: string, refreshToken: string): void {
    const claims = claimsOf(idToken);
    this.tokens = { idToken, refreshToken, idExpiresAt: claims.exp * 1000, email: claims.email ?? '' };
    sessionStorage.setItem(KEY, JSON.stringify(this.tokens));
  }

  private async tokenCall(
    form: Record<string, string>,
  ): Promise<{ id_token: string; refresh_token: string }> {
    const { ok, status, body } = await oauthCall(this.config.domain, form);
    if (!ok)
      throw new SignInNeeded(
        `sign-in refused: ${body.error ?? status}${body.error_description ? ` (${body.error_description})` : ''}`,
      );
    return body as unknown as { id_token: string; refresh_token: string };
  }

  private async identityCall(action: string, input: object): Promise<Record<string, unknown>> {
    const { ok, status, body } = await identityPoolCall(this.config.identityEndpoint, action, input);
    if (!ok)
      throw new SignInNeeded(
        `${action} refused: ${String(body.__type ?? status)}: ${String(body.message ?? '')}`,
      );
    return body;
  }
}
