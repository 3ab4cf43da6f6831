import * as z from 'zod/mini';
import { parseWith } from '../domain/validation';
import {
  MAX_TOKEN_CHARS,
  signViewerToken,
  type ViewerClaims,
  verifyViewerToken,
} from '../domain/viewer-token';
import { newId } from './ids';

/** `POST /viewer-token` body: empty, or `{"token"}` to renew a still-valid token for the same viewer. */
export const IssueTokenSchema = z.strictObject(
  {
    token: z.optional(
      z
        .string({ error: 'must be a string' })
        .check(z.maxLength(MAX_TOKEN_CHARS, { error: `must be at most ${MAX_TOKEN_CHARS} characters` })),
    ),
  },
  { error: 'must be a JSON object' },
);

export type IssueTokenInput = z.output<typeof IssueTokenSchema>;

export const parseIssueToken = (body: unknown): IssueTokenInput => parseWith(IssueTokenSchema, body);

/** `POST /viewer-token` reply (docs/protocol.md §3.8). */
export interface IssuedToken {
  readonly token: string;
  readonly viewerId: string;
  readonly expiresAt: string;
}

/** Hands out and checks viewer tokens; the key comes from the caller (Secrets Manager on AWS). */
export class ViewerTokenService {
  private readonly now: () => Date;

  constructor(
    private readonly key: () => Promise<Buffer>,
    private readonly ttlSeconds: number,
    now?: () => Date,
  ) {
    this.now = now ?? (() => new Date());
  }

  /**
   * A new viewer gets a fresh random id. Renewing keeps the id, so a viewer who comes back
   * is still the viewer who already answered; a forged or expired token to renew is a 401.
   */
  async issue(input: IssueTokenInput): Promise<IssuedToken> {
    const key = await this.key();
    const now = this.now();
    const viewerId = input.token === undefined ? newId() : verifyViewerToken(key, input.token, now).sub;
    const { token, claims } = signViewerToken(key, viewerId, now, this.ttlSeconds);
    return { token, viewerId, expiresAt: new Date(claims.exp * 1000).toISOString() };
  }

  /** Throws UnauthorizedError for an absent, forged, malformed or expired token. */
  async verify(token: unknown): Promise<ViewerClaims> {
    return verifyViewerToken(await this.key(), token, this.now());
  }
}
