import fc from 'fast-check';
import * as z from 'zod/mini';
import { BadRequestError } from '../../lambda/domain/errors';
import { countChars, ID_PATTERN, parseWith, text } from '../../lambda/domain/validation';
import { anyString, assertProperty, codePoints, hasNonSpace, heavyString, thrownBy } from './support';

describe('when characters are counted', () => {
  it('counts code points', () => {
    expect(countChars('')).toBe(0);
    expect(countChars('abc')).toBe(3);
    expect(countChars('\u00e9')).toBe(1);
    expect(countChars('e\u0301')).toBe(2);
    expect(countChars('😀')).toBe(1);
    expect(countChars('👍🏽')).toBe(2);
    expect(countChars('\ud800')).toBe(1);
    expect(countChars('\ud800x\udfff')).toBe(3);
  });

  it('agrees with the code points of any string, lone surrogates included', () => {
    assertProperty(
      fc.property(fc.oneof(anyString(300), heavyString(100)), (value) => {
        expect(countChars(value)).toBe(codePoints(value));
      }),
    );
  });
});

describe('when a text field is validated', () => {
  it('accepts exactly the strings of min..max code points that are not blank', () => {
    assertProperty(
      fc.property(
        fc.integer({ min: 1, max: 10 }),
        fc.integer({ min: 0, max: 30 }),
        fc.oneof(anyString(45), heavyString(45), fc.constantFrom(' ', '\t', '\u3000 ')),
        (min, extra, value) => {
          const max = min + extra;
          const valid = codePoints(value) >= min && codePoints(value) <= max && hasNonSpace(value);
          if (valid) {
            expect(parseWith(text(min, max), value, 'label')).toBe(value);
          } else {
            expect(() => parseWith(text(min, max), value, 'label')).toThrow(BadRequestError);
            expect(() => parseWith(text(min, max), value, 'label')).toThrow(
              new RegExp(`^label: (must be ${min} to ${max} characters|must not be blank)$`),
            );
          }
        },
      ),
      300,
    );
  });

  it('refuses what is not a string with a 400 on the field', () => {
    assertProperty(
      fc.property(
        fc.anything().filter((value) => typeof value !== 'string' && value !== undefined),
        (value) => {
          expect(() => parseWith(text(1, 5), value, 'label')).toThrow(/^label: must be a string$/);
        },
      ),
    );
  });

  it('says the field is required when it is missing', () => {
    expect(() => parseWith(text(1, 5), undefined, 'label')).toThrow(/^label: is required$/);
  });
});

describe('when a schema issue is reported', () => {
  const schema = z.strictObject({
    a: z.strictObject({ b: z.array(z.strictObject({ c: z.string({ error: 'must be a string' }) })) }),
  });

  it('names a nested field with dots and indexes', () => {
    expect(() => parseWith(schema, { a: { b: [{ c: 'x' }, { c: 1 }] } })).toThrow(
      /^a\.b\[1\]\.c: must be a string$/,
    );
  });

  it('names the root after `what`, defaulting to body', () => {
    expect(() => parseWith(schema, 'nope')).toThrow(/^body: /);
    expect(() => parseWith(schema, 'nope', 'payload')).toThrow(/^payload: /);
  });

  it('lists unknown fields on the object that holds them', () => {
    expect(() => parseWith(schema, { a: { b: [], x: 1 } })).toThrow(/^a: unknown field "x"$/);
    expect(() => parseWith(schema, { a: { b: [] }, x: 1, y: 2 })).toThrow(/^body: unknown fields "x", "y"$/);
  });

  it('tells a missing field from a wrong one', () => {
    expect(() => parseWith(schema, { a: { b: [{}] } })).toThrow(/^a\.b\[0\]\.c: is required$/);
    expect(() => parseWith(schema, { a: { b: [{ c: null }] } })).toThrow(/^a\.b\[0\]\.c: must be a string$/);
  });

  it('returns the parsed value when there is no issue, and is a 400 otherwise', () => {
    expect(parseWith(schema, { a: { b: [{ c: 'x' }] } })).toEqual({ a: { b: [{ c: 'x' }] } });
    expect(thrownBy(() => parseWith(schema, {}))).toMatchObject({ code: 'BAD_REQUEST', status: 400 });
  });
});

describe('when an id is checked', () => {
  it('matches 1 to 64 URL-safe characters only', () => {
    assertProperty(
      fc.property(anyString(70), (value) => {
        expect(ID_PATTERN.test(value)).toBe(/^[A-Za-z0-9_-]{1,64}$/.test(value));
      }),
    );
    expect(ID_PATTERN.test('a'.repeat(64))).toBe(true);
    expect(ID_PATTERN.test('a'.repeat(65))).toBe(false);
    expect(ID_PATTERN.test('')).toBe(false);
  });
});
