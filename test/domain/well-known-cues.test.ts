import fc from 'fast-check';
import { MAX_CUE_BYTES } from '../../client/wire';
import { encodeCustomCue } from '../../lambda/domain/cue';
import { BadRequestError, type DomainError, PayloadTooLargeError } from '../../lambda/domain/errors';
import { parseSendEvent } from '../../lambda/domain/event';
import { assertProperty, outcomeOf, thrownBy } from './support';

/** docs/protocol.md §4.5: the drop and the announcement, whose data `POST /events` checks. */
const DROP = {
  title: 'Tour tee',
  price: '€25',
  image: 'https://shop.example/tee.jpg',
  link: 'https://shop.example/tee?ref=live',
};
const drop = (data: Record<string, unknown>) => ({ type: 'drop', data });
const announcement = (data: Record<string, unknown>) => ({ type: 'announcement', data });

const refusal = (body: unknown): string => {
  const error = thrownBy(() => parseSendEvent(body));
  expect(error).toBeInstanceOf(BadRequestError);
  expect(error).toMatchObject({ code: 'BAD_REQUEST', status: 400 });
  return (error as DomainError).message;
};

describe('when a drop is sent', () => {
  it('keeps its fields and fills in the default seconds, so the cue always carries them', () => {
    expect(parseSendEvent(drop(DROP))).toEqual({ type: 'drop', data: { ...DROP, seconds: 20 } });
    expect(parseSendEvent(drop({ ...DROP, seconds: 45 })).data.seconds).toBe(45);
  });

  it.each<[string, Record<string, unknown>, RegExp]>([
    [
      'the title is missing',
      { price: DROP.price, image: DROP.image, link: DROP.link },
      /^data\.title: is required$/,
    ],
    ['the title is blank', { ...DROP, title: ' \u200b ' }, /^data\.title: must not be blank$/],
    ['the title is a Hangul filler', { ...DROP, title: '\u3164' }, /^data\.title: must not be blank$/],
    ['the price is a braille blank', { ...DROP, price: '\u2800' }, /^data\.price: must not be blank$/],
    [
      'the title has a lone surrogate',
      { ...DROP, title: 'Tee \udc00' },
      /^data\.title: must be valid Unicode text \(it has a lone surrogate\)$/,
    ],
    [
      'the title is too long',
      { ...DROP, title: 'x'.repeat(81) },
      /^data\.title: must be 1 to 80 characters$/,
    ],
    ['the price is a number', { ...DROP, price: 25 }, /^data\.price: must be a string$/],
    [
      'the price is too long',
      { ...DROP, price: '9'.repeat(25) },
      /^data\.price: must be 1 to 24 characters$/,
    ],
    [
      'the image is http',
      { ...DROP, image: 'http://shop.example/tee.jpg' },
      /^data\.image: must be an absolute https/,
    ],
    [
      'the link is javascript:',
      { ...DROP, link: 'javascript:alert(1)' },
      /^data\.link: must be an absolute https/,
    ],
    [
      'the link is a data: URL',
      { ...DROP, link: 'data:text/html,<b>x</b>' },
      /^data\.link: must be an absolute https/,
    ],
    ['the link is relative', { ...DROP, link: '/tee' }, /^data\.link: must be an absolute https/],
    [
      'the link carries a password',
      { ...DROP, link: 'https://a:b@shop.example/' },
      /^data\.link: must be an absolute/,
    ],
    [
      'the image is too long',
      { ...DROP, image: `https://a.example/${'x'.repeat(500)}` },
      /^data\.image: must be at most 512/,
    ],
    ['seconds is below 3', { ...DROP, seconds: 2 }, /^data\.seconds: must be 3 to 120$/],
    ['seconds is above 120', { ...DROP, seconds: 121 }, /^data\.seconds: must be 3 to 120$/],
    ['seconds is not whole', { ...DROP, seconds: 2.5 }, /^data\.seconds: must be an integer$/],
    ['a field is unknown', { ...DROP, sku: 'TEE-42' }, /^data: unknown field "sku"$/],
  ])('refuses it with a 400 naming the field when %s', (_case, data, message) => {
    expect(refusal(drop(data))).toMatch(message);
  });

  it.each<[string, string]>([
    ['a leading space', ' https://shop.example/tee'],
    ['a trailing newline', 'https://shop.example/tee\n'],
    ['a tab in the host', 'https://shop.\texample/'],
    ['backslashes for slashes', 'https:\\\\evil.example\\x'],
    ['a NUL', 'https://shop.example/\u0000tee'],
    ['a no-break space', 'https://shop.example/\u00a0tee'],
    ['a lone surrogate', 'https://shop.example/\ud800'],
  ])('refuses a URL with %s, which a browser would quietly repair', (_case, link) => {
    expect(refusal(drop({ ...DROP, link }))).toBe(
      'data.link: must not contain white space, control characters, backslashes or lone surrogates',
    );
  });

  it.each<[string, string]>([
    ['no slashes', 'https:evil.example'],
    ['one slash', 'https:/evil.example'],
    ['three slashes', 'https:///evil.example'],
  ])('refuses a URL with %s after the scheme', (_case, image) => {
    expect(refusal(drop({ ...DROP, image }))).toBe(
      'data.image: must be an absolute https:// URL (no user name or password)',
    );
  });

  it('sends the canonical form of a URL it accepts: scheme and host in lower case, the default port dropped', () => {
    const data = parseSendEvent(
      drop({ ...DROP, image: 'HTTPS://Shop.Example:443/a/./b/../tee.jpg', link: 'https://shop.example' }),
    ).data;
    expect(data).toMatchObject({ image: 'https://shop.example/a/tee.jpg', link: 'https://shop.example/' });
  });

  it('sends the canonical form of every URL it accepts, and accepts generated https URLs', () => {
    let accepted = 0;
    assertProperty(
      fc.property(
        fc.oneof(
          fc.webUrl({ validSchemes: ['https'], withQueryParameters: true, withFragments: true }),
          fc.webUrl({ validSchemes: ['https'] }).map((url) => url.replace(/^https/, 'HTTPS')),
          fc.string(),
        ),
        (link) => {
          const outcome = outcomeOf(() => parseSendEvent(drop({ ...DROP, link })));
          if (!outcome.ok) return;
          accepted++;
          const sent = outcome.value.data.link as string;
          expect(sent).toBe(new URL(link).href);
          expect(new URL(sent).href).toBe(sent);
          expect(sent).toMatch(/^https:\/\/[^/\\\s]/);
        },
      ),
    );
    // Generated web URLs are two thirds of the input: most of them must pass, or the property proved little.
    expect(accepted).toBeGreaterThan(30);
  });

  it('refuses a drop whose cue would not fit 1 KB with a 413, though each field is within its rule', () => {
    const long = (n: number) => `https://shop.example/${'p'.repeat(n)}`;
    const body = parseSendEvent(drop({ ...DROP, title: 'é'.repeat(80), image: long(480), link: long(480) }));
    const error = thrownBy(() => encodeCustomCue({ ...body, eventId: 'e'.repeat(16) }));
    expect(error).toBeInstanceOf(PayloadTooLargeError);
    expect((error as PayloadTooLargeError).bytes).toBeGreaterThan(MAX_CUE_BYTES);
  });
});

