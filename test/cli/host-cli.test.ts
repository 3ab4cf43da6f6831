import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { decideAdmission, type RateWindow } from '../../lambda/domain/rate-window';
import { ENV } from '../../lambda/env-names';
import { RATE_WINDOW_MS } from '../../lambda/services/metadata-publisher';
import type { LocalRuntime } from '../../local/runtime';
import {
  bootTestRuntime,
  recentLog,
  setStream as setStreamOf,
  Viewer,
  waitForIdle,
  waitUntil,
} from '../local/harness';
import { type CliRun, captureCli } from './capture-cli';

/**
 * The host CLI, run in-process against a real local runtime (the synthesized stack on loopback).
 * The channel takes 5 cues per rolling second, so tests that send cues first wait for room.
 *
 * The runtime's answer grace is {@link GRACE} s instead of the template's 8 (a documented runtime
 * option: the grace is for AWS's video latency, which the local video does not have), so the
 * reveal that waits it out takes seconds fewer and still waits past the quiz's own end.
 */
const GRACE = 3;
/**
 * Containers per function (a documented runtime option; the default is 8): enough for the sends
 * of the RATE_LIMITED test to run side by side, without starting eight of each.
 */
const CONTAINERS = 3;
let runtime: LocalRuntime;
let dynamo: DynamoDBClient;
let configFile: string;
let badKeyConfigFile: string;
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cuecast-cli-'));
const viewers: Viewer[] = [];

const cli = captureCli;

/** The CLI against the test's runtime, through `--config`. */
const host = (...args: string[]) => cli([...args, '--config', configFile]);
const hostJson = async (...args: string[]) => {
  const run = await host(...args, '--json');
  expect(run).toMatchObject({ code: 0, stderr: '' });
  return JSON.parse(run.stdout);
};

const PLANETS = ['--question', 'Largest planet?', '--choice', 'Mars', '--choice', 'Jupiter'];
const createQuiz = async (...extra: string[]): Promise<string> =>
  (await hostJson('quiz', 'create', ...PLANETS, '--choice', 'Venus', '--correct', '1', ...extra)).quizId;

const ivs = (route: string, init?: RequestInit) => fetch(`${runtime.config.ivsEndpoint}${route}`, init);
const setStream = async (state: 'live' | 'offline') => {
  const res = await setStreamOf(runtime.config, state);
  expect(res.ok).toBe(true);
};
const cues = async () =>
  (await (await ivs('/_local/metadata')).json()) as Array<{ metadata: string; receivedAt: string }>;

/** The rate guard's window (1 s plus its safety margin), and a little more for the clocks. */
const WINDOW_WAIT_MS = RATE_WINDOW_MS + 100;

/** The guard's own record of the channel's recent cues (in the control table), as it reads it. */
async function rateWindow(): Promise<RateWindow & { limit: number }> {
  // The template's rate, or the functions' default: IVS's 5 PutMetadata calls a second.
  const withRate = runtime.host.all().find((fn) => ENV.METADATA_RATE_PER_SECOND in fn.env);
  const limit = Number(withRate?.env[ENV.METADATA_RATE_PER_SECOND] ?? 5);
  const table = runtime.dynamoDb.tableNames().find((name) => name.includes('Control'));
  const { Item } = await dynamo.send(
    new GetItemCommand({
      TableName: table,
      Key: { pk: { S: `rate#${runtime.config.channelArn}` } },
      ConsistentRead: true,
    }),
  );
  return {
    limit,
    seq: Number(Item?.seq?.N ?? 0),
    slots: Array.from({ length: limit }, (_, i) => Number(Item?.[`s${i}`]?.N ?? Number.NEGATIVE_INFINITY)),
  };
}

/**
 * Waits until the guard's rolling window has room for `count` more cues. It reads the guard's
 * record, not the cue log: a call the guard admitted and IVS then refused (the stream offline)
 * holds a slot that the log does not show. Between reads it only watches the clock: the record
 * says when the slots it needs come free, and it is read again then.
 */
