import fc from 'fast-check';
import { CUE_VERSION, MAX_CUE_BYTES } from '../../client/wire';
import { encodeCustomCue, encodeQuestionCue, encodeResultCue, utf8Bytes } from '../../lambda/domain/cue';
import { PayloadTooLargeError } from '../../lambda/domain/errors';
import { anyString, assertProperty, heavyString, outcomeOf, thrownBy } from './support';

const eventType = fc.stringMatching(/^[a-z][a-z0-9_-]{0,31}$/);
const id = fc.stringMatching(/^[A-Za-z0-9_-]{1,64}$/);
const data = fc.dictionary(
  anyString(16),
  fc.oneof(fc.jsonValue({ maxDepth: 2 }), anyString(400), heavyString(300)),
  { maxKeys: 5 },
);

/** What the cue must look like on the wire, parsed back (JSON has no -0). */
const roundTrip = (value: unknown): unknown => JSON.parse(JSON.stringify(value));

/** Custom-cue metadata for `{ big: value }` whose length the caller controls. */
const customWith = (value: string) => ({ type: 'poll', eventId: 'e1', data: { big: value } });
const OVERHEAD = utf8Bytes(JSON.stringify({ v: 1, type: 'poll', eventId: 'e1', data: { big: '' } }));

describe('when a byte count is taken', () => {
  it('counts UTF-8 bytes, not UTF-16 units', () => {
    expect(utf8Bytes('abc')).toBe(3);
    expect(utf8Bytes('\u00e9')).toBe(2);
    expect(utf8Bytes('中')).toBe(3);
    expect(utf8Bytes('😀')).toBe(4);
    expect(utf8Bytes('')).toBe(0);
  });

  it('agrees with Buffer.byteLength for any string', () => {
    assertProperty(
      fc.property(anyString(200), (value) => {
        expect(utf8Bytes(value)).toBe(Buffer.byteLength(value, 'utf8'));
      }),
    );
  });
});

describe('when a result cue is encoded', () => {
  it('writes exactly {"v":1,"type":"result","quizId","correctIndex","counts","total","kind"}', () => {
    const cue = encodeResultCue({
      quizId: 'quiz-1',
      correctIndex: 2,
      counts: [3, 0, 9],
      total: 12,
      kind: 'quiz',
    });
    expect(cue.metadata).toBe(
      '{"v":1,"type":"result","quizId":"quiz-1","correctIndex":2,"counts":[3,0,9],"total":12,"kind":"quiz"}',
    );
    expect(cue.bytes).toBe(Buffer.byteLength(cue.metadata, 'utf8'));
  });

  it("writes a poll's result with no correctIndex, even if one is passed", () => {
    const cue = encodeResultCue({
      quizId: 'poll-1',
      correctIndex: 0,
      counts: [4, 1],
      total: 5,
      kind: 'poll',
    });
    expect(cue.metadata).toBe(
      '{"v":1,"type":"result","quizId":"poll-1","counts":[4,1],"total":5,"kind":"poll"}',
    );
  });

  it('carries only the result fields, whatever else the object holds', () => {
    const quiz = {
      quizId: 'quiz-1',
      question: 'secret-looking text',
      correctIndex: 1,
      counts: [1, 2],
      total: 3,
      kind: 'quiz' as const,
      revealedAt: '2030-01-01T00:00:00.000Z',
    };
    expect(Object.keys(JSON.parse(encodeResultCue(quiz).metadata))).toEqual([
      'v',
      'type',
      'quizId',
      'correctIndex',
      'counts',
      'total',
      'kind',
    ]);
  });

  it('round-trips any result that fits', () => {
    assertProperty(
      fc.property(
        id,
        fc.nat(3),
        fc.array(fc.nat({ max: 1_000_000_000 }), { minLength: 2, maxLength: 4 }),
        (quizId, correctIndex, counts) => {
          const total = counts.reduce((a, b) => a + b, 0);
          const cue = encodeResultCue({ quizId, correctIndex, counts, total, kind: 'quiz' });
          expect(JSON.parse(cue.metadata)).toEqual({
            v: 1,
            type: 'result',
            quizId,
            correctIndex,
            counts,
            total,
            kind: 'quiz',
          });
          expect(cue.bytes).toBe(Buffer.byteLength(cue.metadata, 'utf8'));
        },
      ),
    );
  });
});

describe('when a question cue is encoded', () => {
  it('writes exactly {"v":1,"type":"question","quizId","question","choices","closesAt","kind"} and no answer', () => {
    const quiz = {
      quizId: 'quiz-1',
      question: 'Capital?',
      choices: ['Paris', 'Lyon'],
      correctIndex: 0,
      closesAt: '2030-01-01T00:00:20.000Z',
      kind: 'quiz' as const,
      durationSeconds: 20,
      graceSeconds: 8,
    };
    const cue = encodeQuestionCue(quiz);
    expect(cue.metadata).toBe(
      '{"v":1,"type":"question","quizId":"quiz-1","question":"Capital?","choices":["Paris","Lyon"],"closesAt":"2030-01-01T00:00:20.000Z","kind":"quiz","durationSeconds":20,"graceSeconds":8}',
    );
    expect(cue.bytes).toBe(Buffer.byteLength(cue.metadata, 'utf8'));
  });
});

