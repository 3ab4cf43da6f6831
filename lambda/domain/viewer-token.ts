import { createHmac, timingSafeEqual } from 'node:crypto';
import * as z from 'zod/mini';
import { UnauthorizedError } from './errors';
import { ID_PATTERN, parseWith } from './validation';

/**
 * Viewer tokens (docs/protocol.md §5, viewer auth): `v1.<payload>.<mac>`, both parts base64url, the
 * MAC an HMAC-SHA256 of `v1.<payload>` under the stack's signing key. The payload says who the
 * viewer is (`sub`) and until when (`exp`, epoch seconds). Pure: the key is passed in.
 */
export const TOKEN_VERSION = 'v1';

/** A token lives long enough for a show and its reconnects (a connection lives at most 2 h). */
export const DEFAULT_TOKEN_TTL_SECONDS = 4 * 60 * 60;
export const MIN_TOKEN_TTL_SECONDS = 5 * 60;
export const MAX_TOKEN_TTL_SECONDS = 24 * 60 * 60;

/** A signing key shorter than this is refused: HMAC-SHA256 wants at least 256 bits. */
export const MIN_KEY_BYTES = 32;

/** Tokens longer than this are refused before any work (a query string is not a dump). */
export const MAX_TOKEN_CHARS = 512;

export interface ViewerClaims {
  /** The viewer id: the identity answers are counted under. */
  readonly sub: string;
  /** Issued at, epoch seconds. */
  readonly iat: number;
  /** Expires at, epoch seconds. */
  readonly exp: number;
}

const ClaimsSchema = z.strictObject({
  sub: z.string().check(z.regex(ID_PATTERN)),
  iat: z.int(),
  exp: z.int(),
});

const mac = (key: Buffer, signed: string): Buffer => createHmac('sha256', key).update(signed).digest();

function checkKey(key: Buffer): void {
  if (key.length < MIN_KEY_BYTES) {
    throw new Error(`viewer-token signing key must be at least ${MIN_KEY_BYTES} bytes, got ${key.length}`);
  }
}

/** Signs a token for `viewerId`, valid for `ttlSeconds` from `now`. */
export function signViewerToken(
  key: Buffer,
  viewerId: string,
  now: Date,
  ttlSeconds = DEFAULT_TOKEN_TTL_SECONDS,
): { token: string; claims: ViewerClaims } {
  checkKey(key);
  if (!ID_PATTERN.test(viewerId)) throw new Error(`viewer id "${viewerId}" is not URL-safe`);
  const iat = Math.floor(now.getTime() / 1000);
  const claims: ViewerClaims = { sub: viewerId, iat, exp: iat + ttlSeconds };
  const signed = `${TOKEN_VERSION}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}`;
  return { token: `${signed}.${mac(key, signed).toString('base64url')}`, claims };
}

/**
 * Checks a token: shape, MAC (in constant time) and expiry, in that order, so nothing from
 * an unsigned payload is ever parsed. Every failure is the same 401 a client can act on
 * ("get a new token"); the reason is kept for the logs only.
 */
export function verifyViewerToken(key: Buffer, token: unknown, now: Date): ViewerClaims {
  checkKey(key);
  if (typeof token !== 'string' || token.length === 0) throw new UnauthorizedError('absent');
  if (token.length > MAX_TOKEN_CHARS) throw new UnauthorizedError('too long');
  const parts = token.split('.');
  if (parts.length !== 3 || parts[0] !== TOKEN_VERSION) throw new UnauthorizedError('malformed');
  const [version, payload, signature] = parts;
  // Compared as text: base64url has spare bits, and only the one canonical spelling is ours.
  const expected = Buffer.from(mac(key, `${version}.${payload}`).toString('base64url'));
  const given = Buffer.from(signature);
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    throw new UnauthorizedError('bad signature');
  }
  let claims: ViewerClaims;
  try {
    claims = parseWith(ClaimsSchema, JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')));
  } catch {
    // Only we can sign, so this is a key shared with something else: still just a 401.
    throw new UnauthorizedError('bad payload');
  }
  if (claims.exp * 1000 <= now.getTime()) throw new UnauthorizedError('expired');
  return claims;
}
