import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { TokenIssuer } from './cognito-tokens';
import type { HostSignInSpec } from './host-sign-in-model';

/** A token endpoint's answer: the tokens, or an OAuth error (`invalid_grant`, …). */
export type TokenReply =
  | { readonly ok: true; readonly body: Record<string, unknown> }
  | { readonly ok: false; readonly error: string; readonly description: string };

interface Grant {
  readonly redirectUri: string;
  readonly challenge?: string;
  readonly scope: string;
  readonly expiresAt: number;
}

const CODE_SECONDS = 300;
const refuse = (error: string, description: string): TokenReply => ({ ok: false, error, description });

/**
 * The user pool's OAuth grants for its one host: authorization codes (single use, 5 minutes,
 * bound to the redirect URI and the PKCE challenge), the ID and access tokens they buy, and
 * refresh tokens, which last as the client says until revoked.
 */
export class OAuthGrants {
  private readonly codes = new Map<string, Grant>();
  /** Refresh token → when it expires (epoch ms). */
  private readonly refreshTokens = new Map<string, number>();
  private readonly sub = randomUUID();

  constructor(
    private readonly spec: HostSignInSpec,
    private readonly tokens: TokenIssuer,
    private readonly email: string,
  ) {}

  /** A code for an authorize request the caller has checked. */
  issueCode(query: URLSearchParams): string {
    const code = randomUUID();
    const now = Date.now();
    for (const [old, grant] of this.codes) if (grant.expiresAt < now) this.codes.delete(old);
    this.codes.set(code, {
      redirectUri: query.get('redirect_uri') ?? '',
      challenge: query.get('code_challenge') ?? undefined,
      scope: query.get('scope') ?? 'openid',
      expiresAt: now + CODE_SECONDS * 1000,
    });
    return code;
  }

  /** `POST /oauth2/token`, from its form. */
  token(form: URLSearchParams): TokenReply {
    if (form.get('client_id') !== this.spec.clientId) return refuse('invalid_client', 'unknown client_id');
    const grantType = form.get('grant_type');
    if (grantType === 'refresh_token') {
      const refresh = form.get('refresh_token') ?? '';
      if ((this.refreshTokens.get(refresh) ?? 0) <= Date.now())
        return refuse('invalid_grant', 'Invalid Refresh Token');
      return { ok: true, body: this.issueTokens('openid email', false) };
    }
    if (grantType !== 'authorization_code')
      return refuse('unsupported_grant_type', `grant_type ${grantType}`);
    const code = form.get('code') ?? '';
    const grant = this.codes.get(code);
    // A code is spent on its first use, whatever the outcome.
    this.codes.delete(code);
    if (!grant || grant.expiresAt < Date.now())
      return refuse('invalid_grant', 'the code is unknown, used or expired');
    if (grant.redirectUri !== form.get('redirect_uri'))
      return refuse('invalid_grant', 'redirect_uri differs from the authorize request');
    if (grant.challenge) {
      const hashed = createHash('sha256')
        .update(form.get('code_verifier') ?? '')
        .digest('base64url');
      if (hashed !== grant.challenge)
        return refuse('invalid_grant', 'code_verifier does not match the code_challenge');
    }
    return { ok: true, body: this.issueTokens(grant.scope, true) };
  }

  /** `POST /oauth2/revoke`: the refresh token buys nothing more. */
  revoke(form: URLSearchParams): TokenReply {
    if (form.get('client_id') !== this.spec.clientId) return refuse('invalid_client', 'unknown client_id');
    this.refreshTokens.delete(form.get('token') ?? '');
    return { ok: true, body: {} };
  }

  private issueTokens(scope: string, withRefresh: boolean): Record<string, unknown> {
    const { spec } = this;
    const now = Math.floor(Date.now() / 1000);
    const exp = now + spec.idTokenSeconds;
    const common = { sub: this.sub, iss: this.tokens.issuer, iat: now, exp };
    const idToken = this.tokens.sign({
      ...common,
      aud: spec.clientId,
      token_use: 'id',
      email: this.email,
      email_verified: true,
      'cognito:username': this.email,
      auth_time: now,
    });
    const accessToken = this.tokens.sign({ ...common, client_id: spec.clientId, token_use: 'access', scope });
    const refresh = withRefresh ? randomBytes(48).toString('base64url') : undefined;
    if (refresh) this.refreshTokens.set(refresh, Date.now() + spec.refreshTokenSeconds * 1000);
    return {
      id_token: idToken,
      access_token: accessToken,
      ...(refresh ? { refresh_token: refresh } : {}),
      expires_in: spec.idTokenSeconds,
      token_type: 'Bearer',
    };
  }
}
