import fc from 'fast-check';
import { MAX_CUE_BYTES } from '../../client/wire';
import { encodeQuestionCue } from '../../lambda/domain/cue';
import { BadRequestError, type DomainError, PayloadTooLargeError } from '../../lambda/domain/errors';
import {
  type CreateQuizInput,
  hostView,
  openQuiz,
  parseCreateQuiz,
  parseQuizId,
  phaseOf,
  publicView,
  type Quiz,
  stateView,
} from '../../lambda/domain/quiz';
import {
  anyString,
  assertProperty,
  codePoints,
  hasNonSpace,
  invalidText,
  isPlainRecord,
  isWellFormedText,
  outcomeOf,
  thrownBy,
  validText,
} from './support';

const FIELDS = ['question', 'choices', 'kind', 'liveResults', 'correctIndex', 'durationSeconds'];
const FIELD_IN_MESSAGE =
  /^(body|question|choices|kind|liveResults|correctIndex|durationSeconds)(?:\[\d+\])?: \S/;
const KINDS = ['quiz', 'poll'];

const isText = (value: unknown, max: number): boolean =>
  typeof value === 'string' &&
  codePoints(value) >= 1 &&
  codePoints(value) <= max &&
  hasNonSpace(value) &&
  isWellFormedText(value);

/** docs/protocol.md §3 `POST /quizzes`, restated: the fields a body gets wrong ('body' for its shape or unknown keys). */
function createQuizProblems(input: unknown): Set<string> {
  if (!isPlainRecord(input)) return new Set(['body']);
  const problems = new Set<string>();
  if (Object.keys(input).some((key) => !FIELDS.includes(key))) problems.add('body');
  const { question, choices, kind, liveResults, correctIndex, durationSeconds } = input;
  // Live results are a poll's, and a boolean.
  if (liveResults !== undefined && (typeof liveResults !== 'boolean' || (liveResults && kind !== 'poll')))
    problems.add('liveResults');
  if (!isText(question, 200)) problems.add('question');
  if (kind !== undefined && !KINDS.includes(kind as string)) problems.add('kind');
  if (
    !Array.isArray(choices) ||
    choices.length < 2 ||
    choices.length > 4 ||
    !choices.every((choice) => isText(choice, 80))
  ) {
    problems.add('choices');
  }
  const wellFormedIndex =
    typeof correctIndex === 'number' &&
    Number.isSafeInteger(correctIndex) &&
    correctIndex >= 0 &&
    !(Array.isArray(choices) && correctIndex >= choices.length);
  // A quiz (the default) needs a well-formed correct choice; a poll must not have one. With a bad
  // kind, only a malformed index is wrong as well.
  if (kind === 'poll') {
    if (correctIndex !== undefined) problems.add('correctIndex');
  } else if (kind === undefined || kind === 'quiz') {
    if (!wellFormedIndex) problems.add('correctIndex');
  } else if (correctIndex !== undefined && !wellFormedIndex) {
    problems.add('correctIndex');
  }
  if (
    durationSeconds !== undefined &&
    !(
      typeof durationSeconds === 'number' &&
      Number.isInteger(durationSeconds) &&
      durationSeconds >= 5 &&
      durationSeconds <= 300
    )
  ) {
    problems.add('durationSeconds');
  }
  return problems;
}

const validCreateQuiz = fc.integer({ min: 2, max: 4 }).chain((n) =>
  fc.record(
    {
      question: validText(1, 200),
      choices: fc.array(validText(1, 80), { minLength: n, maxLength: n }),
      kind: fc.constant('quiz' as const),
      correctIndex: fc.nat(n - 1),
      durationSeconds: fc.integer({ min: 5, max: 300 }),
    },
    { requiredKeys: ['question', 'choices', 'correctIndex'] },
  ),
);

const validCreatePoll = fc.integer({ min: 2, max: 4 }).chain((n) =>
  fc.record(
    {
      question: validText(1, 200),
      choices: fc.array(validText(1, 80), { minLength: n, maxLength: n }),
      kind: fc.constant('poll' as const),
      liveResults: fc.boolean(),
      durationSeconds: fc.integer({ min: 5, max: 300 }),
    },
    { requiredKeys: ['question', 'choices', 'kind'] },
  ),
);