async function roomFor(count: number): Promise<void> {
  let seen: RateWindow | undefined;
  let due = 0;
  await waitUntil(
    `room for ${count} cue(s) in the channel's rate window`,
    async () => {
      if (Date.now() < due) return false;
      const window = await rateWindow();
      seen = window;
      const now = Date.now();
      // Admission i takes the slot of the i-th oldest of the last `limit` cues, once it is old enough.
      due = 0;
      for (let i = 0; i < count; i++)
        due = Math.max(due, window.slots[(window.seq + i) % window.limit] + WINDOW_WAIT_MS);
      let next: RateWindow = window;
      for (let i = 0; i < count; i++) {
        const decision = decideAdmission(next, now, window.limit, WINDOW_WAIT_MS);
        if (!decision.admit) return false;
        next = {
          seq: decision.nextSeq,
          slots: next.slots.map((at, slot) => (slot === decision.slot ? now : at)),
        };
      }
      return true;
    },
    {
      timeoutMs: 10_000,
      describe: () => `the window at ${Date.now()}: ${JSON.stringify(seen)}\n${recentLog(runtime)}`,
    },
  );
}

/** Viewers answer over the WebSocket API, so counts are real. */
async function answer(quizId: string, choices: number[]): Promise<void> {
  for (const choiceIndex of choices) {
    const viewer = await Viewer.connect(runtime.config.webSocketUrl);
    viewers.push(viewer);
    const reply = await viewer.request({ action: 'answer', quizId, choiceIndex }, ['answer', 'error']);
    expect(reply).toMatchObject({ type: 'answer', status: 'accepted', choiceIndex });
  }
}

beforeAll(async () => {
  runtime = await bootTestRuntime({
    webDir: null,
    answerGraceSeconds: GRACE,
    containersPerFunction: CONTAINERS,
  });
  // Viewers connect on an idle runtime (see waitForIdle): the boot's stream push done.
  await waitForIdle(runtime, 'the boot’s stream fan-out to finish');
  const { dynamoDbEndpoint: endpoint, region, credentials } = runtime.config;
  dynamo = new DynamoDBClient({ endpoint, region, credentials });
  configFile = path.join(tmp, 'local.json');
  fs.writeFileSync(configFile, JSON.stringify(runtime.config));
  badKeyConfigFile = path.join(tmp, 'bad-key.json');
  fs.writeFileSync(
    badKeyConfigFile,
    JSON.stringify({
      ...runtime.config,
      credentials: { ...runtime.config.credentials, secretAccessKey: 'not-the-secret' },
    }),
  );
}, 120_000);

afterEach(async () => {
  await Promise.all(viewers.splice(0).map((v) => v.close()));
  // A fan-out a test left running would delete the next test's viewers as they connect (see
  // waitForIdle).
  await waitForIdle(runtime, 'the test’s fan-outs to finish');
});

afterAll(async () => {
  dynamo?.destroy();
  await runtime?.stop();
  fs.rmSync(tmp, { recursive: true, force: true });
});

