import fc from 'fast-check';
import WebSocket from 'ws';
import type { LocalRuntime } from '../../local/runtime';
import { bootTestRuntime, callApi, Viewer } from '../local/harness';

/**
 * R1 fuzz: fast-check drives every HTTP route and WebSocket action through the local runtime.
 * Every reply is a success or a documented 4xx with a message: never a 5xx, never a dropped
 * server. Stored state changes exactly once per accepted input and never for a rejected one.
 * FUZZ_RUNS sets the inputs per route: 300 in `npm test` (fast-check's default is 100); 5,000
 * for a deep run (docs/reliability.md).
 */
const RUNS = Number(process.env.FUZZ_RUNS ?? 300);
let runtime: LocalRuntime;

const HTTP_CODES: Record<number, string[]> = {
  400: ['BAD_REQUEST'],
  404: ['NOT_FOUND'],
  409: ['CHANNEL_NOT_BROADCASTING'],
  413: ['PAYLOAD_TOO_LARGE'],
  429: ['RATE_LIMITED'],
};
const WS_CODES = ['BAD_REQUEST', 'UNKNOWN_ACTION', 'NOT_FOUND', 'QUIZ_CLOSED', 'ALREADY_ANSWERED'];

beforeAll(async () => {
  runtime = await bootTestRuntime({ webDir: null });
}, 120_000);

afterAll(async () => {
  await runtime?.stop();
});

const cueCount = async () =>
  ((await (await fetch(`${runtime.config.ivsEndpoint}/_local/metadata`)).json()) as unknown[]).length;

/** Strings that stress parsers: unicode edge cases, lone surrogates, control characters, huge ones. */
const nastyString = fc.oneof(
  fc.string(),
  fc.string({ unit: 'grapheme', maxLength: 300 }),
  fc.string({ unit: 'binary', maxLength: 100 }),
  fc.constantFrom('', ' ', '\u0000', '\ud800', '𝕏'.repeat(201), 'é'.repeat(900), '__proto__', 'constructor'),
  fc.integer({ min: 1000, max: 70_000 }).map((n) => 'x'.repeat(n)),
);
const anyJson = fc.oneof(
  fc.jsonValue(),
  fc.anything({ maxDepth: 3 }).map((v) => JSON.parse(JSON.stringify(v ?? null))),
);
/** Bodies for POST /quizzes: malformed JSON, wrong types, missing fields, near-valid ones. */
const quizBody = fc.oneof(
  nastyString,
  anyJson.map((v) => JSON.stringify(v)),
  fc
    .record(
      {
        question: fc.oneof(nastyString, anyJson),
        choices: fc.oneof(
          fc.array(fc.oneof(nastyString, fc.string({ minLength: 1, maxLength: 80 })), { maxLength: 6 }),
          anyJson,
        ),
        correctIndex: fc.oneof(fc.integer({ min: -2, max: 6 }), fc.double(), anyJson),
        durationSeconds: fc.oneof(fc.integer({ min: 0, max: 400 }), anyJson),
        extra: anyJson,
      },
      { requiredKeys: [] },
    )
    .map((v) => JSON.stringify(v)),
);
const eventBody = fc.oneof(
  nastyString,
  anyJson.map((v) => JSON.stringify(v)),
  fc
    .record(
      {
        type: fc.oneof(
          fc.stringMatching(/^[a-z][a-z0-9_-]{0,31}$/),
          nastyString,
          fc.constantFrom('question', 'result'),
        ),
        data: fc.oneof(
          fc.dictionary(fc.string({ maxLength: 8 }), anyJson, { maxKeys: 5 }),
          anyJson,
          nastyString,
        ),
        extra: anyJson,
      },
      { requiredKeys: [] },
    )
    .map((v) => JSON.stringify(v)),
);
const quizIdSegment = fc.oneof(
  fc.stringMatching(/^[A-Za-z0-9_-]{1,64}$/),
  // A path carries bytes: lone surrogates become U+FFFD before they are percent-encoded.
  nastyString.filter((s) => s.length > 0 && s.length < 2000).map((s) => encodeURIComponent(s.toWellFormed())),
);

function checkHttpReply(
  route: string,
  reply: { status: number; headers: Headers; body: any },
  ok: number[],
): void {
  if (ok.includes(reply.status)) return;
  const codes = HTTP_CODES[reply.status];
  if (!codes)
    throw new Error(
      `${route}: undocumented status ${reply.status} ${JSON.stringify(reply.body).slice(0, 300)}`,
    );
  if (!codes.includes(reply.body?.error?.code))
    throw new Error(`${route}: ${reply.status} with code ${reply.body?.error?.code}`);
  if (typeof reply.body.error.message !== 'string' || reply.body.error.message.length === 0)
    throw new Error(`${route}: no message`);
  if (reply.status === 429 && !(Number(reply.headers.get('retry-after')) >= 1))
    throw new Error(`${route}: 429 without Retry-After`);
}

