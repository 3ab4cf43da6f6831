import fc from 'fast-check';
import { UnauthorizedError } from '../../lambda/domain/errors';
import {
  MAX_TOKEN_CHARS,
  signViewerToken,
  TOKEN_VERSION,
  verifyViewerToken,
} from '../../lambda/domain/viewer-token';

const KEY = Buffer.from('k'.repeat(40));
const OTHER_KEY = Buffer.from('j'.repeat(40));
const NOW = new Date('2026-11-24T18:00:00.000Z');
const LATER = (seconds: number) => new Date(NOW.getTime() + seconds * 1000);
const viewerIds = fc.stringMatching(/^[A-Za-z0-9_-]{1,64}$/);

const reasonOf = (fn: () => unknown): string => {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(UnauthorizedError);
    expect((error as UnauthorizedError).code).toBe('UNAUTHORIZED');
    expect((error as UnauthorizedError).status).toBe(401);
    return (error as UnauthorizedError).reason;
  }
  throw new Error('expected the token to be refused');
};

describe('when a viewer token is signed', () => {
  it('verifies back to the same viewer until just before it expires', () => {
    fc.assert(
      fc.property(viewerIds, fc.integer({ min: 300, max: 86_400 }), (viewerId, ttl) => {
        const { token, claims } = signViewerToken(KEY, viewerId, NOW, ttl);
        expect(token.startsWith(`${TOKEN_VERSION}.`)).toBe(true);
        expect(token.length).toBeLessThanOrEqual(MAX_TOKEN_CHARS);
        expect(claims).toStrictEqual({
          sub: viewerId,
          iat: NOW.getTime() / 1000,
          exp: NOW.getTime() / 1000 + ttl,
        });
        expect(verifyViewerToken(KEY, token, LATER(ttl - 1))).toStrictEqual(claims);
        expect(reasonOf(() => verifyViewerToken(KEY, token, LATER(ttl)))).toBe('expired');
      }),
    );
  });

  it('refuses a key shorter than 32 bytes, and a viewer id that is not URL-safe', () => {
    expect(() => signViewerToken(Buffer.from('short'), 'v1', NOW)).toThrow(/at least 32 bytes/);
    expect(() => signViewerToken(KEY, 'has space', NOW)).toThrow(/not URL-safe/);
    expect(() => verifyViewerToken(Buffer.alloc(8), 'x', NOW)).toThrow(/at least 32 bytes/);
  });
});

describe('when a token is forged or damaged', () => {
  const { token } = signViewerToken(KEY, 'viewer-1', NOW);
  const [version, payload, mac] = token.split('.');

  it('refuses a token signed with another key', () => {
    expect(reasonOf(() => verifyViewerToken(OTHER_KEY, token, NOW))).toBe('bad signature');
  });

  it('refuses a payload changed to another viewer or a later expiry, keeping the old MAC', () => {
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString());
    for (const forged of [
      { ...claims, sub: 'viewer-2' },
      { ...claims, exp: claims.exp + 86_400 },
    ]) {
      const forgedPayload = Buffer.from(JSON.stringify(forged)).toString('base64url');
      expect(reasonOf(() => verifyViewerToken(KEY, `${version}.${forgedPayload}.${mac}`, NOW))).toBe(
        'bad signature',
      );
    }
  });

  it('refuses every single-character change anywhere in the token', () => {
    fc.assert(
      fc.property(fc.nat(token.length - 1), fc.constantFrom(...'AZaz09-_.x'), (at, char) => {
        fc.pre(token[at] !== char);
        const changed = token.slice(0, at) + char + token.slice(at + 1);
        expect(() => verifyViewerToken(KEY, changed, NOW)).toThrow(UnauthorizedError);
      }),
    );
  });

  it('refuses the MAC re-spelled with other spare bits in its last character', () => {
    const last = mac[mac.length - 1];
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const same = [...alphabet].filter(
      (c) =>
        c !== last && Buffer.from(mac.slice(0, -1) + c, 'base64url').equals(Buffer.from(mac, 'base64url')),
    );
    expect(same.length).toBeGreaterThan(0);
    for (const c of same) {
      expect(
        reasonOf(() => verifyViewerToken(KEY, `${version}.${payload}.${mac.slice(0, -1)}${c}`, NOW)),
      ).toBe('bad signature');
    }
  });

  it.each([
    ['absent', undefined, 'absent'],
    ['empty', '', 'absent'],
    ['a number', 42, 'absent'],
    ['too long', `${token}${'A'.repeat(MAX_TOKEN_CHARS)}`, 'too long'],
    ['two parts', `${version}.${payload}`, 'malformed'],
    ['another version', `v2.${payload}.${mac}`, 'malformed'],
    ['no MAC', `${version}.${payload}.`, 'bad signature'],
  ])('refuses a token that is %s', (_name, value, reason) => {
    expect(reasonOf(() => verifyViewerToken(KEY, value, NOW))).toBe(reason);
  });

  it('refuses a correctly signed payload that is not our claims shape', () => {
    const { createHmac } = require('node:crypto') as typeof import('node:crypto');
    const body = Buffer.from(JSON.stringify({ sub: 'viewer 1', iat: 1, exp: 9e9 })).toString('base64url');
    const signed = `${TOKEN_VERSION}.${body}`;
    const forged = `${signed}.${createHmac('sha256', KEY).update(signed).digest('base64url')}`;
    expect(reasonOf(() => verifyViewerToken(KEY, forged, NOW))).toBe('bad payload');
  });
});
