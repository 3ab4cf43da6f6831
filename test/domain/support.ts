/**
 * Shared helpers for the domain tests: generators of hostile and near-valid input, and
 * independent oracles that restate docs/protocol.md §3 without calling the code under test.
 */
import fc from 'fast-check';

/**
 * Runs a property `numRuns` times, however long that takes. It used to stop after 5 s and pass
 * silently with the runs done so far: on a loaded machine a 300-run property then ran a handful,
 * and the checks that counted its accepted and rejected bodies failed at random.
 */
export function assertProperty<Ts>(property: fc.IProperty<Ts>, numRuns = 100): void {
  fc.assert(property, { numRuns });
}

/** The outcome of a call, so both branches of a property can be asserted. */
export type Outcome<T> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly error: unknown };

export function outcomeOf<T>(call: () => T): Outcome<T> {
  try {
    return { ok: true, value: call() };
  } catch (error) {
    return { ok: false, error };
  }
}

/** The error a call throws; fails the test if it returns instead. */
export function thrownBy(call: () => unknown): unknown {
  const outcome = outcomeOf(call);
  if (outcome.ok) throw new Error(`expected a throw, but the call returned ${String(outcome.value)}`);
  return outcome.error;
}

/** Code points, counted without the module under test. */
export const codePoints = (value: string): number => Array.from(value).length;

/** Fillers that fonts draw as nothing (docs/protocol.md §3.3), named one by one. */
const BLANK_FILLERS = new Set(['\u115f', '\u1160', '\u3164', '\uffa0', '\u2800', '\u180e', '\u034f']);

/**
 * Not blank (docs/protocol.md §3.3): something in it is not white space, a control or format
 * character (Cc, Cf), a mark (M), a default-ignorable character (variation selectors…) or a filler.
 */
export const hasNonSpace = (value: string): boolean =>
  Array.from(value).some(
    (char) =>
      !BLANK_FILLERS.has(char) &&
      !/^(\s|\p{Cc}|\p{Cf}|\p{Mn}|\p{Mc}|\p{Me}|\p{Default_Ignorable_Code_Point})$/u.test(char),
  );

/** Made of Unicode scalar values: no lone surrogate (docs/protocol.md §3.3). */
export const isWellFormedText = (value: string): boolean =>
  Array.from(value).every((char) => {
    const unit = char.charCodeAt(0);
    return char.length === 2 || unit < 0xd800 || unit > 0xdfff;
  });

export const isPlainRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const UNITS = ['grapheme', 'grapheme-composite', 'grapheme-ascii', 'binary', 'binary-ascii'] as const;
const SIZES = ['small', 'max'] as const;

/** Any string: ASCII, graphemes (emoji, combining marks) or raw code points including lone surrogates. */
export const anyString = (maxLength: number): fc.Arbitrary<string> =>
  fc
    .tuple(fc.constantFrom(...UNITS), fc.constantFrom(...SIZES))
    .chain(([unit, size]) => fc.string({ unit, maxLength, size }));

const EMOJI = ['😀', '👍🏽', '🇫🇷', '👩‍👩‍👧', 'é', 'e\u0301', 'a', ' ', '"', '\\', '\u0000'] as const;

/** Strings made of multi-byte and escaped characters, the ones that make a cue grow fastest. */
export const heavyString = (maxLength: number): fc.Arbitrary<string> =>
  fc.array(fc.constantFrom(...EMOJI), { maxLength, size: 'max' }).map((parts) => parts.join(''));

/** A string the validator must accept: `min..max` code points, not blank. */
export const validText = (min: number, max: number): fc.Arbitrary<string> =>
  fc
    .oneof(anyString(max), heavyString(max))
    .map((value) => Array.from(value).slice(0, max).join(''))
    .filter(
      (value) =>
        codePoints(value) >= min && codePoints(value) <= max && hasNonSpace(value) && isWellFormedText(value),
    );

/** Strings the validator must refuse for a `min..max` text field. */
export const invalidText = (min: number, max: number): fc.Arbitrary<string> =>
  fc.oneof(
    fc.constantFrom('', ' ', '\t\n', '\u00a0\u3000', '\ufeff'),
    fc.string({ unit: 'grapheme-ascii', minLength: max + 1, maxLength: max + 40 }),
    fc.constant('😀'.repeat(max + 1)),
    fc.constant(' '.repeat(Math.max(min, 1))),
  );

/** Whether a value survives JSON (what `z.json()` should accept). */
export function isJsonValue(value: unknown): boolean {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return true;
  if (typeof value === 'number') return Number.isFinite(value);
  if (Array.isArray(value)) return value.every(isJsonValue);
  if (typeof value === 'object') return Object.values(value as object).every(isJsonValue);
  return false;
}

/** Whether any object in a value has an own `__proto__` key. */
export function hasOwnProtoKey(value: unknown): boolean {
  if (typeof value !== 'object' || value === null) return false;
  if (Object.keys(value).includes('__proto__')) return true;
  return Object.values(value).some(hasOwnProtoKey);
}