describe('when the command line is wrong', () => {
  // `--config` points nowhere: a command line that parsed would fail with 1, not 2.
  const nowhere = ['--config', '/nonexistent/cuecast.json'];
  it.each([
    ['no command', [], /^error: no command$/m],
    ['an unknown command', ['launch'], /^error: unknown command `launch`$/m],
    ['an unknown subcommand', ['quiz', 'delete', 'abc'], /^error: unknown command `quiz delete`$/m],
    [
      'quiz create without --question',
      ['quiz', 'create', '--choice', 'A', '--choice', 'B', '--correct', '1'],
      /^error: `quiz create` needs --question TEXT$/m,
    ],
    [
      'a --correct that is not a number',
      ['quiz', 'create', ...PLANETS, '--correct', 'x'],
      /^error: --correct must be a whole number, not 'x'$/m,
    ],
    [
      'a --duration that is not a whole number',
      ['quiz', 'create', ...PLANETS, '--correct', '1', '--duration', '2.5'],
      /^error: --duration must be a whole number, not '2.5'$/m,
    ],
    [
      '--data that is not JSON',
      ['event', 'send', '--type', 'drop', '--data', '{sku: 1}'],
      /^error: --data is not valid JSON \(.+\)$/m,
    ],
    ['quiz reveal without an id', ['quiz', 'reveal'], /^error: `quiz reveal` needs a QUIZ_ID$/m],
    ['two ids', ['quiz', 'show', 'abc', 'def'], /^error: unexpected argument `def` after `quiz show`$/m],
    ['an unknown option', ['state', '--verbose'], /^error: unknown option --verbose$/m],
    [
      'an option of another command',
      ['state', '--question', 'Q'],
      /^error: --question is not an option of `state`$/m,
    ],
    ['an option without its value', ['event', 'send', '--type'], /^error: --type needs a value$/m],
    [
      'a poll with a correct answer',
      ['poll', 'create', ...PLANETS, '--correct', '1'],
      /^error: --correct is not an option of `poll create`$/m,
    ],
    ['poll reveal without an id', ['poll', 'reveal'], /^error: `poll reveal` needs a POLL_ID$/m],
    [
      'a drop without its link',
      ['drop', '--title', 'Tee', '--price', '€25', '--image', 'https://x.example/a.jpg'],
      /^error: `drop` needs --link$/m,
    ],
    ['an announcement without its text', ['announce'], /^error: `announce` needs the TEXT to show$/m],
    [
      'an announcement with --seconds that is not a number',
      ['announce', 'Hello', '--seconds', 'soon'],
      /^error: --seconds must be a whole number, not 'soon'$/m,
    ],
  ])('exits 2 on %s, with the reason and the usage', async (_name, args, reason) => {
    const run = await cli([...args, ...nowhere]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(reason);
    expect(run.stderr).toMatch(/^usage: npm run host -- quiz create --question TEXT/m);
    expect(run.stdout).toBe('');
  });

  it('exits 2 when no region is given for a deployed stack', async () => {
    const run = await cli(['state'], {});
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/^error: no AWS region: pass --region REGION or set AWS_REGION/m);
  });

  it('exits 2 when --stack is mixed with --local', async () => {
    const run = await cli(['state', '--local', '--stack', 'Show']);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/^error: --stack and --region are for a deployed stack/m);
  });

  it('prints the help on stdout and exits 0 with --help, whatever else is there', async () => {
    const run = await cli(['quiz', 'create', '--help', '--nonsense']);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^ {2}quiz reveal QUIZ_ID \[--force\]\n +fix the counts/m);
    expect(run.stdout).toMatch(/^ {2}--json +print the API's JSON reply/m);
    expect(run.stderr).toBe('');
  });
});

describe('when the local runtime cannot be found', () => {
  it('names the missing --config file and how to start the runtime', async () => {
    const file = path.join(tmp, 'missing.json');
    const run = await cli(['state', '--config', file]);
    expect(run.code).toBe(1);
    expect(run.stderr).toBe(`error: no local runtime config at ${file}: start it with \`npm run dev\`\n`);
  });

  it('reads .cuecast/local.json from the working directory with --local', async () => {
    const cwd = process.cwd();
    const dir = fs.mkdtempSync(path.join(tmp, 'cwd-'));
    process.chdir(dir);
    try {
      const missing = await cli(['state', '--local']);
      expect(missing.stderr).toBe(
        `error: no local runtime config at ${path.join(dir, '.cuecast', 'local.json')}: start it with \`npm run dev\`\n`,
      );
      fs.mkdirSync(path.join(dir, '.cuecast'));
      fs.copyFileSync(configFile, path.join(dir, '.cuecast', 'local.json'));
      const found = await cli(['state', '--local', '--json']);
      expect(found.code).toBe(0);
      expect(JSON.parse(found.stdout).stream).toBe('live');
    } finally {
      process.chdir(cwd);
    }
  });

  it('says in one line that a stale config points at a runtime that is gone', async () => {
    const closed = http.createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const { port } = closed.address() as AddressInfo;
    await new Promise((resolve) => closed.close(resolve));
    const stale = path.join(tmp, 'stale.json');
    fs.writeFileSync(stale, JSON.stringify({ ...runtime.config, httpApiUrl: `http://127.0.0.1:${port}/` }));
    const run = await cli(['state', '--config', stale]);
    expect(run.code).toBe(1);
    expect(run.stderr).toBe(
      `error: cannot reach http://127.0.0.1:${port}/state: connect ECONNREFUSED 127.0.0.1:${port} (is \`npm run dev\` still running?)\n`,
    );
  });
});

