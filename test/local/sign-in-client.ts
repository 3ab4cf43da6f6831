import { createHash, randomBytes } from 'node:crypto';
import {
  authorizeUrl as consoleAuthorizeUrl,
  identityPoolCall,
  loginsOf,
  oauthCall,
} from '../../client/cognito-calls';
import type { HostPageConfig, HostSignInConfig } from '../../web/src/config';

/**
 * Host sign-in as the console does it, over plain HTTP (no browser): the managed login's
 * authorize and sign-in form, the token endpoint with PKCE, then the identity pool. Each step is
 * its own function, so a test can go wrong at any one of them.
 */
export interface SignInSetup {
  readonly signIn: HostSignInConfig;
  /** The console's URL: the client's callback. */
  readonly consoleUrl: string;
}

export async function signInSetup(hostUrl: string): Promise<SignInSetup> {
  const config = (await (await fetch(`${hostUrl}config.json`)).json()) as HostPageConfig;
  if (!config.signIn) throw new Error('host/config.json has no signIn');
  return { signIn: config.signIn, consoleUrl: hostUrl };
}

export const pkce = () => {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
};

/** The authorize URL the console sends a host to. */
export const authorizeUrl = (setup: SignInSetup, challenge: string, state = 'st-1'): URL =>
  consoleAuthorizeUrl(setup.signIn, { redirectUri: setup.consoleUrl, state, codeChallenge: challenge });

/** Posts the sign-in form; the reply as it comes (a 302 with the code, or the form again). */
export async function postLogin(setup: SignInSetup, challenge: string, username: string, password: string) {
  const authorize = await fetch(authorizeUrl(setup, challenge), { redirect: 'manual' });
  const login = new URL(authorize.headers.get('location') ?? '', setup.signIn.domain);
  return fetch(login, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ username, password }),
  });
}

/** The code of a successful sign-in's redirect. */
export function codeOf(reply: Response): string {
  const location = new URL(reply.headers.get('location') ?? '');
  const code = location.searchParams.get('code');
  if (!code) throw new Error(`no code in ${location}`);
  return code;
}

export const tokenCall = (setup: SignInSetup, form: Record<string, string>) =>
  oauthCall(setup.signIn.domain, { client_id: setup.signIn.clientId, ...form });

export const identityCall = (setup: SignInSetup, action: string, input: object) =>
  identityPoolCall(setup.signIn.identityEndpoint, action, input);

export const loginsFor = (setup: SignInSetup, idToken: string) => loginsOf(setup.signIn, idToken);

/** The whole way from a password to temporary credentials. */
export async function signInForCredentials(setup: SignInSetup, user: { username: string; password: string }) {
  const { verifier, challenge } = pkce();
  const code = codeOf(await postLogin(setup, challenge, user.username, user.password));
  const tokens = await tokenCall(setup, {
    grant_type: 'authorization_code',
    code,
    redirect_uri: setup.consoleUrl,
    code_verifier: verifier,
  });
  if (tokens.status !== 200) throw new Error(`token: ${JSON.stringify(tokens.body)}`);
  const issued = tokens.body as { id_token: string; refresh_token: string };
  const logins = loginsFor(setup, issued.id_token);
  const id = await identityCall(setup, 'GetId', {
    IdentityPoolId: setup.signIn.identityPoolId,
    Logins: logins,
  });
  const creds = await identityCall(setup, 'GetCredentialsForIdentity', {
    IdentityId: id.body.IdentityId,
    Logins: logins,
  });
  if (creds.status !== 200) throw new Error(`credentials: ${JSON.stringify(creds.body)}`);
  const c = creds.body.Credentials as {
    AccessKeyId: string;
    SecretKey: string;
    SessionToken: string;
    Expiration: number;
  };
  return {
    tokens: issued,
    credentials: { accessKeyId: c.AccessKeyId, secretAccessKey: c.SecretKey, sessionToken: c.SessionToken },
    expiration: c.Expiration,
  };
}
