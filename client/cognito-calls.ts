/**
 * The two Cognito calls of host sign-in, as plain `fetch`: the managed login's token endpoint
 * (a form in, JSON out) and the identity pool's JSON 1.1 API (unsigned, `X-Amz-Target`). The
 * console signs in with them, and the tests drive the local stand-in with the same calls.
 */
export interface CognitoReply {
  readonly ok: boolean;
  readonly status: number;
  readonly body: Record<string, unknown>;
}

async function reply(res: Response): Promise<CognitoReply> {
  const body = (await res.json().catch(() => ({}))) as Record<string, unknown>;
  return { ok: res.ok, status: res.status, body };
}

/** `POST {domain}/oauth2/token` (or `/oauth2/revoke` with `path`), form-encoded. */
export async function oauthCall(
  domain: string,
  form: Record<string, string>,
  path: '/oauth2/token' | '/oauth2/revoke' = '/oauth2/token',
): Promise<CognitoReply> {
  const res = await fetch(new URL(path, domain), {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(form),
  });
  return reply(res);
}

/** An identity pool action (`GetId`, `GetCredentialsForIdentity`) at `endpoint`. */
export async function identityPoolCall(
  endpoint: string,
  action: string,
  input: object,
): Promise<CognitoReply> {
  const res = await fetch(endpoint, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-amz-json-1.1',
      'x-amz-target': `AWSCognitoIdentityService.${action}`,
    },
    body: JSON.stringify(input),
  });
  return reply(res);
}

/** The `Logins` map of a user pool's ID token, as the identity pool takes it. */
export const loginsOf = (signIn: { region: string; userPoolId: string }, idToken: string) => ({
  [`cognito-idp.${signIn.region}.amazonaws.com/${signIn.userPoolId}`]: idToken,
});

/** Where the console sends a host to sign in: the managed login, with the code flow and PKCE (S256). */
export function authorizeUrl(
  signIn: { domain: string; clientId: string },
  request: { redirectUri: string; state: string; codeChallenge: string },
): URL {
  const url = new URL('/oauth2/authorize', signIn.domain);
  url.search = new URLSearchParams({
    response_type: 'code',
    client_id: signIn.clientId,
    redirect_uri: request.redirectUri,
    scope: 'openid email',
    state: request.state,
    code_challenge: request.codeChallenge,
    code_challenge_method: 'S256',
  }).toString();
  return url;
}
