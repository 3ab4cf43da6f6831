/**
 * SHA-256 and HMAC-SHA-256 for the SigV4 signer, from WebCrypto. SubtleCrypto cannot hash
 * incrementally, so updates are buffered until digest().
 */
export class BrowserSha256 {
  private readonly chunks: Uint8Array[] = [];

  constructor(private readonly secret?: string | Uint8Array) {}

  update(data: string | Uint8Array): void {
    this.chunks.push(typeof data === 'string' ? new TextEncoder().encode(data) : data);
  }

  async digest(): Promise<Uint8Array> {
    const length = this.chunks.reduce((n, c) => n + c.length, 0);
    const message = new Uint8Array(new ArrayBuffer(length));
    let offset = 0;
    for (const chunk of this.chunks) {
      message.set(chunk, offset);
      offset += chunk.length;
    }
    if (this.secret === undefined) return new Uint8Array(await crypto.subtle.digest('SHA-256', message));
    const keyBytes = Uint8Array.from(
      typeof this.secret === 'string' ? new TextEncoder().encode(this.secret) : this.secret,
    );
    const key = await crypto.subtle.importKey('raw', keyBytes, { name: 'HMAC', hash: 'SHA-256' }, false, [
      'sign',
    ]);
    return new Uint8Array(await crypto.subtle.sign('HMAC', key, message));
  }
}