describe('when the host runs a quiz on the local runtime', () => {
  it('creates a quiz, prints its id and times, and the quiz exists', async () => {
    await roomFor(1);
    const run = await host('quiz', 'create', ...PLANETS, '--correct', '1', '--duration', '30');
    expect(run.code).toBe(0);
    expect(run.stderr).toBe('');
    const quizId = /^quizId: +(\S+)$/m.exec(run.stdout)?.[1] ?? '';
    expect(quizId).toMatch(/^[A-Za-z0-9_-]{16}$/);
    expect(run.stdout).toMatch(/^opensAt: +\d{4}-\d\d-\d\dT[\d:.]+Z$/m);
    expect(run.stdout).toMatch(/^closesAt: +\d{4}-\d\d-\d\dT[\d:.]+Z \(in (29|30) s\)$/m);

    const shown = await hostJson('quiz', 'show', quizId);
    expect(shown).toMatchObject({
      quizId,
      question: 'Largest planet?',
      choices: ['Mars', 'Jupiter'],
      correctIndex: 1,
      state: 'open',
      counts: [0, 0],
      total: 0,
    });
  });

  it('prints the API reply as one JSON object with --json', async () => {
    await roomFor(1);
    const run = await host('quiz', 'create', ...PLANETS, '--correct', '0', '--duration', '45', '--json');
    expect(run.code).toBe(0);
    expect(run.stdout.trimEnd().split('\n')).toHaveLength(1);
    const created = JSON.parse(run.stdout);
    expect(Object.keys(created).sort()).toEqual([
      'answersCloseAt',
      'closesAt',
      'graceSeconds',
      'opensAt',
      'quizId',
    ]);
    expect(Date.parse(created.closesAt) - Date.parse(created.opensAt)).toBe(45_000);
    expect((await hostJson('quiz', 'show', created.quizId)).correctIndex).toBe(0);
  });

  it('shows a quiz with its question, state, live counts and correct choice', async () => {
    await roomFor(1);
    const quizId = await createQuiz();
    await answer(quizId, [0, 1, 1, 1]);
    const run = await host('quiz', 'show', quizId);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^question: +Largest planet\?$/m);
    expect(run.stdout).toMatch(/^state: +open$/m);
    expect(run.stdout).toMatch(/^ {2}0 {2}Mars {5}█{6}·{18} {2}1 {3}25%$/m);
    expect(run.stdout).toMatch(/^ {2}1 {2}Jupiter {2}█{18}·{6} {2}3 {3}75% {2}✓ correct$/m);
    expect(run.stdout).toMatch(/^ {2}2 {2}Venus {4}·{24} {2}0 {4}0%$/m);
    expect(run.stdout).toMatch(/^total: +4 answers$/m);
    expect(run.stdout).toMatch(/^correct: +1 \(Jupiter\)$/m);
  });

  it('reveals the counts with bars, the total and the correct choice, once', async () => {
    await roomFor(2);
    const quizId = await createQuiz();
    await answer(quizId, [0, 1, 1]);
    const run = await host('quiz', 'reveal', quizId, '--force');
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(new RegExp(`^revealed quiz ${quizId}$`, 'm'));
    expect(run.stdout).toMatch(/^ {2}0 {2}Mars {5}█{8}·{16} {2}1 {3}33%$/m);
    expect(run.stdout).toMatch(/^ {2}1 {2}Jupiter {2}█{16}·{8} {2}2 {3}67% {2}✓ correct$/m);
    expect(run.stdout).toMatch(/^total: +3 answers$/m);
    expect(run.stdout).toMatch(/^correct: +1 \(Jupiter\)$/m);

    const sent = (await cues()).length;
    expect(await hostJson('quiz', 'reveal', quizId, '--force')).toEqual({
      quizId,
      correctIndex: 1,
      counts: [1, 2, 0],
      total: 3,
      kind: 'quiz',
    });
    expect((await cues()).length).toBe(sent);
    expect((await hostJson('quiz', 'show', quizId)).state).toBe('revealed');
  });

  it('sends a custom event as a cue', async () => {
    await roomFor(1);
    const run = await host('event', 'send', '--type', 'confetti', '--data', '{"colour":"gold"}');
    expect(run.code).toBe(0);
    const eventId = /^eventId: +(\S+)$/m.exec(run.stdout)?.[1];
    const bytes = Number(/^bytes: +(\d+) of 1024$/m.exec(run.stdout)?.[1]);
    const last = (await cues()).at(-1);
    expect(JSON.parse(last?.metadata ?? '{}')).toEqual({
      v: 1,
      type: 'confetti',
      eventId,
      data: { colour: 'gold' },
    });
    expect(bytes).toBe(Buffer.byteLength(last?.metadata ?? ''));
  });

  it('waits with a countdown while viewers behind in the video may answer, then reveals', async () => {
    await roomFor(2);
    const quizId = await createQuiz('--duration', '5');
    const started = Date.now();
    const run = await host('quiz', 'reveal', quizId);
    expect(run.code).toBe(0);
    // 5 s of quiz and the runtime's GRACE s of grace, counted from the quiz's opening: well past
    // the quiz's own 5 s (with the template's 8 s grace: 13 s, at least 11 s from here).
    expect(Date.now() - started).toBeGreaterThanOrEqual((5 + GRACE - 2) * 1000);
    expect(run.stderr).toMatch(
      new RegExp(
        `^revealing in [${5 + GRACE - 1}${5 + GRACE}] s: viewers behind in the video can still answer \\(Ctrl-C stops, --force reveals now\\)$`,
        'm',
      ),
    );
    expect(run.stderr).toMatch(/^revealing in 5 s: /m);
    expect(run.stdout).toMatch(new RegExp(`^revealed quiz ${quizId}$`, 'm'));
  }, 40_000);

  it('opens a poll, and its reveal shows votes with no correct choice', async () => {
    await roomFor(2);
    const pollId = (await hostJson('poll', 'create', ...PLANETS)).quizId;
    await answer(pollId, [1, 1, 0]);
    const run = await host('poll', 'reveal', pollId, '--force');
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(new RegExp(`^revealed poll ${pollId}$`, 'm'));
    expect(run.stdout).toMatch(/^ {2}1 {2}Jupiter {2}█{16}·{8} {2}2 {3}67%$/m);
    expect(run.stdout).toMatch(/^total: +3 votes$/m);
    expect(run.stdout).not.toMatch(/correct/);
    expect(await hostJson('poll', 'reveal', pollId, '--force')).toEqual({
      quizId: pollId,
      counts: [1, 2],
      total: 3,
      kind: 'poll',
    });
    const question = (await cues())
      .map((cue) => JSON.parse(cue.metadata))
      .find((cue) => cue.quizId === pollId);
    expect(question).toMatchObject({ type: 'question', kind: 'poll' });
  });

  it('shows a product drop and an announcement on every screen', async () => {
    await roomFor(2);
    const drop = await host(
      'drop',
      '--title',
      'Tour tee',
      '--price',
      '€25',
      '--image',
      'https://shop.example/tee.jpg',
      '--link',
      'https://shop.example/tee',
    );
    expect(drop.code).toBe(0);
    expect(JSON.parse((await cues()).at(-1)?.metadata ?? '{}')).toMatchObject({
      type: 'drop',
      data: {
        title: 'Tour tee',
        price: '€25',
        image: 'https://shop.example/tee.jpg',
        link: 'https://shop.example/tee',
        seconds: 20,
      },
    });
    expect((await host('announce', 'Round two soon!', '--seconds', '5')).code).toBe(0);
    expect(JSON.parse((await cues()).at(-1)?.metadata ?? '{}')).toMatchObject({
      type: 'announcement',
      data: { text: 'Round two soon!', seconds: 5 },
    });
  });

  it('refuses a drop whose link is not https, naming the field, and sends nothing', async () => {
    const before = (await cues()).length;
    const run = await host(
      'drop',
      '--title',
      'Tee',
      '--price',
      '€25',
      '--image',
      'https://shop.example/tee.jpg',
      '--link',
      'javascript:alert(1)',
    );
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/^error: BAD_REQUEST: data\.link: must be an absolute https:\/\/ URL/m);
    expect((await cues()).length).toBe(before);
  });

  it('prints the stream state and the current quiz', async () => {
    await roomFor(1);
    const quizId = await createQuiz('--duration', '60');
    const run = await host('state');
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^stream: +live$/m);
    expect(run.stdout).toMatch(new RegExp(`^quiz: +${quizId} \\(open\\)$`, 'm'));
    expect(run.stdout).toMatch(/^question: +Largest planet\?$/m);
    expect(run.stdout).toMatch(/^ {2}2 {2}Venus$/m);
    expect(run.stdout).not.toMatch(/correct/);
    expect(await hostJson('state')).toMatchObject({ stream: 'live', quiz: { quizId, state: 'open' } });
  });
});

