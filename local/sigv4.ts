import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { sendAwsError, sendJson } from './http-util';

/**
 * Temporary credentials the identity pool stand-in minted for a role: they sign like any others,
 * with their session token, until they expire, and allow only what the role's policy allows.
 */
export interface SessionCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken: string;
  /** Epoch ms. */
  readonly expiresAt: number;
  /** `arn:aws:sts::<account>:assumed-role/<role>/CognitoIdentityCredentials` */
  readonly principalArn: string;
  /** The `execute-api:Invoke` resource patterns of the role's policy. */
  readonly invokeArns: readonly string[];
}

/** The runtime's one identity: every stand-in checks signatures against it, in its region. */
export interface LocalSigning {
  readonly region: string;
  readonly credentials: { readonly accessKeyId: string; readonly secretAccessKey: string };
  /** Temporary credentials this service also takes (the HTTP API's, from host sign-in). @default none */
  readonly sessions?: ReadonlyMap<string, SessionCredentials>;
}

/** Why a signature was refused, named as AWS names it (`<code>Exception`). */
export type SigV4ErrorCode =
  | 'MissingAuthenticationToken'
  | 'IncompleteSignature'
  | 'UnrecognizedClient'
  | 'ExpiredToken'
  | 'InvalidSignature';

/** A refused signature: what AWS would name the error, and its message. */
export interface SigV4Refusal {
  readonly ok: false;
  readonly code: SigV4ErrorCode;
  readonly message: string;
}

export type Verdict =
  | { readonly ok: true; readonly accessKeyId: string; readonly session?: SessionCredentials }
  | SigV4Refusal;

const AUTH_PATTERN =
  /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, ?SignedHeaders=([^,]+), ?Signature=([0-9a-f]{64})$/;
const AMZ_DATE = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/;
/** Headers that say who signed and what: a second copy would let one be checked and another used. */
const SINGLE_HEADERS = ['authorization', 'x-amz-date', 'x-amz-security-token', 'x-amz-content-sha256'];
const MAX_SKEW_MS = 15 * 60 * 1000;
const INVALID_TOKEN = 'The security token included in the request is invalid.';
const EXPIRED_TOKEN = 'The security token included in the request is expired';
const MAX_KEYS = 32;
const MISMATCH =
  'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method.';

const refuse = (code: SigV4ErrorCode, message: string): SigV4Refusal => ({ ok: false, code, message });
const sha256Hex = (data: string | Buffer): string => createHash('sha256').update(data).digest('hex');

/** RFC 3986 percent-encoding, as SigV4 canonical forms use it. */
const escapeUri = (value: string): string =>
  encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

/** The canonical URI of every service but S3: dot segments resolved, each segment encoded again. */
function canonicalPath(path: string): string {
  const segments: string[] = [];
  for (const segment of path.split('/')) {
    if (segment === '' || segment === '.') continue;
    if (segment === '..') segments.pop();
    else segments.push(segment);
  }
  const trailing = segments.length > 0 && path.endsWith('/') ? '/' : '';
  return `/${segments.map(escapeUri).join('/')}${trailing}`;
}

/** The canonical query string: names and values encoded, sorted by name, then by value. */
function canonicalQuery(query: string): string {
  const pairs: Array<[string, string]> = [];
  for (const [name, value] of new URLSearchParams(query)) pairs.push([escapeUri(name), escapeUri(value)]);
  pairs.sort(([a, x], [b, y]) => (a < b ? -1 : a > b ? 1 : x < y ? -1 : x > y ? 1 : 0));
  return pairs.map(([name, value]) => `${name}=${value}`).join('&');
}

/**
 * Checks SigV4 signatures for one service the way AWS does: the local credentials (long-term,
 * so no session token) or, where given, live session credentials with their token; a credential scope of this service and the runtime's region, a date
 * within 15 minutes, one copy of each signing header, and a payload hash that covers the body.
 * The signing key is derived once a day, so a request costs two hashes and one HMAC.
 */
export class SigV4Verifier {
  private readonly keys = new Map<string, Buffer>();

  constructor(
    private readonly service: string,
    private readonly signing: LocalSigning,
  ) {}

