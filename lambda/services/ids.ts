import { randomBytes } from 'node:crypto';

/** A URL-safe, unguessable id (96 random bits, 16 characters of base64url). */
export const newId = (): string => randomBytes(12).toString('base64url');