describe('when the API refuses', () => {
  it('prints BAD_REQUEST with the field the server names', async () => {
    const run = await host('quiz', 'create', ...PLANETS, '--correct', '5');
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/^error: BAD_REQUEST: correctIndex: .*\n$/);
    expect(run.stdout).toBe('');
  });

  it('prints NOT_FOUND, and with --json the error object on stdout too', async () => {
    const run = await host('quiz', 'reveal', 'NoSuchQuiz000000');
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/^error: NOT_FOUND: .+\n$/);
    expect(run.stdout).toBe('');

    const json = await host('quiz', 'reveal', 'NoSuchQuiz000000', '--json');
    expect(json.code).toBe(1);
    expect(JSON.parse(json.stdout)).toEqual({ error: { code: 'NOT_FOUND', message: expect.any(String) } });
    expect(json.stderr).toMatch(/^error: NOT_FOUND: /);
  });

  it('passes a quiz id that starts with a dash to the API, not to the option parser', async () => {
    const run = await host('quiz', 'show', '-NoSuchQuiz00000');
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/^error: NOT_FOUND: /);
  });

  it('prints PAYLOAD_TOO_LARGE for a cue over 1 KB', async () => {
    const run = await host(
      'event',
      'send',
      '--type',
      'confetti',
      '--data',
      JSON.stringify({ text: 'x'.repeat(1100) }),
    );
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/^error: PAYLOAD_TOO_LARGE: .*1024.*\n$/);
  });

  it('prints FORBIDDEN when the secret key is wrong', async () => {
    const run = await cli(['quiz', 'show', 'AnyQuiz000000000', '--config', badKeyConfigFile]);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/^error: FORBIDDEN: .+\n$/);
  });

  it('prints CHANNEL_NOT_BROADCASTING while the stream is offline, and opens nothing', async () => {
    await roomFor(1);
    const before = await hostJson('state');
    await setStream('offline');
    try {
      const run = await host('quiz', 'create', ...PLANETS, '--correct', '1');
      expect(run.code).toBe(1);
      expect(run.stderr).toMatch(/^error: CHANNEL_NOT_BROADCASTING: .+\n$/);
      expect((await hostJson('state')).quiz?.quizId).toBe(before.quiz?.quizId);
    } finally {
      // The refused call took a slot of the rate guard: the next test's roomFor waits it out.
      await setStream('live');
    }
  });

  it('prints RATE_LIMITED with the time to wait once the 5 cues of a second are spent', async () => {
    // Eight sends at once, through warm containers, so all of them reach the guard within its
    // second however slow the machine (one after another, each would have to take under 230 ms).
    // A first burst starts the containers: events too large to send, which take no slot.
    const send = (data: string) => host('event', 'send', '--type', 'tick', '--data', data);
    const warm = await Promise.all(
      Array.from({ length: CONTAINERS }, () => send(JSON.stringify({ pad: 'x'.repeat(1100) }))),
    );
    expect(warm.map((run) => run.stderr)).toEqual(
      Array(CONTAINERS).fill(expect.stringMatching(/^error: PAYLOAD_TOO_LARGE: /)),
    );
    // An empty window: all 5 cues of the second are to be spent here.
    await roomFor(5);
    const runs: CliRun[] = await Promise.all(Array.from({ length: 8 }, (_, i) => send(`{"i":${i}}`)));
    // The window is spent now: the next test that sends a cue waits for room (roomFor).
    const admitted = runs.filter((r) => r.code === 0);
    expect(admitted.length).toBeGreaterThanOrEqual(5);
    for (const run of admitted) expect(run.stdout).toMatch(/^eventId: +\S+$/m);
    const limited = runs.find((r) => r.code !== 0) as CliRun;
    expect(limited.code).toBe(1);
    expect(limited.stderr).toMatch(/^error: RATE_LIMITED: .+$/m);
    expect(Number(/^retry after (\d+) s$/m.exec(limited.stderr)?.[1])).toBeGreaterThanOrEqual(1);
  });
});

