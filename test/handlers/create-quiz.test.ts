import {
  ConditionalCheckFailedException,
  ProvisionedThroughputExceededException,
} from '@aws-sdk/client-dynamodb';
import { ChannelNotBroadcasting, PutMetadataCommand, ThrottlingException } from '@aws-sdk/client-ivs';
import {
  GetCommand,
  PutCommand,
  type PutCommandInput,
  UpdateCommand,
  type UpdateCommandInput,
} from '@aws-sdk/lib-dynamodb';
import { handler } from '../../lambda/handlers/create-quiz';
import { mockAws } from '../aws-mocks';
import { expectErrorReply, httpEvent, invoke, lambdaContext } from './events';
import {
  allowPublishing,
  CHANNEL_ARN,
  fullRateWindow,
  GENERATED_ID,
  RATE_WINDOW,
  RETENTION_DAYS,
  SHOW_ITEM,
  sentCues,
  TABLES,
  TALLY_SHARDS,
} from './fixtures';

const { ivs: ivsMock, ddb: ddbMock } = mockAws();

const ROUTE = 'POST /quizzes';
const VALID = {
  question: 'Which planet is largest?',
  choices: ['Mars', 'Jupiter', 'Venus'],
  correctIndex: 1,
};

const createQuiz = (body?: string | object, isBase64Encoded = false) =>
  invoke(handler, httpEvent(ROUTE, { body, isBase64Encoded }));

interface CreatedBody {
  quizId: string;
  opensAt: string;
  closesAt: string;
}

/** The quiz put and the show update the handler sent, failing unless there was exactly one of each. */
function storedWrites(): { put: PutCommandInput; update: UpdateCommandInput } {
  const puts = ddbMock.commandCalls(PutCommand);
  const updates = ddbMock.commandCalls(UpdateCommand, SHOW_ITEM);
  expect(puts).toHaveLength(1);
  expect(updates).toHaveLength(1);
  return { put: puts[0].args[0].input, update: updates[0].args[0].input };
}

function expectNothingStored(): void {
  expect(ddbMock.commandCalls(PutCommand)).toHaveLength(0);
  expect(ddbMock.commandCalls(UpdateCommand, SHOW_ITEM)).toHaveLength(0);
}

function expectNothingSentOrStored(): void {
  expect(ivsMock.commandCalls(PutMetadataCommand)).toHaveLength(0);
  expectNothingStored();
}

beforeEach(() => {
  allowPublishing(ddbMock, ivsMock);
  ddbMock.on(PutCommand).resolves({});
  ddbMock.on(UpdateCommand, SHOW_ITEM).resolves({});
});

