import { createHash, createHmac } from 'node:crypto';

/** SHA-256 and HMAC-SHA-256 for the SigV4 signer, from node:crypto. */
export class NodeSha256 {
  private readonly hash;

  constructor(secret?: string | Uint8Array) {
    this.hash = secret ? createHmac('sha256', secret) : createHash('sha256');
  }

  update(data: string | Uint8Array): void {
    this.hash.update(data);
  }

  async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.hash.digest());
  }
}
