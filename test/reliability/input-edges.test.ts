import type { LocalRuntime } from '../../local/runtime';
import { bootTestRuntime, callApi, sleep, Viewer } from '../local/harness';

/**
 * Input edges, through the local runtime booted once for this file: bodies and frames nested
 * 10,000 levels deep, text that shows nothing, bodies not declared as JSON, and the stage
 * throttling the template sets on the HTTP API.
 */
let runtime: LocalRuntime;
const viewers: Viewer[] = [];

const arrays = (levels: number) => `${'['.repeat(levels)}${']'.repeat(levels)}`;
const objects = (levels: number) => `${'{"a":'.repeat(levels)}1${'}'.repeat(levels)}`;
const NESTING = /nests deeper than 32 levels/;
const VALID_QUIZ = {
  question: 'Which planet is the largest?',
  choices: ['Mars', 'Jupiter', 'Venus'],
  correctIndex: 1,
};

const cueCount = async () =>
  ((await (await fetch(`${runtime.config.ivsEndpoint}/_local/metadata`)).json()) as unknown[]).length;
const connect = async () => {
  const viewer = await Viewer.connect(runtime.config.webSocketUrl);
  viewers.push(viewer);
  return viewer;
};

beforeAll(async () => {
  runtime = await bootTestRuntime({ webDir: null });
}, 120_000);

afterEach(async () => {
  await Promise.all(viewers.splice(0).map((v) => v.close()));
});

afterAll(async () => {
  await runtime?.stop();
});

describe('when a body nests 10,000 levels deep', () => {
  it('answers POST /quizzes and POST /events with 400 BAD_REQUEST naming the nesting, and sends no cue', async () => {
    const before = await cueCount();
    const requests: Array<[string, string]> = [
      ['/quizzes', arrays(10_000)],
      ['/quizzes', objects(10_000)],
      ['/events', arrays(10_000)],
      ['/events', objects(10_000)],
      ['/events', `{"type":"poll","data":{"a":${objects(10_000)}}}`],
      ['/events', `{"type":"poll","data":{"a":${arrays(10_000)}}}`],
    ];
    for (const [route, body] of requests) {
      const reply = await callApi(runtime.config, 'POST', route, body);
      expect({ route, status: reply.status, code: reply.body?.error?.code }).toEqual({
        route,
        status: 400,
        code: 'BAD_REQUEST',
      });
      expect(reply.body.error.message).toMatch(NESTING);
    }
    expect(await cueCount()).toBe(before);
  });
});

describe('when a WebSocket frame nests thousands of levels deep', () => {
  it('answers each with a BAD_REQUEST error frame naming the nesting, and keeps the connection open', async () => {
    const viewer = await connect();
    // A frame is at most 32 KB, so objects (6 bytes a level) go 5,000 deep and arrays 10,000.
    const frames = [
      `{"action":"answer","quizId":"q","choiceIndex":${arrays(10_000)}}`,
      `{"action":"answer","quizId":"q","choiceIndex":0,"x":${objects(5_000)}}`,
      arrays(10_000),
    ];
    for (const frame of frames) {
      const reply = await viewer.request(frame, ['error', 'answer']);
      expect(reply).toMatchObject({
        type: 'error',
        code: 'BAD_REQUEST',
        message: expect.stringMatching(NESTING),
      });
    }
    expect(await viewer.request({ action: 'ping' }, ['pong'])).toMatchObject({ type: 'pong' });
    expect(viewer.closeCode).toBeUndefined();
  });
});

describe('when a question or a choice shows nothing', () => {
  it('refuses zero-width spaces, joiners and word joiners as blank with 400, and sends no cue', async () => {
    const before = await cueCount();
    const question = await callApi(runtime.config, 'POST', '/quizzes', {
      ...VALID_QUIZ,
      question: '\u200b\u200b\u200b',
    });
    expect(question.status).toBe(400);
    expect(question.body.error).toEqual({ code: 'BAD_REQUEST', message: 'question: must not be blank' });
    const choice = await callApi(runtime.config, 'POST', '/quizzes', {
      ...VALID_QUIZ,
      choices: ['Mars', '\u200c\u2060\u200d \ufeff', 'Venus'],
    });
    expect(choice.status).toBe(400);
    expect(choice.body.error).toEqual({ code: 'BAD_REQUEST', message: 'choices[1]: must not be blank' });
    expect(await cueCount()).toBe(before);
  });
});

describe('when a body is not declared application/json', () => {
  it('answers 415 UNSUPPORTED_MEDIA_TYPE for text/plain, multipart/form-data or no content type, and sends no cue', async () => {
    const before = await cueCount();
    const attempts: Array<[string, unknown, string | null]> = [
      ['/quizzes', VALID_QUIZ, 'text/plain'],
      ['/quizzes', VALID_QUIZ, 'multipart/form-data; boundary=cuecast'],
      ['/quizzes', VALID_QUIZ, null],
      ['/events', { type: 'poll', data: {} }, 'text/plain;charset=utf-8'],
    ];
    for (const [route, body, contentType] of attempts) {
      const reply = await callApi(runtime.config, 'POST', route, body, { contentType });
      expect({ route, contentType, status: reply.status, code: reply.body?.error?.code }).toEqual({
        route,
        contentType,
        status: 415,
        code: 'UNSUPPORTED_MEDIA_TYPE',
      });
      expect(reply.body.error.message).toMatch(/^content-type: must be application\/json/);
    }
    expect(await cueCount()).toBe(before);
  });

  it('takes application/json in any case with parameters, and a reveal with no body and no content type', async () => {
    const created = await callApi(runtime.config, 'POST', '/quizzes', VALID_QUIZ, {
      contentType: 'Application/JSON; charset=UTF-8',
    });
    expect(created.status).toBe(201);
    const revealed = await callApi(
      runtime.config,
      'POST',
      `/quizzes/${created.body.quizId}/reveal?force=true`,
    );
    expect(revealed.status).toBe(200);
  });
});

describe('when GET /state is called faster than the stage allows (rate 200/s, burst 400)', () => {
  const getState = async () => {
    const res = await fetch(`${runtime.config.httpApiUrl}state`);
    return { status: res.status, body: await res.text() };
  };

  it('answers the calls over the token bucket 429 {"message":"Too Many Requests"}, and serves again after a pause', async () => {
    // The subject under test: the stage's bucket refills at its rate; 2 s fills it from empty.
    await sleep(2_000);
    const started = Date.now();
    const replies = await Promise.all(Array.from({ length: 800 }, getState));
    const seconds = (Date.now() - started) / 1000;

    const throttled = replies.filter((r) => r.status === 429);
    const served = replies.filter((r) => r.status === 200);
    expect(served.length + throttled.length).toBe(800);
    for (const reply of throttled) expect(JSON.parse(reply.body)).toEqual({ message: 'Too Many Requests' });
    // The full bucket (the burst), plus what refilled at the rate while the calls arrived; the
    // rest is refused. How many that is depends on how fast this machine sent them, so the bound
    // is computed from the time they took (on a quiet machine about 350 are refused).
    const allowed = 400 + Math.ceil(200 * seconds) + 1;
    expect(served.length).toBeGreaterThanOrEqual(400);
    expect(served.length).toBeLessThanOrEqual(allowed);
    expect(throttled.length).toBeGreaterThanOrEqual(800 - allowed);

    // The subject under test: after a pause the bucket has refilled.
    await sleep(1_000);
    const again = await Promise.all(Array.from({ length: 100 }, getState));
    expect(again.map((r) => r.status)).toEqual(Array(100).fill(200));
  });
});