describe('when the host opens a valid quiz', () => {
  it('answers 201 with the quiz id and a window of the default 20 seconds', async () => {
    const before = Date.now();
    const reply = await createQuiz(VALID);
    const after = Date.now();

    expect(reply.statusCode).toBe(201);
    expect(String(reply.headers['content-type'])).toMatch(/^application\/json\b/);
    const body = reply.body as CreatedBody;
    expect(Object.keys(body).sort()).toEqual([
      'answersCloseAt',
      'closesAt',
      'graceSeconds',
      'opensAt',
      'quizId',
    ]);
    expect(body.quizId).toMatch(GENERATED_ID);
    expect(new Date(body.opensAt).toISOString()).toBe(body.opensAt);
    expect(Date.parse(body.opensAt)).toBeGreaterThanOrEqual(before);
    expect(Date.parse(body.opensAt)).toBeLessThanOrEqual(after);
    expect(Date.parse(body.closesAt) - Date.parse(body.opensAt)).toBe(20_000);
  });

  it("takes answers until closesAt plus the stack's grace, and says so in the reply and the cue", async () => {
    const reply = await createQuiz(VALID);
    const body = reply.body as CreatedBody & { graceSeconds: number; answersCloseAt: string };

    // test/setup-env.ts sets the grace to 6 s, as the construct sets it from its props.
    expect(body.graceSeconds).toBe(6);
    expect(Date.parse(body.answersCloseAt) - Date.parse(body.closesAt)).toBe(6_000);
    const cue = JSON.parse(String(ivsMock.commandCalls(PutMetadataCommand)[0].args[0].input.metadata));
    expect(cue).toMatchObject({ durationSeconds: 20, graceSeconds: 6 });
    expect(storedWrites().put.Item).toMatchObject({ graceSeconds: 6 });
  });

  it('honours an explicit durationSeconds', async () => {
    const reply = await createQuiz({ ...VALID, durationSeconds: 45 });

    expect(reply.statusCode).toBe(201);
    const body = reply.body as CreatedBody;
    expect(Date.parse(body.closesAt) - Date.parse(body.opensAt)).toBe(45_000);
  });

  it('sends exactly one question cue to the channel, without the correct answer', async () => {
    const reply = await createQuiz(VALID);
    const body = reply.body as CreatedBody;

    const calls = ivsMock.commandCalls(PutMetadataCommand);
    expect(calls).toHaveLength(1);
    const { input } = calls[0].args[0];
    expect(input.channelArn).toBe(CHANNEL_ARN);
    const cue = JSON.parse(String(input.metadata));
    expect(cue).toStrictEqual({
      v: 1,
      type: 'question',
      quizId: body.quizId,
      question: VALID.question,
      choices: VALID.choices,
      closesAt: body.closesAt,
      kind: 'quiz',
      durationSeconds: 20,
      graceSeconds: 6,
    });
    expect(input.metadata).not.toContain('correctIndex');
  });

  it('opens a poll: its cue says so, and its stored item has no correct answer', async () => {
    const poll = { kind: 'poll', question: VALID.question, choices: VALID.choices };
    const reply = await createQuiz(poll);

    expect(reply.statusCode).toBe(201);
    const cue = JSON.parse(String(ivsMock.commandCalls(PutMetadataCommand)[0].args[0].input.metadata));
    expect(cue).toMatchObject({ type: 'question', kind: 'poll', choices: VALID.choices });
    const { put } = storedWrites();
    expect(put.Item).toMatchObject({ kind: 'poll', question: VALID.question });
    expect(put.Item).not.toHaveProperty('correctIndex');
  });

  it('refuses a poll with a correct answer with a 400 naming correctIndex, and sends nothing', async () => {
    const reply = await createQuiz({ ...VALID, kind: 'poll' });

    expect(expectErrorReply(reply, 400, 'BAD_REQUEST')).toMatch(/^correctIndex: must not be set for a poll/);
    expect(ivsMock.commandCalls(PutMetadataCommand)).toHaveLength(0);
    expectNothingStored();
  });

  it('stores the quiz with its answer, shard count and expiry, then makes it current', async () => {
    const reply = await createQuiz(VALID);
    const body = reply.body as CreatedBody;

    const { put, update } = storedWrites();
    const putOrder = ddbMock.calls().findIndex((c) => c.args[0] instanceof PutCommand);
    const updateOrder = ddbMock.calls().findIndex((c) => c.args[0].input === update);
    expect(putOrder).toBeLessThan(updateOrder);
    expect(put).toStrictEqual({
      TableName: TABLES.quizzes,
      Item: {
        quizId: body.quizId,
        question: VALID.question,
        choices: VALID.choices,
        kind: 'quiz',
        correctIndex: 1,
        durationSeconds: 20,
        opensAt: body.opensAt,
        closesAt: body.closesAt,
        graceSeconds: 6,
        tallyShards: TALLY_SHARDS,
        expiresAt: Math.floor(Date.parse(body.opensAt) / 1000) + RETENTION_DAYS * 86_400,
      },
      ConditionExpression: 'attribute_not_exists(quizId)',
    });
    expect(update).toMatchObject({
      TableName: TABLES.control,
      Key: { pk: 'show' },
      // It also heads the show's list of quizzes, which the host's cockpit reads (GET /show).
      UpdateExpression:
        'SET currentQuizId = :quizId, recentQuizIds = list_append(:one, if_not_exists(recentQuizIds, :none))',
      ExpressionAttributeValues: { ':quizId': body.quizId, ':one': [body.quizId], ':none': [] },
    });
  });

  it("trims the show's list of quizzes to the latest 50", async () => {
    const long = Array.from({ length: 52 }, (_, i) => `quiz-${i}`);
    ddbMock.on(UpdateCommand, { TableName: TABLES.control, Key: { pk: 'show' } }).resolves({
      Attributes: { recentQuizIds: long },
    });

    const reply = await createQuiz(VALID);

    expect(reply.statusCode).toBe(201);
    const trims = ddbMock
      .commandCalls(UpdateCommand, { TableName: TABLES.control, Key: { pk: 'show' } })
      .map((call) => call.args[0].input.UpdateExpression)
      .filter((expression) => expression?.startsWith('REMOVE'));
    expect(trims).toEqual(['REMOVE recentQuizIds[50], recentQuizIds[51]']);
  });

  it('takes a rate-window slot with a conditional write before sending', async () => {
    const before = Date.now();
    await createQuiz(VALID);

    expect(ddbMock.commandCalls(GetCommand, RATE_WINDOW)).toHaveLength(1);
    const updates = ddbMock.commandCalls(UpdateCommand, RATE_WINDOW);
    expect(updates).toHaveLength(1);
    const { input } = updates[0].args[0];
    expect(input.ConditionExpression).toBe('attribute_not_exists(seq) OR seq = :seen');
    expect(input.ExpressionAttributeNames).toEqual({ '#slot': 's0' });
    expect(input.ExpressionAttributeValues).toMatchObject({ ':next': 1, ':seen': 0 });
    expect(input.ExpressionAttributeValues?.[':now']).toBeGreaterThanOrEqual(before);
  });

  it('gives each quiz a fresh id', async () => {
    const first = (await createQuiz(VALID)).body as CreatedBody;
    const second = (await createQuiz(VALID)).body as CreatedBody;

    expect(first.quizId).not.toBe(second.quizId);
  });
});

