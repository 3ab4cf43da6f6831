import fc from 'fast-check';
import { encodeCustomCue } from '../../lambda/domain/cue';
import { BadRequestError, type DomainError } from '../../lambda/domain/errors';
import { parseSendEvent } from '../../lambda/domain/event';
import {
  anyString,
  assertProperty,
  hasOwnProtoKey,
  isJsonValue,
  isPlainRecord,
  outcomeOf,
  thrownBy,
} from './support';

/** docs/protocol.md §3 `POST /events`, restated. */
const TYPE = /^[a-z][a-z0-9_-]{0,31}$/;
const RESERVED = ['question', 'result'];
/** Types whose data has a schema of its own (test/domain/well-known-cues.test.ts): left out here. */
const WELL_KNOWN = ['drop', 'announcement'];
const FIELD_IN_MESSAGE = /^(body|type|data)(?:\.|\[|: \S)/;

const isValidType = (value: unknown): boolean =>
  typeof value === 'string' && TYPE.test(value) && !RESERVED.includes(value);

/** The fields a body gets wrong ('body' for its shape or unknown keys). */
function sendEventProblems(input: unknown): Set<string> {
  if (!isPlainRecord(input)) return new Set(['body']);
  const problems = new Set<string>();
  if (Object.keys(input).some((key) => key !== 'type' && key !== 'data')) problems.add('body');
  if (!isValidType(input.type)) problems.add('type');
  // An own `__proto__` key would be lost when the object is rebuilt, so it must be refused.
  if (!isPlainRecord(input.data) || !isJsonValue(input.data) || hasOwnProtoKey(input.data)) {
    problems.add('data');
  }
  return problems;
}

const validType = fc
  .stringMatching(TYPE)
  .filter((type) => !RESERVED.includes(type) && !WELL_KNOWN.includes(type));
const jsonObject = fc.dictionary(anyString(16), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 6 });
/** Valid data: no own `__proto__` key anywhere (fast-check generates that key on purpose). */
const cleanJsonObject = jsonObject.filter((data) => !hasOwnProtoKey(data));

const invalidType = fc.oneof(
  fc.constantFrom('question', 'result', '', 'A', 'Quiz', '1st', '_x', '-x', 'a b', 'a.b', 'poll\n', 'é'),
  fc.stringMatching(/^[a-z][a-z0-9_-]{32,40}$/),
  anyString(40).filter((value) => !TYPE.test(value)),
  fc.anything().filter((value) => typeof value !== 'string'),
);

const notAnObject = fc.oneof(
  fc.array(fc.jsonValue(), { maxLength: 3 }),
  fc.constantFrom<unknown>(null, 'text', '{}', 0, 1.5, true, false),
  fc.string(),
  fc.double(),
);

const nearValidEvent = fc
  .tuple(
    fc.record(
      {
        type: fc.oneof(validType, invalidType),
        data: fc.oneof(jsonObject, notAnObject, fc.object(), fc.anything()),
      },
      { requiredKeys: [] },
    ),
    fc.option(fc.dictionary(anyString(12), fc.anything(), { minKeys: 1, maxKeys: 2 }), { nil: undefined }),
  )
  .map(([fields, extra]) => (extra ? { ...extra, ...fields } : fields));

/** JSON objects with an own `__proto__` key at the top, nested in an object, or inside an array. */
const protoKeyData = fc
  .tuple(fc.jsonValue({ maxDepth: 1 }), jsonObject, fc.constantFrom('top', 'nested', 'array'))
  .map(([inner, rest, where]): Record<string, unknown> => {
    const proto = `{"__proto__":${JSON.stringify(inner)}}`;
    const text =
      where === 'top'
        ? `{"__proto__":${JSON.stringify(inner)},"rest":${JSON.stringify(rest)}}`
        : where === 'nested'
          ? `{"rest":${JSON.stringify(rest)},"x":${proto}}`
          : `{"x":[1,${proto}]}`;
    return JSON.parse(text);
  });

const anyBody = fc.oneof(
  { arbitrary: fc.anything(), weight: 1 },
  { arbitrary: fc.jsonValue(), weight: 1 },
  { arbitrary: nearValidEvent, weight: 4 },
);

