import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { IdentityPoolStandIn } from './cognito-identity';
import { loginPage } from './cognito-login-page';
import { OAuthGrants, type TokenReply } from './cognito-oauth';
import { TokenIssuer } from './cognito-tokens';
import { UserPoolApi } from './cognito-user-pool-api';
import type { HostSignInSpec } from './host-sign-in-model';
import { close, guarded, HttpError, jsonObject, listen, readBody, requestUrl, sendJson } from './http-util';
import type { LocalSigning, SessionCredentials } from './sigv4';

/** The one host of a local boot: signs in with these at the local managed login. */
export interface LocalHostUser {
  readonly username: string;
  readonly password: string;
}

export interface CognitoStandInOptions {
  readonly port: number;
  readonly spec: HostSignInSpec;
  readonly region: string;
  readonly accountId: string;
  /** The minted credentials; the HTTP API's signature check reads the same map. */
  readonly sessions: Map<string, SessionCredentials>;
  /** How long minted credentials last. @default the role's session length */
  readonly credentialsSeconds?: number;
  /** The runtime's identity, which the user pool's admin API (`ListUsers`) checks signatures against. */
  readonly signing: LocalSigning;
  readonly log: (line: string) => void;
}

const SESSION_COOKIE = 'cognito';
const SESSION_SECONDS = 3600;
const SCOPES = new Set(['openid', 'email']);

/**
 * Cognito for host sign-in on loopback, one port for what AWS splits over two hosts: the user
 * pool's managed login (`/oauth2/authorize`, a sign-in page at `/login` with fields labelled
 * Username and Password, `/oauth2/token` with PKCE and refresh, `/oauth2/revoke`, `/logout`)
 * and, for `POST /` with an `X-Amz-Target`, the identity pool (and the user pool's `ListUsers`). There is one host, made at boot
 * with a generated password ({@link hostUser}); codes are single-use and last 5 minutes.
 */
export class CognitoStandIn {
  private server?: Server;
  readonly endpoint: string;
  readonly hostUser: LocalHostUser;
  private readonly identity: IdentityPoolStandIn;
  private readonly grants: OAuthGrants;
  private readonly userPool: UserPoolApi;
  /** The managed login's sessions: cookie value → when it ends (epoch ms). */
  private readonly signedIn = new Map<string, number>();

  constructor(private readonly options: CognitoStandInOptions) {
    this.endpoint = `http://127.0.0.1:${options.port}`;
    this.hostUser = {
      username: 'host@cuecast.localhost',
      // Meets the pool's policy: 12+ characters with upper, lower, a digit and a symbol.
      password: `Host-${randomBytes(9).toString('base64url')}7a!`,
    };
    const tokens = new TokenIssuer(`https://${options.spec.providerName}`);
    this.grants = new OAuthGrants(options.spec, tokens, this.hostUser.username);
    this.userPool = new UserPoolApi(options.spec.userPoolId, this.hostUser, options.signing, options.log);
    this.identity = new IdentityPoolStandIn(
      options.spec,
      options.region,
      options.accountId,
      tokens,
      options.sessions,
      options.credentialsSeconds,
    );
  }

  async start(): Promise<void> {
    this.server = createServer(
      guarded(
        (req, res) => this.serve(req, res),
        (res, status, message) =>
          sendJson(res, status, {
            error: status < 500 ? 'invalid_request' : 'server_error',
            error_description: message,
          }),
      ),
    );
    await listen(this.server, this.options.port, 'Cognito');
  }

  async stop(): Promise<void> {
    if (this.server) await close(this.server);
  }