describe('when the body is base64-encoded by the gateway', () => {
  it('decodes it and opens the quiz', async () => {
    const question = 'Qui a peint « La Joconde » ?';
    const encoded = Buffer.from(JSON.stringify({ ...VALID, question }), 'utf8').toString('base64');

    const reply = await createQuiz(encoded, true);

    expect(reply.statusCode).toBe(201);
    const [cue] = sentCues(ivsMock);
    expect(cue).toMatchObject({ type: 'question', question });
    expect(storedWrites().put.Item?.question).toBe(question);
  });
});

describe('when the body is not valid JSON', () => {
  it('answers 400 BAD_REQUEST and sends nothing', async () => {
    const reply = await createQuiz('{"question": "unterminated');

    const message = expectErrorReply(reply, 400, 'BAD_REQUEST');
    expect(message).toBe('body: is not valid JSON');
    expectNothingSentOrStored();
  });
});

describe('when the body is not declared application/json', () => {
  it.each([
    ['text/plain', { 'content-type': 'text/plain' }],
    ['multipart/form-data', { 'content-type': 'multipart/form-data; boundary=x' }],
    ['no content type', {}],
  ])('answers 415 UNSUPPORTED_MEDIA_TYPE for %s and sends nothing', async (_label, headers) => {
    const reply = await invoke(handler, httpEvent(ROUTE, { body: VALID, headers }));
    const message = expectErrorReply(reply, 415, 'UNSUPPORTED_MEDIA_TYPE');
    expect(message).toMatch(/^content-type: must be application\/json/);
    expectNothingSentOrStored();
  });

  it('accepts application/json in any case and with parameters', async () => {
    const headers = { 'content-type': 'Application/JSON; charset=UTF-8' };
    const reply = await invoke(handler, httpEvent(ROUTE, { body: VALID, headers }));
    expect(reply.statusCode).toBe(201);
  });
});

describe('when the body nests 10,000 levels deep', () => {
  it('answers 400 BAD_REQUEST naming the nesting and sends nothing', async () => {
    const reply = await createQuiz(`${'['.repeat(10_000)}${']'.repeat(10_000)}`);
    expect(expectErrorReply(reply, 400, 'BAD_REQUEST')).toMatch(/^body: nests deeper than 32 levels/);
    expectNothingSentOrStored();
  });
});

describe('when the body is empty', () => {
  it.each([
    ['missing', undefined],
    ['an empty string', ''],
  ])('answers 400 BAD_REQUEST when it is %s', async (_label, body) => {
    const reply = await createQuiz(body);

    const message = expectErrorReply(reply, 400, 'BAD_REQUEST');
    expect(message).toMatch(/^body: /);
    expectNothingSentOrStored();
  });
});

