import { createHash, timingSafeEqual } from 'node:crypto';
import { SignatureV4 } from '@smithy/signature-v4';
import { NodeSha256 } from '../web/src/shared/sha256-node';

export interface SignedRequest {
  readonly method: string;
  readonly host: string;
  readonly path: string;
  readonly query: URLSearchParams;
  readonly headers: Record<string, string>;
  readonly body: Buffer;
}

export type Verdict = { ok: true; accessKeyId: string } | { ok: false; message: string };

const AUTH_PATTERN =
  /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, ?SignedHeaders=([^,]+), ?Signature=([0-9a-f]{64})$/;

/**
 * Checks an `execute-api` SigV4 signature the way API Gateway does: same credentials, same
 * canonical request, a date within 15 minutes. Recomputes it with the AWS SDK's own signer.
 */
export async function verifySigV4(
  request: SignedRequest,
  credentials: { accessKeyId: string; secretAccessKey: string },
  service = 'execute-api',
): Promise<Verdict> {
  const auth = request.headers.authorization;
  if (!auth) return { ok: false, message: 'Missing Authentication Token' };
  const match = AUTH_PATTERN.exec(auth);
  if (!match) return { ok: false, message: 'Authorization header is not a valid AWS4-HMAC-SHA256 signature' };
  const [, accessKeyId, day, region, signedService, signedHeaders, signature] = match;
  if (accessKeyId !== credentials.accessKeyId)
    return { ok: false, message: 'The security token included in the request is invalid' };
  if (signedService !== service)
    return { ok: false, message: `Credential should be scoped to correct service: '${service}'` };
  const amzDate = request.headers['x-amz-date'];
  if (!amzDate?.startsWith(day))
    return { ok: false, message: 'X-Amz-Date is missing or does not match the credential scope' };
  const signingDate = new Date(
    `${amzDate.slice(0, 4)}-${amzDate.slice(4, 6)}-${amzDate.slice(6, 8)}T${amzDate.slice(9, 11)}:${amzDate.slice(11, 13)}:${amzDate.slice(13, 15)}Z`,
  );
  if (Number.isNaN(signingDate.getTime()) || Math.abs(Date.now() - signingDate.getTime()) > 15 * 60 * 1000) {
    return { ok: false, message: 'Signature expired or not yet current' };
  }

  // A declared payload hash must be the body's, or the signature would not cover the body.
  const declared = request.headers['x-amz-content-sha256'];
  if (
    declared &&
    declared !== 'UNSIGNED-PAYLOAD' &&
    declared !== createHash('sha256').update(request.body).digest('hex')
  ) {
    return {
      ok: false,
      message: 'The provided x-amz-content-sha256 header does not match what was computed',
    };
  }

  const names = signedHeaders.split(';');
  const headers: Record<string, string> = {};
  for (const name of names) {
    if (name === 'host') headers.host = request.host;
    else if (request.headers[name] !== undefined) headers[name] = request.headers[name];
  }
  const signer = new SignatureV4({
    credentials: {
      accessKeyId,
      secretAccessKey: credentials.secretAccessKey,
      sessionToken: request.headers['x-amz-security-token'],
    },
    region,
    service,
    sha256: NodeSha256 as unknown as ConstructorParameters<typeof SignatureV4>[0]['sha256'],
    uriEscapePath: true,
    applyChecksum: false,
  });
  const query: Record<string, string | string[]> = {};
  for (const key of new Set(request.query.keys())) {
    const values = request.query.getAll(key);
    query[key] = values.length === 1 ? values[0] : values;
  }
  const signed = await signer.sign(
    {
      method: request.method,
      protocol: 'http:',
      hostname: request.host.split(':')[0],
      port: Number(request.host.split(':')[1]) || undefined,
      path: request.path,
      query,
      headers,
      body: request.body.length > 0 ? request.body : undefined,
    },
    { signingDate, signableHeaders: new Set(names), unsignableHeaders: new Set() },
  );
  const expected = /Signature=([0-9a-f]{64})/.exec(String(signed.headers.authorization))?.[1] ?? '';
  const same =
    expected.length === signature.length && timingSafeEqual(Buffer.from(expected), Buffer.from(signature));
  return same
    ? { ok: true, accessKeyId }
    : { ok: false, message: 'The request signature we calculated does not match the signature you provided' };
}