describe('when an announcement is sent', () => {
  it('keeps its text and fills in the default seconds', () => {
    expect(parseSendEvent(announcement({ text: 'Round two soon!' }))).toEqual({
      type: 'announcement',
      data: { text: 'Round two soon!', seconds: 10 },
    });
  });

  it.each<[string, Record<string, unknown>, RegExp]>([
    ['the text is missing', {}, /^data\.text: is required$/],
    ['the text is too long', { text: 'x'.repeat(201) }, /^data\.text: must be 1 to 200 characters$/],
    ['seconds is a string', { text: 'hi', seconds: '10' }, /^data\.seconds: must be an integer$/],
    ['a field is unknown', { text: 'hi', html: '<b>hi</b>' }, /^data: unknown field "html"$/],
  ])('refuses it with a 400 naming the field when %s', (_case, data, message) => {
    expect(refusal(announcement(data))).toMatch(message);
  });

  it('keeps markup as plain text: the page shows it, never parses it', () => {
    const text = '<img src=x onerror=alert(1)>';
    expect(parseSendEvent(announcement({ text })).data.text).toBe(text);
  });
});

describe('when any other custom type is sent', () => {
  it('passes its data through unchanged, whatever its fields', () => {
    const data = { sku: 'TEE-42', link: 'javascript:anything', nested: { seconds: 'x' } };
    expect(parseSendEvent({ type: 'drops', data })).toEqual({ type: 'drops', data });
  });
});