describe('when the body breaks the schema', () => {
  it.each<[string, unknown, RegExp]>([
    ['a JSON array', [VALID], /^body: must be a JSON object$/],
    ['no question', { choices: ['a', 'b'], correctIndex: 0 }, /^question: is required$/],
    ['a blank question', { ...VALID, question: '   ' }, /^question: must not be blank$/],
    ['a 201-character question', { ...VALID, question: 'q'.repeat(201) }, /^question: must be 1 to 200/],
    ['one choice', { ...VALID, choices: ['only'], correctIndex: 0 }, /^choices: must have 2 to 4 entries$/],
    ['five choices', { ...VALID, choices: ['a', 'b', 'c', 'd', 'e'] }, /^choices: must have 2 to 4/],
    ['an empty choice', { ...VALID, choices: ['a', ''] }, /^choices\[1\]: must be 1 to 80 characters$/],
    ['an 81-character choice', { ...VALID, choices: ['a', 'b'.repeat(81)] }, /^choices\[1\]: /],
    ['a non-string choice', { ...VALID, choices: ['a', 7] }, /^choices\[1\]: must be a string$/],
    ['a fractional correctIndex', { ...VALID, correctIndex: 1.5 }, /^correctIndex: must be an integer$/],
    ['a negative correctIndex', { ...VALID, correctIndex: -1 }, /^correctIndex: must be 0 or more$/],
    ['a correctIndex past the choices', { ...VALID, correctIndex: 3 }, /^correctIndex: must be less than/],
    ['a 4-second duration', { ...VALID, durationSeconds: 4 }, /^durationSeconds: must be 5 to 300$/],
    ['a 301-second duration', { ...VALID, durationSeconds: 301 }, /^durationSeconds: must be 5 to 300$/],
    ['an unknown field', { ...VALID, correct: 1 }, /^body: unknown field "correct"$/],
  ])('answers 400 naming the field for %s', async (_label, body, expected) => {
    const reply = await createQuiz(JSON.stringify(body));

    const message = expectErrorReply(reply, 400, 'BAD_REQUEST');
    expect(message).toMatch(expected);
    expectNothingSentOrStored();
  });

  it('accepts the limits themselves: 200 characters, 4 choices of 80, 5 and 300 seconds', async () => {
    const atLimits = { question: 'q'.repeat(200), choices: ['a', 'b', 'c', 'd'].map((c) => c.repeat(80)) };

    const short = await createQuiz({ ...atLimits, correctIndex: 3, durationSeconds: 5 });
    const long = await createQuiz({ ...atLimits, correctIndex: 0, durationSeconds: 300 });

    expect(short.statusCode).toBe(201);
    expect(long.statusCode).toBe(201);
    expect(ivsMock.commandCalls(PutMetadataCommand)).toHaveLength(2);
  });
});

describe('when the question cue would exceed 1024 bytes of UTF-8', () => {
  it('answers 413 PAYLOAD_TOO_LARGE, takes no rate slot, sends and stores nothing', async () => {
    const emoji = '😀'; // 4 bytes of UTF-8, 1 character
    const body = { question: emoji.repeat(200), choices: Array(4).fill(emoji.repeat(80)), correctIndex: 0 };

    const reply = await createQuiz(body);

    const message = expectErrorReply(reply, 413, 'PAYLOAD_TOO_LARGE');
    expect(message).toMatch(/limit is 1024/);
    expectNothingSentOrStored();
    expect(ddbMock.commandCalls(UpdateCommand)).toHaveLength(0);
  });
});

describe('when the channel is not broadcasting', () => {
  it('answers 409 CHANNEL_NOT_BROADCASTING and stores nothing', async () => {
    ivsMock.on(PutMetadataCommand).rejects(new ChannelNotBroadcasting({ message: 'x', $metadata: {} }));

    const reply = await createQuiz(VALID);

    expectErrorReply(reply, 409, 'CHANNEL_NOT_BROADCASTING');
    expect(ivsMock.commandCalls(PutMetadataCommand)).toHaveLength(1);
    expectNothingStored();
  });
});

describe('when IVS throttles the call', () => {
  it('answers 429 RATE_LIMITED with a Retry-After and stores nothing', async () => {
    ivsMock.on(PutMetadataCommand).rejects(new ThrottlingException({ message: 'x', $metadata: {} }));

    const reply = await createQuiz(VALID);

    expectErrorReply(reply, 429, 'RATE_LIMITED');
    expect(reply.headers['retry-after']).toBe('1');
    expectNothingStored();
  });
});

