import fc from 'fast-check';
import * as z from 'zod/mini';
import { BadRequestError } from '../../lambda/domain/errors';
import {
  countChars,
  ID_PATTERN,
  MAX_JSON_DEPTH,
  parseJson,
  parseWith,
  text,
} from '../../lambda/domain/validation';
import {
  anyString,
  assertProperty,
  codePoints,
  hasNonSpace,
  heavyString,
  isWellFormedText,
  outcomeOf,
  thrownBy,
} from './support';

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
        fc.oneof(anyString(45), heavyString(45), fc.constantFrom(' ', '\t', '\u3000 '), invisibleString(45)),
        (min, extra, value) => {
          const max = min + extra;
          const valid =
            isWellFormedText(value) &&
            codePoints(value) >= min &&
            codePoints(value) <= max &&
            hasNonSpace(value);
          if (valid) {
            expect(parseWith(text(min, max), value, 'label')).toBe(value);
          } else {
            expect(() => parseWith(text(min, max), value, 'label')).toThrow(BadRequestError);
            expect(() => parseWith(text(min, max), value, 'label')).toThrow(
              new RegExp(
                `^label: (must be ${min} to ${max} characters|must not be blank|${LONE_SURROGATE})$`,
              ),
            );
          }
        },
      ),
      300,
    );
  });

  it('refuses as blank any mix of white space and format characters, and accepts it around a visible one', () => {
    assertProperty(
      fc.property(
        invisibleString(40).filter((value) => value.length > 0),
        fc.constantFrom('a', 'é', '😀', 'Ж', '?'),
        fc.nat(),
        (blank, visible, at) => {
          expect(() => parseWith(text(1, 200), blank, 'question')).toThrow(/^question: must not be blank$/);
          const chars = Array.from(blank);
          chars.splice(at % (chars.length + 1), 0, visible);
          expect(parseWith(text(1, 200), chars.join(''), 'question')).toBe(chars.join(''));
        },
      ),
      300,
    );
  });

  it('refuses a question of zero-width spaces only', () => {
    expect(() => parseWith(text(1, 200), '​​​', 'question')).toThrow(/^question: must not be blank$/);
  });

  it.each([
    ['U+3164 HANGUL FILLER', '\u3164'],
    ['U+115F and U+1160, the Hangul choseong and jungseong fillers', '\u115f\u1160'],
    ['U+FFA0 HALFWIDTH HANGUL FILLER', '\uffa0'],
    ['U+2800 BRAILLE PATTERN BLANK', '\u2800\u2800'],
    ['a lone combining mark', '\u0301'],
    ['combining marks around a space', '\u0300 \u20dd'],
    ['U+180E MONGOLIAN VOWEL SEPARATOR', '\u180e'],
    ['variation selectors', '\ufe0f\u{e0100}'],
    ['U+034F COMBINING GRAPHEME JOINER', '\u034f'],
    ['a NUL and other control characters', '\u0000\u0007\u009f'],
  ])('refuses %s as blank', (_name, blank) => {
    expect(() => parseWith(text(1, 200), blank, 'question')).toThrow(/^question: must not be blank$/);
  });

  it('accepts a mark or a selector on a visible character', () => {
    for (const value of ['e\u0301', '\u2764\ufe0f', '\u3164a', '\u2801']) {
      expect(parseWith(text(1, 200), value, 'title')).toBe(value);
    }
  });

  it('refuses a lone surrogate anywhere, however visible the rest is', () => {
    assertProperty(
      fc.property(
        fc.string({ unit: 'grapheme', maxLength: 20 }),
        fc.integer({ min: 0xd800, max: 0xdfff }),
        fc.string({ unit: 'grapheme', maxLength: 20 }),
        (before, unit, after) => {
          const value = `a${before}${String.fromCharCode(unit)}${after}`;
          fc.pre(!isWellFormedText(value));
          expect(() => parseWith(text(1, 200), value, 'choices[1]')).toThrow(
            new RegExp(`^choices\\[1\\]: ${LONE_SURROGATE}$`),
          );
        },
      ),
    );
    expect(parseWith(text(1, 5), '😀', 'choices[0]')).toBe('😀');
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

describe('when JSON text is parsed for a validator', () => {
  it(`accepts nesting up to ${MAX_JSON_DEPTH} levels and refuses anything deeper, counting brackets in strings as text`, () => {
    assertProperty(
      fc.property(nestedJson(MAX_JSON_DEPTH + 8), ({ value, depth }) => {
        const json = JSON.stringify(value);
        if (depth <= MAX_JSON_DEPTH) {
          expect(parseJson(json, 'body')).toEqual(value);
        } else {
          expect(() => parseJson(json, 'body')).toThrow(
            new RegExp(`^body: nests deeper than ${MAX_JSON_DEPTH} levels of arrays and objects$`),
          );
        }
      }),
      300,
    );
  });

  it('refuses 10,000 levels of arrays or objects with a 400 naming the nesting, not a stack overflow', () => {
    const arrays = `${'['.repeat(10_000)}${']'.repeat(10_000)}`;
    const objects = `${'{"a":'.repeat(10_000)}1${'}'.repeat(10_000)}`;
    for (const deep of [arrays, objects]) {
      expect(thrownBy(() => parseJson(deep, 'message'))).toMatchObject({
        code: 'BAD_REQUEST',
        message: expect.stringMatching(/^message: nests deeper than 32 levels/),
      });
    }
  });

  it('says the text is not valid JSON, naming `what`', () => {
    assertProperty(
      fc.property(
        fc.string().filter((value) => !isJson(value)),
        (value) => {
          expect(() => parseJson(value, 'message')).toThrow(/^message: (is not valid JSON|nests deeper)/);
        },
      ),
    );
  });
});

const LONE_SURROGATE = 'must be valid Unicode text \\(it has a lone surrogate\\)';

/**
 * Every character JavaScript's `\s` calls white space, every format character (Unicode Cf), and
 * the fillers, marks and selectors that show nothing on their own.
 */
const INVISIBLE = [
  ...'\u115f\u1160\u3164\uffa0\u2800\u0301\u20dd\u0903\ufe00\ufe0f\u{e0100}\u{e01ef}\u0000\u007f',
  ...' \t\n\v\f\r\u00a0\u1680\u2028\u2029\u202f\u205f\u3000\ufeff',
  ...Array.from({ length: 11 }, (_, i) => String.fromCodePoint(0x2000 + i)),
  ...Array.from({ length: 0x110000 }, (_, cp) => cp)
    .filter((cp) => (cp < 0xd800 || cp > 0xdfff) && /^\p{Cf}$/u.test(String.fromCodePoint(cp)))
    .map((cp) => String.fromCodePoint(cp)),
];

/** Strings that show nothing: zero-width spaces and joiners, word joiners, BOMs, spaces of all kinds. */
function invisibleString(maxLength: number): fc.Arbitrary<string> {
  return fc.array(fc.constantFrom(...INVISIBLE), { maxLength }).map((chars) => chars.join(''));
}

const isJson = (value: string): boolean => outcomeOf(() => JSON.parse(value)).ok;

/**
 * A JSON value wrapped in `depth` arrays or objects (keys and strings full of brackets, quotes
 * and backslashes), with its depth counted here by construction.
 */
function nestedJson(maxDepth: number): fc.Arbitrary<{ value: unknown; depth: number }> {
  const tricky = fc.stringMatching(/^[[\]{}"\\a:,]{0,6}$/);
  const leaf = fc.oneof(fc.integer(), tricky, fc.constant(null), fc.boolean());
  const wrapper = fc.oneof(
    fc.constant((inner: unknown): unknown => [inner]),
    tricky.map((key) => (inner: unknown): unknown => ({ '[': ']', [key]: inner })),
    tricky.map((text) => (inner: unknown): unknown => [text, inner, '{']),
  );
  const wrappers = fc
    .integer({ min: 0, max: maxDepth })
    .chain((depth) => fc.array(wrapper, { minLength: depth, maxLength: depth }));
  return fc.tuple(leaf, wrappers).map(([start, wrappers]) => ({
    value: wrappers.reduce<unknown>((inner, wrap) => wrap(inner), start),
    depth: wrappers.length,
  }));
}