const nearValidCreateQuiz = fc
  .tuple(
    fc.record(
      {
        question: fc.oneof(validText(1, 200), invalidText(1, 200), fc.anything()),
        choices: fc.oneof(
          fc.array(validText(1, 80), { minLength: 2, maxLength: 4 }),
          fc.array(fc.oneof(validText(1, 80), invalidText(1, 80), fc.anything()), { maxLength: 6 }),
          fc.anything(),
        ),
        kind: fc.oneof(
          fc.constantFrom<unknown>('quiz', 'poll', 'Poll', 'survey', '', null, 0),
          fc.anything(),
        ),
        liveResults: fc.oneof(fc.boolean(), fc.constantFrom<unknown>('true', 1, null)),
        correctIndex: fc.oneof(
          fc.integer({ min: -2, max: 6 }),
          fc.double(),
          fc.constantFrom<unknown>('0', null, 1.5, -0, 2 ** 53, Number.NaN, Number.POSITIVE_INFINITY),
          fc.anything(),
        ),
        durationSeconds: fc.oneof(
          fc.integer({ min: 0, max: 400 }),
          fc.double(),
          fc.constantFrom<unknown>('20', null, 20.5, undefined, Number.POSITIVE_INFINITY),
          fc.anything(),
        ),
      },
      { requiredKeys: [] },
    ),
    fc.option(fc.dictionary(anyString(12), fc.anything(), { minKeys: 1, maxKeys: 2 }), { nil: undefined }),
  )
  .map(([fields, extra]) => (extra ? { ...extra, ...fields } : fields));

const anyBody = fc.oneof(
  { arbitrary: fc.anything(), weight: 1 },
  { arbitrary: fc.jsonValue(), weight: 1 },
  { arbitrary: nearValidCreateQuiz, weight: 4 },
  { arbitrary: validCreateQuiz, weight: 2 },
  { arbitrary: validCreatePoll, weight: 1 },
);

const quizId = fc.stringMatching(/^[A-Za-z0-9_-]{1,64}$/);
const instant = fc.date({
  min: new Date('2000-01-01T00:00:00.000Z'),
  max: new Date('2100-01-01T00:00:00.000Z'),
  noInvalidDate: true,
});
const shards = fc.integer({ min: 1, max: 100 });

const VALID = { question: 'Capital of France?', choices: ['Paris', 'Lyon', 'Nice'], correctIndex: 0 };
const EMOJI = '😀';