describe('when a send-event body is parsed', () => {
  it('accepts every unreserved type that matches ^[a-z][a-z0-9_-]{0,31}$ with any JSON object', () => {
    assertProperty(
      fc.property(validType, cleanJsonObject, (type, data) => {
        expect(parseSendEvent({ type, data })).toEqual({ type, data });
      }),
      200,
    );
  });

  it('accepts exactly the bodies docs/protocol.md §3 allows, and refuses the rest with a 400 naming the field', () => {
    let accepted = 0;
    let rejected = 0;
    assertProperty(
      fc.property(anyBody, (body) => {
        const problems = sendEventProblems(body);
        if (problems.size === 0) {
          accepted++;
          expect(outcomeOf(() => parseSendEvent(body)).ok).toBe(true);
          return;
        }
        rejected++;
        const error = thrownBy(() => parseSendEvent(body));
        expect(error).toBeInstanceOf(BadRequestError);
        expect(error).toMatchObject({ code: 'BAD_REQUEST', status: 400 });
        const named = FIELD_IN_MESSAGE.exec((error as DomainError).message);
        expect(named).not.toBeNull();
        expect([...problems]).toContain(named?.[1]);
      }),
      300,
    );
    expect(accepted).toBeGreaterThan(0);
    expect(rejected).toBeGreaterThan(0);
  });

  it('refuses every type outside the pattern, and the reserved ones, with a 400 on type', () => {
    assertProperty(
      fc.property(invalidType, cleanJsonObject, (type, data) => {
        expect(() => parseSendEvent({ type, data })).toThrow(BadRequestError);
        expect(() => parseSendEvent({ type, data })).toThrow(/^type: \S/);
      }),
      200,
    );
  });

  it('refuses data that is not a JSON object with a 400 on data', () => {
    assertProperty(
      fc.property(validType, notAnObject, (type, data) => {
        expect(() => parseSendEvent({ type, data })).toThrow(BadRequestError);
        expect(() => parseSendEvent({ type, data })).toThrow(/^data: must be a JSON object$/);
      }),
    );
  });

  it.each<[string, unknown, RegExp]>([
    ['type is "question"', { type: 'question', data: {} }, /^type: is reserved for platform cues$/],
    ['type is "result"', { type: 'result', data: {} }, /^type: is reserved for platform cues$/],
    ['type has 33 characters', { type: `a${'b'.repeat(32)}`, data: {} }, /^type: must match/],
    ['type starts with a digit', { type: '1poll', data: {} }, /^type: must match/],
    ['type has capitals', { type: 'Poll', data: {} }, /^type: must match/],
    ['type ends with a line break', { type: 'poll\n', data: {} }, /^type: must match/],
    ['type is a number', { type: 7, data: {} }, /^type: must be a string$/],
    ['type is missing', { data: {} }, /^type: is required$/],
    ['data is an array', { type: 'poll', data: [1, 2] }, /^data: must be a JSON object$/],
    ['data is null', { type: 'poll', data: null }, /^data: must be a JSON object$/],
    ['data is a string', { type: 'poll', data: '{"a":1}' }, /^data: must be a JSON object$/],
    ['data is missing', { type: 'poll' }, /^data: is required$/],
    ['data holds a non-finite number', { type: 'poll', data: { a: Number.NaN } }, /^data\.a: \S/],
    ['data holds undefined', { type: 'poll', data: { a: [1, undefined] } }, /^data\.a(\[1\])?: \S/],
    ['there is an unknown field', { type: 'poll', data: {}, at: 1 }, /^body: unknown field "at"$/],
    ['the body is an array', [{ type: 'poll', data: {} }], /^body: must be a JSON object$/],
  ])('refuses it when %s', (_case, body, message) => {
    expect(() => parseSendEvent(body)).toThrow(BadRequestError);
    expect(() => parseSendEvent(body)).toThrow(message);
  });

  it.each(['a', 'poll', 'quiz-2', 'a_b', `a${'9'.repeat(31)}`, 'questions', 'results'])(
    'accepts the type %p',
    (type) => {
      expect(parseSendEvent({ type, data: { n: 1 } })).toEqual({ type, data: { n: 1 } });
    },
  );

  describe('when data has an own "__proto__" key (valid JSON: JSON.parse keeps it as a plain key)', () => {
    it('refuses it with a 400 or keeps it, so the cue carries what the host sent', () => {
      const body = JSON.parse('{"type":"poll","data":{"__proto__":{"admin":true},"k":1}}');
      expect(Object.keys(body.data)).toEqual(['__proto__', 'k']);
      const outcome = outcomeOf(() => parseSendEvent(body));
      const fate = outcome.ok
        ? JSON.parse(encodeCustomCue({ ...outcome.value, eventId: 'e1' }).metadata).data
        : outcome.error instanceof BadRequestError
          ? 'refused with a 400'
          : outcome.error;
      expect([body.data, 'refused with a 400']).toContainEqual(fate);
    });

    it('never drops it silently, wherever it sits in the data', () => {
      assertProperty(
        fc.property(protoKeyData, (data) => {
          const outcome = outcomeOf(() => parseSendEvent({ type: 'poll', data }));
          if (outcome.ok) {
            expect(outcome.value.data).toEqual(data);
            return;
          }
          expect(outcome.error).toBeInstanceOf(BadRequestError);
          expect((outcome.error as DomainError).message).toMatch(/^data[.[:]/);
        }),
      );
    });
  });
});
