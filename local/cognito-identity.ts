import { randomBytes } from 'node:crypto';
import type { TokenIssuer } from './cognito-tokens';
import type { HostSignInSpec } from './host-sign-in-model';
import { localUuid } from './intrinsics';
import type { SessionCredentials } from './sigv4';

/** An identity pool call's answer: its JSON body, or an AWS error (400, `__type`). */
export type IdentityReply =
  | { readonly ok: true; readonly body: Record<string, unknown> }
  | { readonly ok: false; readonly type: string; readonly message: string };

const fail = (type: string, message: string): IdentityReply => ({ ok: false, type, message });

/**
 * The identity pool of host sign-in (Cognito Identity's `GetId` and `GetCredentialsForIdentity`):
 * a valid ID token from the pool's own client gets an identity, and that identity, shown the
 * same token again, gets temporary credentials for the authenticated role. The credentials go
 * into `sessions`, which the HTTP API's signature check reads; they expire with the role's
 * session length (or `credentialsSeconds`). Unauthenticated identities are refused, as the
 * template sets the pool.
 */
export class IdentityPoolStandIn {
  /** Identity id → the `sub` of the user it belongs to. */
  private readonly identities = new Map<string, string>();

  constructor(
    private readonly spec: HostSignInSpec,
    private readonly region: string,
    private readonly accountId: string,
    private readonly tokens: TokenIssuer,
    readonly sessions: Map<string, SessionCredentials>,
    private readonly credentialsSeconds = spec.sessionSeconds,
  ) {}

  handle(target: string, input: Record<string, unknown>): IdentityReply {
    switch (target) {
      case 'AWSCognitoIdentityService.GetId':
        return this.getId(input);
      case 'AWSCognitoIdentityService.GetCredentialsForIdentity':
        return this.getCredentials(input);
      default:
        return fail(
          'UnknownOperationException',
          `The local identity pool does not implement ${target || 'this call'}`,
        );
    }
  }

  private getId(input: Record<string, unknown>): IdentityReply {
    if (input.IdentityPoolId !== this.spec.identityPoolId)
      return fail('ResourceNotFoundException', `IdentityPool '${String(input.IdentityPoolId)}' not found.`);
    const user = this.login(input.Logins);
    if (!user.ok) return user;
    const identityId = `${this.region}:${localUuid(`${this.spec.identityPoolId}/${user.sub}`)}`;
    this.identities.set(identityId, user.sub);
    return { ok: true, body: { IdentityId: identityId } };
  }

  private getCredentials(input: Record<string, unknown>): IdentityReply {
    const identityId = String(input.IdentityId ?? '');
    const owner = this.identities.get(identityId);
    if (!owner) return fail('ResourceNotFoundException', `Identity '${identityId}' not found.`);
    const user = this.login(input.Logins);
    if (!user.ok) return user;
    if (user.sub !== owner)
      return fail('NotAuthorizedException', 'Invalid login token. The token is for another identity.');
    this.forgetExpired();
    const now = Date.now();
    const session: SessionCredentials = {
      accessKeyId: `ASIA${randomBytes(8).toString('hex').toUpperCase()}`,
      secretAccessKey: randomBytes(30).toString('base64'),
      sessionToken: randomBytes(96).toString('base64'),
      // A whole second, so the `Expiration` reported is exactly when they stop working.
      expiresAt: Math.floor((now + this.credentialsSeconds * 1000) / 1000) * 1000,
      principalArn: `arn:aws:sts::${this.accountId}:assumed-role/${this.spec.roleArn.split('/').pop()}/CognitoIdentityCredentials`,
      invokeArns: this.spec.invokeArns,
    };
    this.sessions.set(session.accessKeyId, session);
    return {
      ok: true,
      body: {
        IdentityId: identityId,
        Credentials: {
          AccessKeyId: session.accessKeyId,
          SecretKey: session.secretAccessKey,
          SessionToken: session.sessionToken,
          // Epoch seconds, as the service's JSON carries a timestamp.
          Expiration: Math.floor(session.expiresAt / 1000),
        },
      },
    };
  }

  /** The user behind `Logins`: exactly this pool's provider, with a valid ID token of its client. */
  private login(logins: unknown): { ok: true; sub: string } | (IdentityReply & { ok: false }) {
    const entries = Object.entries((logins ?? {}) as Record<string, unknown>);
    if (entries.length === 0)
      return {
        ok: false,
        type: 'NotAuthorizedException',
        message: 'Unauthenticated access is not supported for this identity pool.',
      };
    const token = (logins as Record<string, unknown>)[this.spec.providerName];
    if (entries.length !== 1 || typeof token !== 'string')
      return {
        ok: false,
        type: 'NotAuthorizedException',
        message: `Invalid login token. Only ${this.spec.providerName} is a provider of this pool.`,
      };
    const verdict = this.tokens.verifyIdToken(token, this.spec.clientId);
    if (!verdict.ok) return { ok: false, type: 'NotAuthorizedException', message: verdict.reason };
    return { ok: true, sub: verdict.claims.sub };
  }

  /** Sessions an hour past their expiry are gone for good: nothing can use them again. */
  private forgetExpired(): void {
    const cutoff = Date.now() - 3600_000;
    for (const [id, session] of this.sessions) if (session.expiresAt < cutoff) this.sessions.delete(id);
  }
}
