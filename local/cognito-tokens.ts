import { createSign, createVerify, generateKeyPairSync, type KeyObject, randomUUID } from 'node:crypto';

/** The claims of a user pool's ID token that the identity pool and the console read. */
export interface IdTokenClaims {
  readonly sub: string;
  readonly iss: string;
  readonly aud: string;
  readonly token_use: 'id';
  readonly email: string;
  readonly 'cognito:username': string;
  readonly auth_time: number;
  readonly iat: number;
  readonly exp: number;
}

const b64 = (value: string | Buffer) => Buffer.from(value).toString('base64url');

/**
 * A user pool's token signer: RS256 JWTs under one key made at boot, as Cognito signs with its
 * pool's key. Only this runtime's identity pool stand-in checks them.
 */
export class TokenIssuer {
  private readonly privateKey: KeyObject;
  private readonly publicKey: KeyObject;
  readonly keyId = randomUUID();

  constructor(
    /** `https://cognito-idp.<region>.amazonaws.com/<pool id>` */
    readonly issuer: string,
  ) {
    ({ privateKey: this.privateKey, publicKey: this.publicKey } = generateKeyPairSync('rsa', {
      modulusLength: 2048,
    }));
  }

  sign(claims: object): string {
    const head = b64(JSON.stringify({ alg: 'RS256', kid: this.keyId, typ: 'JWT' }));
    const body = b64(JSON.stringify(claims));
    const signature = createSign('RSA-SHA256').update(`${head}.${body}`).sign(this.privateKey);
    return `${head}.${body}.${b64(signature)}`;
  }

  /** The ID token's claims, or why it is refused, in the identity pool's words. */
  verifyIdToken(
    token: string,
    audience: string,
    now = Date.now(),
  ): { ok: true; claims: IdTokenClaims } | { ok: false; reason: string } {
    const parts = token.split('.');
    if (parts.length !== 3)
      return { ok: false, reason: 'Invalid login token. Not a valid OpenId Connect identity token.' };
    const [head, body, signature] = parts;
    const valid = createVerify('RSA-SHA256')
      .update(`${head}.${body}`)
      .verify(this.publicKey, Buffer.from(signature, 'base64url'));
    if (!valid)
      return { ok: false, reason: 'Invalid login token. Not a valid OpenId Connect identity token.' };
    let claims: IdTokenClaims;
    try {
      claims = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as IdTokenClaims;
    } catch {
      return { ok: false, reason: 'Invalid login token. Not a valid OpenId Connect identity token.' };
    }
    if (claims.iss !== this.issuer)
      return { ok: false, reason: "Invalid login token. Issuer doesn't match providerName" };
    if (claims.aud !== audience)
      return { ok: false, reason: 'Invalid login token. Incorrect token audience.' };
    if (claims.token_use !== 'id') return { ok: false, reason: 'Invalid login token. Not an ID token.' };
    if (claims.exp * 1000 <= now)
      return {
        ok: false,
        reason: `Invalid login token. Token expired: ${claims.exp} >= ${Math.floor(now / 1000)}`,
      };
    return { ok: true, claims };
  }
}