describe('when the rate window already holds 5 cues from this second', () => {
  it('answers 429 with Retry-After of at least 1 s and never calls IVS', async () => {
    ddbMock.on(GetCommand, RATE_WINDOW).resolves({ Item: fullRateWindow(Date.now()) });

    const reply = await createQuiz(VALID);

    const message = expectErrorReply(reply, 429, 'RATE_LIMITED');
    expect(message).toMatch(/5 timed-metadata events per second/);
    expect(Number(reply.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(Number.isInteger(Number(reply.headers['retry-after']))).toBe(true);
    expectNothingSentOrStored();
    expect(ddbMock.commandCalls(UpdateCommand, RATE_WINDOW)).toHaveLength(0);
  });
});

describe('when the oldest of the last 5 cues left more than a second ago', () => {
  it('admits the cue into the ring slot of that oldest one', async () => {
    const item = fullRateWindow(Date.now() - 400);
    Object.assign(item, { seq: 7, s2: Date.now() - 1500 });
    ddbMock.on(GetCommand, RATE_WINDOW).resolves({ Item: item });

    const reply = await createQuiz(VALID);

    expect(reply.statusCode).toBe(201);
    expect(ivsMock.commandCalls(PutMetadataCommand)).toHaveLength(1);
    const [update] = ddbMock.commandCalls(UpdateCommand, RATE_WINDOW);
    expect(update.args[0].input).toMatchObject({
      ConditionExpression: 'seq = :seen',
      ExpressionAttributeNames: { '#slot': 's2' },
      ExpressionAttributeValues: { ':next': 8, ':seen': 7 },
    });
  });
});

describe('when another Lambda takes the rate slot first', () => {
  it('reads the window again, wins the next race, and still opens the quiz with one cue', async () => {
    ddbMock
      .on(UpdateCommand, RATE_WINDOW)
      .rejectsOnce(new ConditionalCheckFailedException({ message: 'x', $metadata: {} }))
      .resolves({});

    const reply = await createQuiz(VALID);

    expect(reply.statusCode).toBe(201);
    expect(ivsMock.commandCalls(PutMetadataCommand)).toHaveLength(1);
    expect(ddbMock.commandCalls(GetCommand, RATE_WINDOW)).toHaveLength(2);
    expect(ddbMock.commandCalls(UpdateCommand, RATE_WINDOW)).toHaveLength(2);
    storedWrites();
  });
});

describe('when every race for the rate slot is lost', () => {
  it('gives up with 429 and never calls IVS', async () => {
    ddbMock
      .on(UpdateCommand, RATE_WINDOW)
      .rejects(new ConditionalCheckFailedException({ message: 'x', $metadata: {} }));

    const reply = await createQuiz(VALID);

    expectErrorReply(reply, 429, 'RATE_LIMITED');
    expect(reply.headers['retry-after']).toBe('1');
    expectNothingSentOrStored();
  });
});

describe('when DynamoDB fails unexpectedly', () => {
  it('answers 500 INTERNAL_ERROR in the error envelope, quoting the request id, if the rate window cannot be read', async () => {
    ddbMock.on(GetCommand, RATE_WINDOW).rejects(new Error('ProvisionedThroughputExceeded (simulated)'));

    const reply = await invoke(handler, httpEvent(ROUTE, { body: VALID }), lambdaContext('req-42'));

    const message = expectErrorReply(reply, 500, 'INTERNAL_ERROR');
    expect(message).toContain('req-42');
    expect(message).not.toContain('simulated');
    expectNothingSentOrStored();
  });

  it('retries only the throttled write once the cue is on air: the quiz is put once and made current', async () => {
    const throttled = new ProvisionedThroughputExceededException({ message: 'x', $metadata: {} });
    ddbMock.on(UpdateCommand, SHOW_ITEM).rejectsOnce(throttled).resolves({});

    const reply = await createQuiz(VALID);

    expect(reply.statusCode).toBe(201);
    expect(ddbMock.commandCalls(PutCommand)).toHaveLength(1);
    expect(ddbMock.commandCalls(UpdateCommand, SHOW_ITEM)).toHaveLength(2);
  });

  it('answers 500 INTERNAL_ERROR if the quiz cannot be stored', async () => {
    ddbMock.on(PutCommand).rejects(new Error('InternalServerError (simulated)'));

    const reply = await createQuiz(VALID);

    expectErrorReply(reply, 500, 'INTERNAL_ERROR');
  });
});