describe('when a create-quiz body is parsed', () => {
  it('accepts exactly the bodies docs/protocol.md §3 allows, and names a wrong field in a 400 otherwise', () => {
    let accepted = 0;
    let rejected = 0;
    assertProperty(
      fc.property(anyBody, (body) => {
        const problems = createQuizProblems(body);
        if (problems.size === 0) {
          accepted++;
          const input = body as Record<string, unknown>;
          expect(parseCreateQuiz(body)).toEqual({
            question: input.question,
            choices: input.choices,
            kind: input.kind ?? 'quiz',
            liveResults: input.liveResults,
            correctIndex: input.correctIndex,
            durationSeconds: input.durationSeconds ?? 20,
          });
          return;
        }
        rejected++;
        const error = thrownBy(() => parseCreateQuiz(body));
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

  it('never yields a question cue over 1024 UTF-8 bytes: it encodes within the limit or throws a 413', () => {
    let encoded = 0;
    let tooLarge = 0;
    assertProperty(
      fc.property(validCreateQuiz, quizId, instant, shards, (body, id, now, tallyShards) => {
        const quiz = openQuiz(parseCreateQuiz(body), id, now, tallyShards);
        const wouldSend = JSON.stringify({
          v: 1,
          type: 'question',
          quizId: id,
          question: body.question,
          choices: body.choices,
          closesAt: quiz.closesAt,
          kind: 'quiz',
          durationSeconds: quiz.durationSeconds,
          graceSeconds: 0,
        });
        const outcome = outcomeOf(() => encodeQuestionCue(quiz));
        if (outcome.ok) {
          encoded++;
          const bytes = Buffer.byteLength(outcome.value.metadata, 'utf8');
          expect(bytes).toBeLessThanOrEqual(MAX_CUE_BYTES);
          expect(outcome.value.bytes).toBe(bytes);
          // The exact string must survive UTF-8 (no lone surrogate turned into U+FFFD on the wire).
          expect(Buffer.from(outcome.value.metadata, 'utf8').toString('utf8')).toBe(outcome.value.metadata);
        } else {
          tooLarge++;
          expect(outcome.error).toBeInstanceOf(PayloadTooLargeError);
          expect(outcome.error).toMatchObject({
            code: 'PAYLOAD_TOO_LARGE',
            status: 413,
            limit: 1024,
            bytes: Buffer.byteLength(wouldSend, 'utf8'),
          });
          expect((outcome.error as PayloadTooLargeError).bytes).toBeGreaterThan(1024);
        }
      }),
      300,
    );
    expect(encoded).toBeGreaterThan(0);
    expect(tooLarge).toBeGreaterThan(0);
  });

  it('never puts the correct answer in the question cue', () => {
    assertProperty(
      fc.property(validCreateQuiz, quizId, instant, shards, (body, id, now, tallyShards) => {
        const quiz = openQuiz(parseCreateQuiz(body), id, now, tallyShards);
        const outcome = outcomeOf(() => encodeQuestionCue(quiz));
        fc.pre(outcome.ok);
        const cue = JSON.parse(outcome.value.metadata);
        expect(Object.keys(cue).sort()).toEqual([
          'choices',
          'closesAt',
          'durationSeconds',
          'graceSeconds',
          'kind',
          'question',
          'quizId',
          'type',
          'v',
        ]);
        expect(cue).not.toHaveProperty('correctIndex');
        expect(cue).toEqual({
          v: 1,
          type: 'question',
          quizId: id,
          question: body.question,
          choices: body.choices,
          closesAt: quiz.closesAt,
          kind: 'quiz',
          durationSeconds: quiz.durationSeconds,
          graceSeconds: 0,
        });
      }),
      200,
    );
  });

  describe('when the body is well formed', () => {
    it('defaults durationSeconds to 20', () => {
      expect(parseCreateQuiz(VALID)).toEqual({ ...VALID, kind: 'quiz', durationSeconds: 20 });
    });

    it('keeps the bounds 5 and 300 of durationSeconds', () => {
      expect(parseCreateQuiz({ ...VALID, durationSeconds: 5 }).durationSeconds).toBe(5);
      expect(parseCreateQuiz({ ...VALID, durationSeconds: 300 }).durationSeconds).toBe(300);
    });

    it('accepts 2 and 4 choices, and the last choice as the answer', () => {
      expect(parseCreateQuiz({ ...VALID, choices: ['a', 'b'], correctIndex: 1 }).correctIndex).toBe(1);
      expect(parseCreateQuiz({ ...VALID, choices: ['a', 'b', 'c', 'd'], correctIndex: 3 }).choices).toEqual([
        'a',
        'b',
        'c',
        'd',
      ]);
    });

    it('counts code points, so 200 emoji (400 UTF-16 units) make a valid question', () => {
      const question = EMOJI.repeat(200);
      expect(question).toHaveLength(400);
      expect(parseCreateQuiz({ ...VALID, question }).question).toBe(question);
    });

    it('accepts a choice of 80 emoji', () => {
      const choice = EMOJI.repeat(80);
      expect(parseCreateQuiz({ ...VALID, choices: [choice, 'b'] }).choices[0]).toBe(choice);
    });

    it('encodes a 200-emoji question with short choices within 1024 bytes', () => {
      const quiz = openQuiz(
        parseCreateQuiz({ ...VALID, question: EMOJI.repeat(200) }),
        'quiz-1',
        new Date('2030-01-01T00:00:00.000Z'),
        4,
      );
      const cue = encodeQuestionCue(quiz);
      expect(cue.bytes).toBe(Buffer.byteLength(cue.metadata, 'utf8'));
      expect(cue.bytes).toBeGreaterThan(800);
      expect(cue.bytes).toBeLessThanOrEqual(1024);
    });

    it('refuses with a 413 a valid quiz whose cue exceeds 1024 bytes (200 + 4 x 80 emoji)', () => {
      const body = parseCreateQuiz({
        question: EMOJI.repeat(200),
        choices: [EMOJI.repeat(80), EMOJI.repeat(80), EMOJI.repeat(80), EMOJI.repeat(80)],
        correctIndex: 2,
      });
      const quiz = openQuiz(body, 'quiz-1', new Date('2030-01-01T00:00:00.000Z'), 4);
      expect(() => encodeQuestionCue(quiz)).toThrow(PayloadTooLargeError);
      expect(() => encodeQuestionCue(quiz)).toThrow(
        /^the cue would be \d+ bytes of UTF-8; the limit is 1024$/,
      );
      const error = thrownBy(() => encodeQuestionCue(quiz));
      expect(error).toMatchObject({ code: 'PAYLOAD_TOO_LARGE', status: 413, limit: 1024 });
      expect((error as PayloadTooLargeError).bytes).toBeGreaterThan(200 * 4 + 320 * 4);
    });
  });

  describe('when a field is wrong', () => {
    it.each<[string, unknown, RegExp]>([
      [
        'correctIndex equals the number of choices',
        { ...VALID, correctIndex: 3 },
        /^correctIndex: must be less than the number of choices \(3\)$/,
      ],
      ['correctIndex is past the choices', { ...VALID, correctIndex: 9 }, /^correctIndex: must be less than/],
      [
        'correctIndex is not an integer',
        { ...VALID, correctIndex: 0.5 },
        /^correctIndex: must be an integer$/,
      ],
      [
        'correctIndex is a numeric string',
        { ...VALID, correctIndex: '0' },
        /^correctIndex: must be an integer$/,
      ],
      ['correctIndex is negative', { ...VALID, correctIndex: -1 }, /^correctIndex: must be 0 or more$/],
      [
        'correctIndex is missing',
        { question: 'q', choices: ['a', 'b'] },
        /^correctIndex: is required for a quiz/,
      ],
      ['there is 1 choice', { ...VALID, choices: ['a'] }, /^choices: must have 2 to 4 entries$/],
      [
        'there are 5 choices',
        { ...VALID, choices: ['a', 'b', 'c', 'd', 'e'] },
        /^choices: must have 2 to 4 entries$/,
      ],
      ['choices is a string', { ...VALID, choices: 'a,b' }, /^choices: must be an array of strings$/],
      ['a choice is not a string', { ...VALID, choices: ['a', 2] }, /^choices\[1\]: must be a string$/],
      ['a choice is empty', { ...VALID, choices: ['a', ''] }, /^choices\[1\]: must be 1 to 80 characters$/],
      [
        'a choice has 81 code points',
        { ...VALID, choices: ['a', EMOJI.repeat(81)] },
        /^choices\[1\]: must be 1 to 80 characters$/,
      ],
      ['a choice is blank', { ...VALID, choices: ['a', '  '] }, /^choices\[1\]: must not be blank$/],
      ['the question is blank', { ...VALID, question: '   ' }, /^question: must not be blank$/],
      [
        'the question is only line breaks and tabs',
        { ...VALID, question: '\n\t\r' },
        /^question: must not be blank$/,
      ],
      [
        'the question is an ideographic space',
        { ...VALID, question: '\u3000' },
        /^question: must not be blank$/,
      ],
      ['the question is empty', { ...VALID, question: '' }, /^question: must be 1 to 200 characters$/],
      [
        'the question has 201 emoji',
        { ...VALID, question: EMOJI.repeat(201) },
        /^question: must be 1 to 200 characters$/,
      ],
      [
        'the question has 201 ASCII characters',
        { ...VALID, question: 'x'.repeat(201) },
        /^question: must be 1 to 200 characters$/,
      ],
      ['the question is a number', { ...VALID, question: 42 }, /^question: must be a string$/],
      ['the question is missing', { choices: ['a', 'b'], correctIndex: 0 }, /^question: is required$/],
      ['durationSeconds is 4', { ...VALID, durationSeconds: 4 }, /^durationSeconds: must be 5 to 300$/],
      ['durationSeconds is 301', { ...VALID, durationSeconds: 301 }, /^durationSeconds: must be 5 to 300$/],
      [
        'durationSeconds is fractional',
        { ...VALID, durationSeconds: 20.5 },
        /^durationSeconds: must be an integer$/,
      ],
      [
        'durationSeconds is null',
        { ...VALID, durationSeconds: null },
        /^durationSeconds: must be an integer$/,
      ],
      ['there is an unknown field', { ...VALID, answer: 0 }, /^body: unknown field "answer"$/],
      ['there are two unknown fields', { ...VALID, a: 1, b: 2 }, /^body: unknown fields "a", "b"$/],
      ['the body is an array', [VALID], /^body: must be a JSON object$/],
      ['the body is null', null, /^body: must be a JSON object$/],
      ['the body is a JSON string', JSON.stringify(VALID), /^body: must be a JSON object$/],
    ])('refuses it when %s', (_case, body, message) => {
      expect(() => parseCreateQuiz(body)).toThrow(BadRequestError);
      expect(() => parseCreateQuiz(body)).toThrow(message);
      expect(thrownBy(() => parseCreateQuiz(body))).toMatchObject({ status: 400, code: 'BAD_REQUEST' });
    });

    it('refuses 201 code points however they are written', () => {
      assertProperty(
        fc.property(
          fc.array(fc.constantFrom('a', 'é', EMOJI, '中', '\u0301'), { minLength: 201, maxLength: 260 }),
          (parts) => {
            const question = parts.join('');
            expect(codePoints(question)).toBeGreaterThan(200);
            expect(() => parseCreateQuiz({ ...VALID, question })).toThrow(
              /^question: must be 1 to 200 characters$/,
            );
          },
        ),
      );
    });
  });
});

describe('when a quiz id is parsed', () => {
  it('accepts 1 to 64 of A-Z a-z 0-9 _ - and returns it unchanged', () => {
    assertProperty(
      fc.property(quizId, (id) => {
        expect(parseQuizId(id)).toBe(id);
      }),
    );
  });

  it('refuses anything else with a 400 that names quizId', () => {
    const invalid = fc.oneof(
      anyString(80).filter((value) => !/^[A-Za-z0-9_-]{1,64}$/.test(value)),
      fc.stringMatching(/^[A-Za-z0-9_-]{65,90}$/),
      fc.stringMatching(/^[A-Za-z0-9_-]{0,10}[^A-Za-z0-9_-][A-Za-z0-9_-]{0,10}$/),
      fc.constantFrom('', 'a b', 'a/b', 'a.b', 'quiz\n', '%41', 'é'),
      fc.anything().filter((value) => typeof value !== 'string'),
    );
    assertProperty(
      fc.property(invalid, (value) => {
        const error = thrownBy(() => parseQuizId(value));
        expect(error).toBeInstanceOf(BadRequestError);
        expect(error).toMatchObject({ code: 'BAD_REQUEST', status: 400 });
        expect((error as DomainError).message).toMatch(/^quizId: \S/);
      }),
      200,
    );
  });

  it('says which rule the id broke', () => {
    expect(() => parseQuizId('a/b')).toThrow(/^quizId: must be 1 to 64 of A-Z a-z 0-9 _ -$/);
    expect(() => parseQuizId(undefined)).toThrow(/^quizId: is required$/);
  });
});

const OPENED_AT = new Date('2030-01-01T00:00:00.000Z');
const openedQuiz = (): Quiz =>
  openQuiz(parseCreateQuiz({ ...VALID, durationSeconds: 30 }), 'quiz-1', OPENED_AT, 4);
const revealedQuiz = (): Quiz => ({
  ...openedQuiz(),
  result: { counts: [5, 2, 1], total: 8, revealedAt: '2030-01-01T00:00:40.000Z' },
});
const at = (msAfterOpening: number): Date => new Date(OPENED_AT.getTime() + msAfterOpening);

describe('when a quiz is opened', () => {
  it('keeps the input and stamps ISO-8601 UTC times durationSeconds apart', () => {
    expect(openedQuiz()).toEqual({
      quizId: 'quiz-1',
      question: VALID.question,
      choices: VALID.choices,
      kind: 'quiz',
      correctIndex: 0,
      durationSeconds: 30,
      opensAt: '2030-01-01T00:00:00.000Z',
      closesAt: '2030-01-01T00:00:30.000Z',
      graceSeconds: 0,
      tallyShards: 4,
    });
  });

  it('always closes durationSeconds after it opens', () => {
    assertProperty(
      fc.property(validCreateQuiz, quizId, instant, shards, (body, id, now, tallyShards) => {
        const input: CreateQuizInput = parseCreateQuiz(body);
        const quiz = openQuiz(input, id, now, tallyShards);
        expect(quiz.opensAt).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
        expect(quiz.closesAt).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
        expect(Date.parse(quiz.opensAt)).toBe(now.getTime());
        expect(Date.parse(quiz.closesAt) - Date.parse(quiz.opensAt)).toBe(input.durationSeconds * 1000);
        expect(quiz.tallyShards).toBe(tallyShards);
        expect(quiz.result).toBeUndefined();
      }),
      100,
    );
  });
});

describe('when the phase of a quiz is read', () => {
  it('is open before closesAt and closed at or after it', () => {
    assertProperty(
      fc.property(fc.integer({ min: -10_000_000, max: 10_000_000 }), (ms) => {
        expect(phaseOf(openedQuiz(), at(ms))).toBe(ms < 30_000 ? 'open' : 'closed');
      }),
    );
  });

  it('switches exactly at closesAt', () => {
    expect(phaseOf(openedQuiz(), at(29_999))).toBe('open');
    expect(phaseOf(openedQuiz(), at(30_000))).toBe('closed');
  });

  it('is closed whenever a reveal closed it, even before closesAt, until the result is stored', () => {
    assertProperty(
      fc.property(fc.integer({ min: -10_000_000, max: 10_000_000 }), (ms) => {
        const closed = { ...openedQuiz(), closedAt: at(0).toISOString() };
        expect(phaseOf(closed, at(ms))).toBe('closed');
        expect(phaseOf({ ...closed, result: revealedQuiz().result }, at(ms))).toBe('revealed');
      }),
    );
  });

  it('is revealed whenever a result is stored, even before closesAt', () => {
    assertProperty(
      fc.property(fc.integer({ min: -10_000_000, max: 10_000_000 }), (ms) => {
        expect(phaseOf(revealedQuiz(), at(ms))).toBe('revealed');
      }),
    );
  });
});

describe('when the host views a quiz', () => {
  const live = { counts: [1, 1, 0], total: 2 };

  it('shows the answer and the live figures before the reveal', () => {
    expect(hostView(openedQuiz(), live, at(1_000))).toEqual({
      quizId: 'quiz-1',
      question: VALID.question,
      choices: VALID.choices,
      kind: 'quiz',
      correctIndex: 0,
      state: 'open',
      counts: [1, 1, 0],
      total: 2,
      opensAt: '2030-01-01T00:00:00.000Z',
      closesAt: '2030-01-01T00:00:30.000Z',
      graceSeconds: 0,
      answersCloseAt: '2030-01-01T00:00:30.000Z',
    });
    expect(hostView(openedQuiz(), live, at(30_000)).state).toBe('closed');
    // With a grace, a reveal may go only that much after closesAt.
    expect(hostView({ ...openedQuiz(), graceSeconds: 8 }, live, at(1_000)).answersCloseAt).toBe(
      '2030-01-01T00:00:38.000Z',
    );
  });

  it('shows the stored result, not live figures, once revealed', () => {
    expect(hostView(revealedQuiz(), live, at(50_000))).toMatchObject({
      state: 'revealed',
      correctIndex: 0,
      counts: [5, 2, 1],
      total: 8,
    });
  });
});

describe('when a viewer views a quiz', () => {
  it('hides the answer and the figures before the reveal', () => {
    for (const ms of [0, 29_999, 30_000, 600_000]) {
      const view = publicView(openedQuiz(), at(ms));
      expect(view).toEqual({
        quizId: 'quiz-1',
        question: VALID.question,
        choices: VALID.choices,
        state: ms < 30_000 ? 'open' : 'closed',
        closesAt: '2030-01-01T00:00:30.000Z',
        kind: 'quiz',
        durationSeconds: 30,
        graceSeconds: 0,
      });
      expect(view).not.toHaveProperty('correctIndex');
      expect(view).not.toHaveProperty('counts');
      expect(view).not.toHaveProperty('total');
    }
  });

  it('shows the answer and the final figures once revealed', () => {
    expect(publicView(revealedQuiz(), at(50_000))).toEqual({
      quizId: 'quiz-1',
      question: VALID.question,
      choices: VALID.choices,
      state: 'revealed',
      closesAt: '2030-01-01T00:00:30.000Z',
      kind: 'quiz',
      durationSeconds: 30,
      graceSeconds: 0,
      correctIndex: 0,
      counts: [5, 2, 1],
      total: 8,
    });
  });

  it('reports the stream with no quiz as null', () => {
    expect(stateView('offline', undefined, at(0))).toEqual({ stream: 'offline', quiz: null });
  });

  it('reports the stream with the public view of the quiz', () => {
    expect(stateView('live', openedQuiz(), at(1_000))).toEqual({
      stream: 'live',
      quiz: publicView(openedQuiz(), at(1_000)),
    });
    expect(stateView('unknown', revealedQuiz(), at(1_000)).quiz).toHaveProperty('correctIndex', 0);
    expect(stateView('live', openedQuiz(), at(1_000)).quiz).not.toHaveProperty('correctIndex');
  });
});

describe('when a poll is created', () => {
  const POLL = { kind: 'poll', question: 'Which song next?', choices: ['Encore', 'Ballad'] };

  it('parses a poll with no correctIndex, and a quiz stays the default kind', () => {
    expect(parseCreateQuiz(POLL)).toEqual({ ...POLL, durationSeconds: 20 });
    expect(parseCreateQuiz(VALID).kind).toBe('quiz');
  });

  it.each<[string, unknown, RegExp]>([
    ['a poll has a correctIndex', { ...POLL, correctIndex: 0 }, /^correctIndex: must not be set for a poll/],
    ['a quiz has none', { question: 'Q?', choices: ['a', 'b'] }, /^correctIndex: is required for a quiz/],
    [
      'an explicit quiz has none',
      { kind: 'quiz', question: 'Q?', choices: ['a', 'b'] },
      /^correctIndex: is required/,
    ],
    ['the kind is unknown', { ...VALID, kind: 'survey' }, /^kind: must be "quiz" or "poll"$/],
    ['the kind is not a string', { ...VALID, kind: 1 }, /^kind: must be "quiz" or "poll"$/],
    ['a quiz asks for live results', { ...VALID, liveResults: true }, /^liveResults: is for a poll only/],
    ['liveResults is not a boolean', { ...POLL, liveResults: 'yes' }, /^liveResults: must be true or false$/],
  ])('refuses it with a 400 naming the field when %s', (_case, body, message) => {
    const error = thrownBy(() => parseCreateQuiz(body));
    expect(error).toBeInstanceOf(BadRequestError);
    expect((error as DomainError).message).toMatch(message);
  });

  it('opens a poll that stores no correct answer and carries its kind into every view', () => {
    const poll = openQuiz(parseCreateQuiz(POLL), 'poll-1', OPENED_AT, 4);
    expect(poll).not.toHaveProperty('correctIndex');
    expect(poll.kind).toBe('poll');
    const revealed = { ...poll, result: { counts: [3, 1], total: 4, revealedAt: at(40_000).toISOString() } };
    expect(publicView(revealed, at(50_000))).toEqual({
      quizId: 'poll-1',
      question: POLL.question,
      choices: POLL.choices,
      state: 'revealed',
      closesAt: poll.closesAt,
      kind: 'poll',
      durationSeconds: 20,
      graceSeconds: 0,
      counts: [3, 1],
      total: 4,
    });
    expect(hostView(poll, { counts: [1, 0], total: 1 }, at(1_000))).toMatchObject({
      kind: 'poll',
      counts: [1, 0],
    });
    expect(hostView(poll, { counts: [1, 0], total: 1 }, at(1_000))).not.toHaveProperty('correctIndex');
  });

  it('sends a question cue that says it is a poll', () => {
    const poll = openQuiz(parseCreateQuiz(POLL), 'poll-1', OPENED_AT, 4);
    expect(JSON.parse(encodeQuestionCue(poll).metadata)).toEqual({
      v: 1,
      type: 'question',
      quizId: 'poll-1',
      question: POLL.question,
      choices: POLL.choices,
      closesAt: poll.closesAt,
      kind: 'poll',
      durationSeconds: 20,
      graceSeconds: 0,
    });
  });
});

describe('when a poll shows live results', () => {
  const LIVE = { kind: 'poll', question: 'Tea or coffee?', choices: ['Tea', 'Coffee'], liveResults: true };

  it('keeps the flag on the poll, its cue and its public view, and nowhere else', () => {
    const poll = openQuiz(parseCreateQuiz(LIVE), 'poll-2', OPENED_AT, 4);
    expect(poll.liveResults).toBe(true);
    expect(JSON.parse(encodeQuestionCue(poll).metadata).liveResults).toBe(true);
    expect(publicView(poll, at(1_000)).liveResults).toBe(true);
    const plain = openQuiz(parseCreateQuiz({ ...LIVE, liveResults: false }), 'poll-3', OPENED_AT, 4);
    expect(plain).not.toHaveProperty('liveResults');
    expect(JSON.parse(encodeQuestionCue(plain).metadata)).not.toHaveProperty('liveResults');
  });
});
