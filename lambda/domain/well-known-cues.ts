import * as z from 'zod/mini';
import { ANNOUNCEMENT_DEFAULT_SECONDS, DROP_DEFAULT_SECONDS, type WellKnownCueType } from '../../client/wire';
import { text } from './validation';

/**
 * The custom cue types the viewer page itself renders (docs/protocol.md §4.5): `POST /events`
 * checks their `data` with these schemas, so a page never meets a drop it cannot show. Every
 * other type still passes its data through unchanged.
 */

export const DROP_TITLE_MAX_CHARS = 80;
export const DROP_PRICE_MAX_CHARS = 24;
export const ANNOUNCEMENT_MAX_CHARS = 200;
/** Long enough for any real image or shop URL; the whole cue must still fit 1 KB. */
export const URL_MAX_CHARS = 512;
export const MIN_SHOW_SECONDS = 3;
export const MAX_SHOW_SECONDS = 120;

/**
 * An absolute `https:` URL with a host and no user name or password, sent on in its canonical
 * (WHATWG `href`) form. Anything else (`http:`, `javascript:`, `data:`, a relative path) is
 * refused: the page turns these into an image and a link, and must never be handed a script or a
 * cleartext address. Input a browser would quietly repair (white space, control characters,
 * backslashes, a missing `//`) is refused too, so every listener gets the URL the host meant.
 * The case of the scheme and host, a default port, `.` segments and percent-encoding are
 * normalized (docs/protocol.md §4.5).
 */
const httpsUrl = () =>
  z.string({ error: 'must be a string' }).check(
    z.refine((value) => value.length <= URL_MAX_CHARS, {
      error: `must be at most ${URL_MAX_CHARS} characters`,
      abort: true,
    }),
    z.refine((value) => !UNCLEAN_URL.test(value), {
      error: 'must not contain white space, control characters, backslashes or lone surrogates',
      abort: true,
    }),
    z.refine(isHttpsUrl, {
      error: 'must be an absolute https:// URL (no user name or password)',
      abort: true,
    }),
    z.overwrite((value) => new URL(value).href),
    z.refine((value) => value.length <= URL_MAX_CHARS, {
      error: `must be at most ${URL_MAX_CHARS} characters once normalized`,
    }),
  );

/** What the URL parser would strip, or read as a slash, or replace: \s is Unicode white space. */
const UNCLEAN_URL = /[\s\p{Cc}\\\p{Cs}]/u;

function isHttpsUrl(value: string): boolean {
  // `https:host` parses as `https://host`: the slashes are required so that no parser reads it otherwise.
  if (!/^https:\/\/[^/]/i.test(value) || !URL.canParse(value)) return false;
  const url = new URL(value);
  return url.protocol === 'https:' && url.hostname !== '' && url.username === '' && url.password === '';
}

const showSeconds = (fallback: number) =>
  z._default(
    z
      .int({ error: 'must be an integer' })
      .check(
        z.gte(MIN_SHOW_SECONDS, { error: `must be ${MIN_SHOW_SECONDS} to ${MAX_SHOW_SECONDS}` }),
        z.lte(MAX_SHOW_SECONDS, { error: `must be ${MIN_SHOW_SECONDS} to ${MAX_SHOW_SECONDS}` }),
      ),
    fallback,
  );

const DropDataSchema = z.strictObject(
  {
    title: text(1, DROP_TITLE_MAX_CHARS),
    /** Display text, shown as written: "€19", "19.00 USD", "Free". */
    price: text(1, DROP_PRICE_MAX_CHARS),
    image: httpsUrl(),
    link: httpsUrl(),
    seconds: showSeconds(DROP_DEFAULT_SECONDS),
  },
  { error: 'must be a JSON object' },
);

const AnnouncementDataSchema = z.strictObject(
  {
    text: text(1, ANNOUNCEMENT_MAX_CHARS),
    seconds: showSeconds(ANNOUNCEMENT_DEFAULT_SECONDS),
  },
  { error: 'must be a JSON object' },
);

/** The `data` schema of each well-known type; `seconds` is filled in, so the cue always carries it. */
export const WELL_KNOWN_DATA: Readonly<Record<WellKnownCueType, z.ZodMiniType<Record<string, unknown>>>> = {
  drop: DropDataSchema,
  announcement: AnnouncementDataSchema,
};

export const isWellKnownType = (type: string): type is WellKnownCueType =>
  Object.hasOwn(WELL_KNOWN_DATA, type);