describe('when a custom cue is encoded', () => {
  it('writes exactly {"v":1,"type":"<custom>","eventId","data":{...}}', () => {
    const cue = encodeCustomCue({ type: 'poll', eventId: 'e1', data: { open: true, n: [1, 'two'] } });
    expect(cue.metadata).toBe('{"v":1,"type":"poll","eventId":"e1","data":{"open":true,"n":[1,"two"]}}');
    expect(cue.bytes).toBe(Buffer.byteLength(cue.metadata, 'utf8'));
  });

  it('either encodes within 1024 UTF-8 bytes or throws a 413 carrying the exact byte count', () => {
    let encoded = 0;
    let tooLarge = 0;
    assertProperty(
      fc.property(eventType, id, data, (type, eventId, payload) => {
        const expected = { v: CUE_VERSION, type, eventId, data: payload };
        const outcome = outcomeOf(() => encodeCustomCue({ type, eventId, data: payload }));
        if (outcome.ok) {
          encoded++;
          expect(JSON.parse(outcome.value.metadata)).toEqual(roundTrip(expected));
          expect(outcome.value.bytes).toBe(Buffer.byteLength(outcome.value.metadata, 'utf8'));
          expect(outcome.value.bytes).toBeLessThanOrEqual(MAX_CUE_BYTES);
          expect(Buffer.from(outcome.value.metadata, 'utf8').toString('utf8')).toBe(outcome.value.metadata);
        } else {
          tooLarge++;
          expect(outcome.error).toBeInstanceOf(PayloadTooLargeError);
          expect(outcome.error).toMatchObject({
            code: 'PAYLOAD_TOO_LARGE',
            status: 413,
            bytes: Buffer.byteLength(JSON.stringify(expected), 'utf8'),
            limit: MAX_CUE_BYTES,
          });
          expect((outcome.error as PayloadTooLargeError).bytes).toBeGreaterThan(MAX_CUE_BYTES);
        }
      }),
      300,
    );
    expect(encoded).toBeGreaterThan(0);
    expect(tooLarge).toBeGreaterThan(0);
  });

  it('accepts a cue of exactly 1024 bytes and refuses one of 1025', () => {
    const fits = encodeCustomCue(customWith('a'.repeat(MAX_CUE_BYTES - OVERHEAD)));
    expect(fits.bytes).toBe(1024);
    expect(Buffer.byteLength(fits.metadata, 'utf8')).toBe(1024);
    const over = customWith('a'.repeat(MAX_CUE_BYTES - OVERHEAD + 1));
    expect(() => encodeCustomCue(over)).toThrow(PayloadTooLargeError);
    expect(thrownBy(() => encodeCustomCue(over))).toMatchObject({ bytes: 1025, limit: 1024, status: 413 });
  });

  it('refuses data whose JS length is under 1024 but whose UTF-8 is over', () => {
    const event = customWith('\u00e9'.repeat(600));
    const metadata = JSON.stringify({ v: 1, ...event });
    expect(metadata.length).toBeLessThan(1024);
    expect(Buffer.byteLength(metadata, 'utf8')).toBeGreaterThan(1024);
    expect(() => encodeCustomCue(event)).toThrow(PayloadTooLargeError);
    expect(() => encodeCustomCue(event)).toThrow(
      `the cue would be ${Buffer.byteLength(metadata, 'utf8')} bytes of UTF-8; the limit is 1024`,
    );
    expect(thrownBy(() => encodeCustomCue(event))).toMatchObject({
      code: 'PAYLOAD_TOO_LARGE',
      status: 413,
      bytes: OVERHEAD + 1200,
    });
  });

  it('counts a 2-byte character that crosses the limit by one byte', () => {
    // Two-byte U+00E9 cannot land on an odd budget: one more overshoots by exactly one byte.
    const budget = MAX_CUE_BYTES - OVERHEAD;
    const filler = budget % 2 === 0 ? `a${'\u00e9'.repeat(budget / 2)}` : '\u00e9'.repeat((budget + 1) / 2);
    expect(thrownBy(() => encodeCustomCue(customWith(filler)))).toMatchObject({ bytes: 1025 });
    const fitting = budget % 2 === 0 ? '\u00e9'.repeat(budget / 2) : `a${'\u00e9'.repeat((budget - 1) / 2)}`;
    expect(encodeCustomCue(customWith(fitting)).bytes).toBe(1024);
  });

  it('counts the escapes JSON adds: a quote or a control character grows on the wire', () => {
    expect(encodeCustomCue(customWith('"')).bytes).toBe(OVERHEAD + 2);
    expect(encodeCustomCue(customWith('\u0001')).bytes).toBe(OVERHEAD + 6);
    expect(encodeCustomCue(customWith('\ud800')).bytes).toBe(OVERHEAD + 6);
    expect(() => encodeCustomCue(customWith('\u0001'.repeat(200)))).toThrow(PayloadTooLargeError);
  });
});