describe('when the host uses a deployed stack', () => {
  // A stand-in for CloudFormation's DescribeStacks (query protocol, XML), reached through the
  // SDK's own AWS_ENDPOINT_URL_CLOUDFORMATION setting.
  const requests: Array<{ body: string; authorization: string }> = [];
  let cloudFormation: http.Server;
  const saved: Record<string, string | undefined> = {};
  const setEnv = (name: string, value: string) => {
    saved[name] = process.env[name];
    process.env[name] = value;
  };

  beforeAll(async () => {
    cloudFormation = http.createServer((req, res) => {
      let body = '';
      req.on('data', (chunk) => (body += chunk));
      req.on('end', () => {
        requests.push({ body, authorization: String(req.headers.authorization) });
        const stack = new URLSearchParams(body).get('StackName');
        res.setHeader('content-type', 'text/xml');
        if (stack !== 'Show') {
          res.statusCode = 400;
          res.end(
            `<ErrorResponse xmlns="http://cloudformation.amazonaws.com/doc/2010-05-15/"><Error><Type>Sender</Type><Code>ValidationError</Code><Message>Stack with id ${stack} does not exist</Message></Error><RequestId>r2</RequestId></ErrorResponse>`,
          );
          return;
        }
        res.end(
          `<DescribeStacksResponse xmlns="http://cloudformation.amazonaws.com/doc/2010-05-15/"><DescribeStacksResult><Stacks><member><StackName>Show</StackName><StackId>arn:aws:cloudformation:us-east-1:000000000000:stack/Show/1</StackId><CreationTime>2026-01-01T00:00:00Z</CreationTime><StackStatus>CREATE_COMPLETE</StackStatus><Outputs><member><OutputKey>HttpApiUrl</OutputKey><OutputValue>${runtime.config.httpApiUrl}</OutputValue></member></Outputs></member></Stacks></DescribeStacksResult><ResponseMetadata><RequestId>r1</RequestId></ResponseMetadata></DescribeStacksResponse>`,
        );
      });
    });
    await new Promise<void>((resolve) => cloudFormation.listen(0, '127.0.0.1', resolve));
    setEnv(
      'AWS_ENDPOINT_URL_CLOUDFORMATION',
      `http://127.0.0.1:${(cloudFormation.address() as AddressInfo).port}`,
    );
    // The default credential chain reads these first: the runtime's keys, so its gateway accepts them.
    setEnv('AWS_ACCESS_KEY_ID', runtime.config.credentials.accessKeyId);
    setEnv('AWS_SECRET_ACCESS_KEY', runtime.config.credentials.secretAccessKey);
  });

  afterAll(async () => {
    for (const [name, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
    await new Promise((resolve) => cloudFormation.close(resolve));
  });

  it("finds the API in the stack's outputs and signs with the default credential chain", async () => {
    await roomFor(1);
    const run = await cli(['quiz', 'create', ...PLANETS, '--correct', '1', '--stack', 'Show', '--json'], {
      AWS_REGION: runtime.config.region,
    });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const { quizId } = JSON.parse(run.stdout);
    expect((await hostJson('quiz', 'show', quizId)).question).toBe('Largest planet?');
    expect(requests.at(-1)?.body).toMatch(/Action=DescribeStacks.*StackName=Show/);
    expect(requests.at(-1)?.authorization).toContain(`Credential=${runtime.config.credentials.accessKeyId}/`);
  });

  it('takes --region over AWS_REGION and names a missing stack in one line', async () => {
    const run = await cli(['state', '--stack', 'Nope', '--region', 'eu-west-3'], { AWS_REGION: 'us-east-1' });
    expect(run.code).toBe(1);
    expect(run.stderr).toBe(
      'error: cannot read the outputs of stack Nope in eu-west-3: ValidationError: Stack with id Nope does not exist\n',
    );
    expect(requests.at(-1)?.authorization).toMatch(/\/eu-west-3\/cloudformation\/aws4_request/);
  });
});