describe('when the HTTP routes are fuzzed', () => {
  it(`POST /quizzes: ${RUNS} bodies, each a documented reply; one cue per accepted quiz, none otherwise`, async () => {
    const before = await cueCount();
    let accepted = 0;
    await fc.assert(
      fc.asyncProperty(quizBody, async (body) => {
        const reply = await callApi(runtime.config, 'POST', '/quizzes', body);
        checkHttpReply('POST /quizzes', reply, [201]);
        if (reply.status === 201) accepted++;
      }),
      { numRuns: RUNS },
    );
    expect(await cueCount()).toBe(before + accepted);
  }, 600_000);

  it(`POST /events: ${RUNS} bodies, each a documented reply; one cue per accepted event, none otherwise`, async () => {
    const before = await cueCount();
    let accepted = 0;
    await fc.assert(
      fc.asyncProperty(eventBody, async (body) => {
        const reply = await callApi(runtime.config, 'POST', '/events', body);
        checkHttpReply('POST /events', reply, [200]);
        if (reply.status === 200) accepted++;
      }),
      { numRuns: RUNS },
    );
    expect(await cueCount()).toBe(before + accepted);
  }, 600_000);

  it(`GET /quizzes/{id} and POST /quizzes/{id}/reveal: ${RUNS} ids each, documented replies, nothing sent`, async () => {
    const before = await cueCount();
    await fc.assert(
      fc.asyncProperty(quizIdSegment, fc.boolean(), async (id, reveal) => {
        const route = reveal ? `/quizzes/${id}/reveal` : `/quizzes/${id}`;
        const reply = await callApi(runtime.config, reveal ? 'POST' : 'GET', route);
        // An id that reaches no route at all is the gateway's plain 404, as on AWS.
        if (reply.status === 404 && reply.body?.message === 'Not Found') return;
        checkHttpReply(route, reply, [200]);
        if (reply.status === 200) throw new Error(`${route}: a random id matched a quiz`);
      }),
      { numRuns: RUNS },
    );
    expect(await cueCount()).toBe(before);
  }, 600_000);

  it(`GET /state: ${RUNS} query strings, always 200`, async () => {
    await fc.assert(
      fc.asyncProperty(fc.string({ maxLength: 200 }), async (query) => {
        const reply = await callApi(runtime.config, 'GET', `/state?${encodeURIComponent(query)}`, undefined, {
          sign: false,
        });
        if (reply.status !== 200) throw new Error(`GET /state: ${reply.status}`);
      }),
      { numRuns: RUNS },
    );
  }, 600_000);
});

describe('when the WebSocket actions are fuzzed', () => {
  it(`${RUNS} frames on one connection: each gets one documented reply and the connection stays open`, async () => {
    const viewer = await Viewer.connect(runtime.config.webSocketUrl);
    const frame = fc.oneof(
      nastyString.filter((s) => Buffer.byteLength(s) < 30_000),
      anyJson.map((v) => JSON.stringify(v)),
      fc
        .record(
          {
            action: fc.oneof(
              fc.constantFrom('answer', 'sync', 'ping', '$connect', '$default', 'dance'),
              nastyString,
            ),
            quizId: fc.oneof(fc.stringMatching(/^[A-Za-z0-9_-]{1,64}$/), anyJson),
            choiceIndex: fc.oneof(fc.integer({ min: -1, max: 5 }), anyJson),
          },
          { requiredKeys: [] },
        )
        .map((v) => JSON.stringify(v))
        .filter((s) => Buffer.byteLength(s) < 30_000),
    );
    try {
      await fc.assert(
        fc.asyncProperty(frame, async (text) => {
          const reply = await viewer.request(text, ['answer', 'state', 'pong', 'error'], 10_000);
          if (reply.type === 'error' && (!WS_CODES.includes(reply.code) || !reply.message)) {
            throw new Error(`undocumented error frame ${JSON.stringify(reply)}`);
          }
          if (viewer.socket.readyState !== WebSocket.OPEN) throw new Error('the connection was dropped');
        }),
        { numRuns: RUNS },
      );
    } finally {
      await viewer.close();
    }
    const unknown = viewer.frames.filter((f) => !['answer', 'state', 'pong', 'error'].includes(f.type));
    expect(unknown).toEqual([]);
  }, 600_000);

  it('closes any frame over 32 KB with 1009 and keeps serving new connections', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 32 * 1024 + 1, max: 200 * 1024 }), async (size) => {
        const viewer = await Viewer.connect(runtime.config.webSocketUrl);
        const closed = new Promise<number>((resolve) => viewer.socket.once('close', (code) => resolve(code)));
        viewer.send('x'.repeat(size));
        expect(await closed).toBe(1009);
      }),
      { numRuns: 20 },
    );
    const next = await Viewer.connect(runtime.config.webSocketUrl);
    expect(await next.request({ action: 'ping' }, ['pong'])).toMatchObject({ type: 'pong' });
    await next.close();
  }, 120_000);
});

describe('after the fuzzing', () => {
  it('the server still serves the contract', async () => {
    const state = await callApi(runtime.config, 'GET', '/state');
    expect(state.status).toBe(200);
    expect(['live', 'offline', 'unknown']).toContain(state.body.stream);
  });
});