  /** Verifies `req`, whose whole body is `body`. */
  verify(req: IncomingMessage, body: Buffer): Verdict {
    const headers = req.headersDistinct;
    const auth = headers.authorization?.[0];
    if (!auth) return refuse('MissingAuthenticationToken', 'Missing Authentication Token');
    for (const name of SINGLE_HEADERS) {
      if ((headers[name]?.length ?? 0) > 1)
        return refuse('IncompleteSignature', `The request has more than one ${name} header`);
    }
    const match = AUTH_PATTERN.exec(auth);
    if (!match)
      return refuse('IncompleteSignature', 'Authorization header is not a valid AWS4-HMAC-SHA256 signature');
    const [, accessKeyId, day, region, service, signedHeaders, signature] = match;
    const token = headers['x-amz-security-token']?.[0];
    let secretAccessKey = this.signing.credentials.secretAccessKey;
    const session = this.signing.sessions?.get(accessKeyId);
    if (session) {
      if (token !== session.sessionToken) return refuse('UnrecognizedClient', INVALID_TOKEN);
      if (Date.now() >= session.expiresAt) return refuse('ExpiredToken', EXPIRED_TOKEN);
      secretAccessKey = session.secretAccessKey;
    } else {
      if (accessKeyId !== this.signing.credentials.accessKeyId)
        return refuse('UnrecognizedClient', INVALID_TOKEN);
      // The local credentials are long-term keys: any session token is one nobody issued.
      if (token) return refuse('UnrecognizedClient', INVALID_TOKEN);
    }
    if (region !== this.signing.region)
      return refuse('InvalidSignature', `Credential should be scoped to a valid region, not '${region}'`);
    if (service !== this.service)
      return refuse('InvalidSignature', `Credential should be scoped to correct service: '${this.service}'`);

    const amzDate = headers['x-amz-date']?.[0] ?? '';
    const date = AMZ_DATE.exec(amzDate);
    if (!date || !amzDate.startsWith(day))
      return refuse('IncompleteSignature', 'X-Amz-Date is missing or does not match the credential scope');
    const signedAt = Date.parse(`${date[1]}-${date[2]}-${date[3]}T${date[4]}:${date[5]}:${date[6]}Z`);
    if (Number.isNaN(signedAt) || Math.abs(Date.now() - signedAt) > MAX_SKEW_MS)
      return refuse('InvalidSignature', `Signature expired or not yet current: ${amzDate}`);

    const declared = headers['x-amz-content-sha256']?.[0];
    if (declared === 'UNSIGNED-PAYLOAD') {
      return refuse(
        'InvalidSignature',
        `x-amz-content-sha256: UNSIGNED-PAYLOAD is not accepted by ${this.service}: the signature must cover the body`,
      );
    }
    const payloadHash = sha256Hex(body);
    if (declared !== undefined && declared !== payloadHash)
      return refuse(
        'InvalidSignature',
        "The provided 'x-amz-content-sha256' header does not match what was computed",
      );

    const names = signedHeaders.split(';');
    if (!names.includes('host')) return refuse('IncompleteSignature', "'Host' must be a signed header");
    const canonicalHeaders: string[] = [];
    for (const name of names) {
      const values = headers[name];
      if (!values) return refuse('InvalidSignature', MISMATCH);
      if (values.length > 1)
        return refuse('IncompleteSignature', `The signed header ${name} was sent more than once`);
      canonicalHeaders.push(`${name}:${values[0].replace(/\s+/g, ' ').trim()}`);
    }

    const target = req.url ?? '/';
    const queryAt = target.indexOf('?');
    const canonicalRequest = [
      req.method ?? 'GET',
      canonicalPath(queryAt < 0 ? target : target.slice(0, queryAt)),
      canonicalQuery(queryAt < 0 ? '' : target.slice(queryAt + 1)),
      `${canonicalHeaders.join('\n')}\n`,
      signedHeaders,
      payloadHash,
    ].join('\n');
    const scope = `${day}/${region}/${service}/aws4_request`;
    const stringToSign = `AWS4-HMAC-SHA256\n${amzDate}\n${scope}\n${sha256Hex(canonicalRequest)}`;
    const key = this.signingKey(accessKeyId, secretAccessKey, day);
    const expected = createHmac('sha256', key).update(stringToSign).digest('hex');
    return timingSafeEqual(Buffer.from(expected), Buffer.from(signature))
      ? { ok: true, accessKeyId, ...(session ? { session } : {}) }
      : refuse('InvalidSignature', MISMATCH);
  }

  /**
   * A key's signing key for the day. Only today's and yesterday's are in use (15 minutes of
   * skew), so the cache keeps the newest few, for the long-term key and the live sessions.
   */
  private signingKey(accessKeyId: string, secretAccessKey: string, day: string): Buffer {
    const id = `${accessKeyId}/${day}`;
    let key = this.keys.get(id);
    if (!key) {
      key = createHmac('sha256', `AWS4${secretAccessKey}`).update(day).digest();
      for (const part of [this.signing.region, this.service, 'aws4_request'])
        key = createHmac('sha256', key).update(part).digest();
      if (this.keys.size >= MAX_KEYS) this.keys.delete(this.keys.keys().next().value as string);
      this.keys.set(id, key);
    }
    return key;
  }
}

/**
 * Answers a refused signature in the service's own error shape, which the SDK v3 parses:
 * JSON-protocol services (DynamoDB, Secrets Manager) answer 400 with `__type`, REST services
 * (Lambda, IVS, `@connections`) 403 with `x-amzn-errortype`.
 */
export function sendSignatureError(
  res: ServerResponse,
  refusal: SigV4Refusal,
  protocol: 'json' | 'rest',
): void {
  const type = `${refusal.code}Exception`;
  if (protocol === 'rest') return sendAwsError(res, 403, type, refusal.message);
  sendJson(
    res,
    400,
    { __type: `com.amazon.coral.service#${type}`, message: refusal.message },
    { 'x-amzn-errortype': type },
  );
}