  private async serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = requestUrl(req);
    const route = `${req.method} ${url.pathname}`;
    const cors = this.cors(req);
    if (req.method === 'OPTIONS') return void res.writeHead(204, cors).end();
    if (UserPoolApi.handles(req)) return this.userPool.handle(req, res);
    if (route === 'POST /' && req.headers['x-amz-target']) return this.identityCall(req, res, cors);
    if (route === 'GET /oauth2/authorize') return this.authorize(req, res, url.searchParams);
    if (route === 'GET /login') return this.loginForm(res, url.searchParams);
    if (route === 'POST /login') return this.login(req, res, url.searchParams);
    if (route === 'POST /oauth2/token') return this.oauth(req, res, cors, (form) => this.grants.token(form));
    if (route === 'POST /oauth2/revoke')
      return this.oauth(req, res, cors, (form) => this.grants.revoke(form));
    if (route === 'GET /logout') return this.logout(req, res, url.searchParams);
    sendJson(res, 404, { message: `No ${route} on the local Cognito` });
  }

  private callbackOrigins(): string {
    return [...new Set(this.options.spec.callbackUrls.map((u) => new URL(u).origin))].join(' ');
  }

  /** The console's origin (a callback URL's) may read the token and identity answers. */
  private cors(req: IncomingMessage): Record<string, string> {
    const origin = req.headers.origin;
    const allowed = this.options.spec.callbackUrls.some((u) => new URL(u).origin === origin);
    return allowed && origin
      ? {
          'access-control-allow-origin': origin,
          'access-control-allow-methods': 'GET, POST, OPTIONS',
          'access-control-allow-headers': 'content-type, x-amz-target, x-amz-user-agent, authorization',
          vary: 'origin',
        }
      : {};
  }

  private async identityCall(req: IncomingMessage, res: ServerResponse, cors: Record<string, string>) {
    // Not JSON, or JSON but not the object every call takes (`null`, an array): AWS answers 400.
    const input = jsonObject(await readBody(req, 64 * 1024));
    if (!input)
      return sendJson(
        res,
        400,
        { __type: 'SerializationException', message: 'The body is not a JSON object' },
        cors,
      );
    const reply = this.identity.handle(String(req.headers['x-amz-target']), input);
    if (reply.ok)
      return sendJson(res, 200, reply.body, { ...cors, 'content-type': 'application/x-amz-json-1.1' });
    this.options.log(`[cognito] identity ${String(req.headers['x-amz-target'])} -> ${reply.type}`);
    sendJson(
      res,
      400,
      { __type: reply.type, message: reply.message },
      { ...cors, 'x-amzn-errortype': reply.type },
    );
  }

  /**
   * Checks an authorize request. A client or redirect URI that is not registered gets an error
   * page (never a redirect to an unknown place); other mistakes go back to the console.
   */
  private checkAuthorize(query: URLSearchParams): { redirect: URL; error?: string } {
    const redirect = this.registeredUrl(
      query,
      'redirect_uri',
      this.options.spec.callbackUrls,
      'redirect_mismatch',
    );
    if (query.get('response_type') !== 'code') return { redirect, error: 'unsupported_response_type' };
    const scopes = (query.get('scope') ?? 'openid').split(/[ +]/).filter(Boolean);
    if (scopes.some((s) => !SCOPES.has(s))) return { redirect, error: 'invalid_scope' };
    const method = query.get('code_challenge_method');
    if (query.get('code_challenge') && method !== 'S256') return { redirect, error: 'invalid_request' };
    return { redirect };
  }

  private authorize(req: IncomingMessage, res: ServerResponse, query: URLSearchParams): void {
    const { redirect, error } = this.checkAuthorize(query);
    if (error) return this.back(res, redirect, { error }, query);
    // Signed in here within the hour: straight back with a code, as the managed login does.
    if (this.sessionOf(req)) return this.back(res, redirect, { code: this.grants.issueCode(query) }, query);
    res.writeHead(302, { location: `/login?${query}`, 'cache-control': 'no-store' }).end();
  }

  private loginForm(
    res: ServerResponse,
    query: URLSearchParams,
    problem?: { status: number; username: string; message: string },
  ): void {
    this.checkAuthorize(query);
    const html = loginPage(`/login?${query}`, problem?.username ?? '', problem?.message);
    res.writeHead(problem?.status ?? 200, {
      'content-type': 'text/html; charset=utf-8',
      'cache-control': 'no-store',
      'content-security-policy':
        // The form posts here, and its answer redirects to the console: both are form targets.
        `default-src 'none'; style-src 'unsafe-inline'; form-action 'self' ${this.callbackOrigins()}; frame-ancestors 'none'`,
      'x-frame-options': 'DENY',
    });
    res.end(html);
  }

  private async login(req: IncomingMessage, res: ServerResponse, query: URLSearchParams): Promise<void> {
    const { redirect, error } = this.checkAuthorize(query);
    const form = new URLSearchParams((await readBody(req, 16 * 1024)).toString('utf8'));
    const username = (form.get('username') ?? '').trim();
    const password = form.get('password') ?? '';
    if (!this.passwordMatches(username, password)) {
      this.options.log('[cognito] sign-in refused: incorrect username or password');
      return this.loginForm(res, query, {
        status: 400,
        username,
        message: 'Incorrect username or password.',
      });
    }
    if (error) return this.back(res, redirect, { error }, query);
    const session = randomBytes(24).toString('base64url');
    this.signedIn.set(session, Date.now() + SESSION_SECONDS * 1000);
    res.setHeader(
      'set-cookie',
      `${SESSION_COOKIE}=${session}; Path=/; HttpOnly; SameSite=Lax; Max-Age=${SESSION_SECONDS}`,
    );
    this.options.log(`[cognito] ${this.hostUser.username} signed in`);
    this.back(res, redirect, { code: this.grants.issueCode(query) }, query);
  }

  private passwordMatches(username: string, password: string): boolean {
    const given = createHash('sha256').update(password).digest();
    const known = createHash('sha256').update(this.hostUser.password).digest();
    return username.toLowerCase() === this.hostUser.username && timingSafeEqual(given, known);
  }

  /** Back to the console with `params` and the request's `state`. */
  private back(
    res: ServerResponse,
    redirect: URL,
    params: Record<string, string>,
    query: URLSearchParams,
  ): void {
    const target = new URL(redirect);
    for (const [name, value] of Object.entries(params)) target.searchParams.set(name, value);
    const state = query.get('state');
    if (state !== null) target.searchParams.set('state', state);
    res.writeHead(302, { location: target.toString(), 'cache-control': 'no-store' }).end();
  }

  /** The token and revoke endpoints: form in, JSON out, readable by the console's origin. */
  private async oauth(
    req: IncomingMessage,
    res: ServerResponse,
    cors: Record<string, string>,
    call: (form: URLSearchParams) => TokenReply,
  ): Promise<void> {
    const reply = call(new URLSearchParams((await readBody(req, 16 * 1024)).toString('utf8')));
    if (reply.ok) return sendJson(res, 200, reply.body, { ...cors, 'cache-control': 'no-store' });
    this.options.log(`[cognito] ${requestUrl(req).pathname} refused: ${reply.error} (${reply.description})`);
    sendJson(res, 400, { error: reply.error, error_description: reply.description }, cors);
  }

  /**
   * The URL `param` names, which must be one the client registered, for this client: anything
   * else is an error page, never a redirect to somewhere unknown.
   */
  private registeredUrl(
    query: URLSearchParams,
    param: string,
    registered: readonly string[],
    error: string,
  ): URL {
    if (query.get('client_id') !== this.options.spec.clientId)
      throw new HttpError(400, 'invalid_request: unknown client_id');
    const url = query.get(param) ?? '';
    if (!registered.includes(url))
      throw new HttpError(400, `${error}: ${param} is not registered for this client`);
    return new URL(url);
  }

  /** Ends the managed login's session and returns to a registered sign-out URL. */
  private logout(req: IncomingMessage, res: ServerResponse, query: URLSearchParams): void {
    const logoutUri = this.registeredUrl(
      query,
      'logout_uri',
      this.options.spec.logoutUrls,
      'invalid_request',
    );
    const session = this.sessionOf(req);
    if (session) this.signedIn.delete(session);
    this.options.log('[cognito] signed out');
    res
      .writeHead(302, {
        location: logoutUri.toString(),
        'set-cookie': `${SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0`,
        'cache-control': 'no-store',
      })
      .end();
  }

  /** The managed-login session of the request's cookie, while it lasts. */
  private sessionOf(req: IncomingMessage): string | undefined {
    const cookie = (req.headers.cookie ?? '')
      .split(';')
      .map((c) => c.trim().split('='))
      .find(([name]) => name === SESSION_COOKIE)?.[1];
    const until = cookie ? this.signedIn.get(cookie) : undefined;
    return cookie && until && until > Date.now() ? cookie : undefined;
  }
}
