/**
 * The viewer's token when viewer auth is on (docs/protocol.md §5.2): kept in
 * localStorage so a reload or a reconnect stays the same viewer, renewed through
 * `POST /viewer-token {"token"}` long before it expires, and replaced by a new one only when
 * the server refuses it (401: forged, expired, or signed with a key since replaced).
 */
const STORAGE_KEY = 'cuecast.viewerToken';
/** Renew once less than this much of the token's life is left. */
const RENEW_WHEN_LEFT_SECONDS = 60 * 60;

interface Issued {
  readonly token: string;
  readonly viewerId: string;
  readonly expiresAt: string;
}

/** The expiry a token claims, read without checking it: the server does that. */
export function claimedExpiry(token: string): number | undefined {
  const payload = token.split('.')[1];
  if (!payload) return undefined;
  try {
    const json = atob(payload.replace(/-/g, '+').replace(/_/g, '/'));
    const exp = (JSON.parse(json) as { exp?: unknown }).exp;
    return typeof exp === 'number' ? exp : undefined;
  } catch {
    return undefined;
  }
}

export class ViewerTokenKeeper {
  private suspect = false;

  constructor(
    private readonly url: string,
    private readonly storage: Pick<Storage, 'getItem' | 'setItem' | 'removeItem'> = window.localStorage,
    private readonly now: () => number = Date.now,
  ) {}

  /** The id answers count under, once a token is held. */
  get viewerId(): string | undefined {
    return this.stored()?.viewerId;
  }

  /**
   * A token to connect with. A connection that failed before opening marks the token suspect
   * (a browser cannot see the 401), so the next call asks the server about it first.
   */
  async token(): Promise<string> {
    const held = this.stored();
    const exp = held ? claimedExpiry(held.token) : undefined;
    const secondsLeft = exp === undefined ? -1 : exp - this.now() / 1000;
    if (held && !this.suspect && secondsLeft > RENEW_WHEN_LEFT_SECONDS) return held.token;
    const renewed = held && secondsLeft > 0 ? await this.issue({ token: held.token }) : undefined;
    const issued = renewed ?? (await this.issue({}));
    if (!issued) throw new Error('the server would not issue a viewer token');
    this.storage.setItem(STORAGE_KEY, JSON.stringify(issued));
    this.suspect = false;
    return issued.token;
  }

  /** Call when a connection closed without ever opening. */
  connectFailed(): void {
    this.suspect = true;
  }

  private stored(): Issued | undefined {
    try {
      const value = JSON.parse(this.storage.getItem(STORAGE_KEY) ?? 'null') as Issued | null;
      return value && typeof value.token === 'string' && typeof value.viewerId === 'string'
        ? value
        : undefined;
    } catch {
      return undefined;
    }
  }

  /** 201 → the token; 401 → undefined (start over as a new viewer); anything else throws. */
  private async issue(body: { token?: string }): Promise<Issued | undefined> {
    const res = await fetch(this.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    if (res.status === 401) {
      this.storage.removeItem(STORAGE_KEY);
      return undefined;
    }
    if (res.status !== 201) throw new Error(`POST /viewer-token: HTTP ${res.status}`);
    return (await res.json()) as Issued;
  }
}
