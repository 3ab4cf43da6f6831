import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { LocalRuntime } from '../../local/runtime';
import { bootTestRuntime, recentLog, setStream, Viewer, waitForIdle, waitUntil } from '../local/harness';
import { captureCli } from './capture-cli';

/**
 * `npm run host -- show check|run FILE` in-process against a real local runtime: a short show
 * runs item by item, a bad sheet sends nothing, and an interrupted show says how to resume.
 *
 * The runtime's answer grace is {@link GRACE} s instead of the template's 8 (a documented runtime
 * option: the grace is for AWS's video latency, which the local video does not have): the show
 * still waits it out after the poll's own 5 s, in 5 s fewer.
 */
const GRACE = 3;
let runtime: LocalRuntime;
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cuecast-show-'));
const configFile = path.join(tmp, 'local.json');
const viewers: Viewer[] = [];

const host = (...args: string[]) => captureCli([...args, '--config', configFile]);

const cues = () => runtime.ivs.metadata().map((cue) => JSON.parse(cue.metadata));

/** Writes a sheet of `items` to a file and returns its path. */
function sheet(name: string, items: unknown[]): string {
  const file = path.join(tmp, name);
  fs.writeFileSync(file, JSON.stringify({ title: name, items }, null, 2));
  return file;
}

const ANNOUNCE = { type: 'announcement', text: 'Welcome!', seconds: 3, pauseSeconds: 0 };
const POLL = {
  type: 'poll',
  question: 'Which round next?',
  choices: ['Music', 'Movies'],
  durationSeconds: 5,
  pauseSeconds: 0,
};
const DROP = {
  type: 'drop',
  title: 'Tee',
  price: '€25',
  image: 'https://shop.example/tee.png',
  link: 'https://shop.example/tee',
  seconds: 3,
};

beforeAll(async () => {
  // One container per function: a show runs one step at a time, and the fan-outs then start one
  // container for their four segments instead of four.
  runtime = await bootTestRuntime({ answerGraceSeconds: GRACE, containersPerFunction: 1 });
  // The voter connects on an idle runtime (see waitForIdle): the boot's stream push done.
  await waitForIdle(runtime, 'the boot’s stream fan-out to finish');
  fs.writeFileSync(configFile, JSON.stringify(runtime.config));
}, 120_000);

afterAll(async () => {
  await Promise.all(viewers.map((viewer) => viewer.close()));
  await runtime?.stop();
  fs.rmSync(tmp, { recursive: true, force: true });
});

describe('when the host checks a run-sheet', () => {
  it('lists the items of a good one and sends nothing', async () => {
    const before = cues().length;
    const run = await host('show', 'check', path.join(__dirname, '..', '..', 'examples', 'show.json'));
    expect(run).toMatchObject({ code: 0, stderr: '' });
    expect(run.stdout).toMatch(/^.*show\.json: "Friday quiz night", 5 items, all valid$/m);
    expect(run.stdout).toMatch(/^ {2}2\. quiz, then 5 s$/m);
    expect(cues().length).toBe(before);
  });

  it('refuses a bad one with each mistake at its line, and neither check nor run sends anything', async () => {
    const file = sheet('bad.json', [
      ANNOUNCE,
      { ...DROP, link: 'javascript:alert(1)' },
      { ...POLL, choices: ['only'] },
    ]);
    const before = cues().length;
    for (const command of ['check', 'run']) {
      const run = await host('show', command, file);
      expect(run.code).toBe(1);
      expect(run.stderr).toMatch(/^error: the run-sheet has 2 mistakes; nothing was sent$/m);
      expect(run.stderr).toMatch(/^.*bad\.json:\d+: items\[1\]\.link: must be an absolute https:\/\/ URL/m);
      expect(run.stderr).toMatch(/^.*bad\.json:\d+: items\[2\]\.choices: must have 2 to 4 entries$/m);
    }
    expect(cues().length).toBe(before);
  });
});

describe('when the host runs a short show', () => {
  it('sends each item in turn, waits out the poll with a countdown, reveals it and sums it up', async () => {
    const file = sheet('short.json', [ANNOUNCE, POLL, DROP]);
    const before = cues().length;
    const voter = await Viewer.connect(runtime.config.webSocketUrl);
    viewers.push(voter);
    const running = host('show', 'run', file);
    // Vote as soon as the poll's question is on air.
    const question: { quizId: string } = await waitUntil(
      "the poll's question on air",
      () =>
        cues()
          .slice(before)
          .find((cue) => cue.type === 'question'),
      {
        timeoutMs: 20_000,
        describe: () => `cues since: ${JSON.stringify(cues().slice(before))}\n${recentLog(runtime)}`,
      },
    );
    expect(
      await voter.request({ action: 'answer', quizId: question.quizId, choiceIndex: 1 }, ['answer']),
    ).toMatchObject({
      status: 'accepted',
    });
    const run = await running;

    expect(run.code).toBe(0);
    expect(
      cues()
        .slice(before)
        .map((cue) => cue.type),
    ).toEqual(['announcement', 'question', 'result', 'drop']);
    expect(run.stderr).toMatch(/^\[2\/3\] poll: Which round next\?$/m);
    // The poll's 5 s and the grace, less up to 2 s gone by (with the template's 8 s: 10 to 13 s).
    expect(run.stderr).toMatch(
      new RegExp(
        `^\\[2/3\\] answers open for [${5 + GRACE - 2}-${5 + GRACE}] s \\(viewers behind in the video included\\)$`,
        'm',
      ),
    );
    expect(run.stdout).toMatch(/^1\. announcement "Welcome!": sent announcement \S+, on screen for 3 s$/m);
    expect(run.stdout).toMatch(
      new RegExp(
        `^2\\. poll "Which round next\\?": revealed ${question.quizId}: 1 vote \\(Music 0, Movies 1\\)$`,
        'm',
      ),
    );
    expect(run.stdout).toMatch(/^3\. drop "Tee": sent drop \S+, on screen for 3 s$/m);
  }, 60_000);

  it('resumes at an item with --from, sending nothing before it', async () => {
    const file = sheet('resume.json', [ANNOUNCE, POLL, DROP]);
    const before = cues().length;
    const run = await host('show', 'run', file, '--from', '3');
    expect(run.code).toBe(0);
    expect(
      cues()
        .slice(before)
        .map((cue) => cue.type),
    ).toEqual(['drop']);
    expect((await host('show', 'run', file, '--from', '4')).stderr).toMatch(
      /--from 4: the run-sheet has 3 items/,
    );
  });

  it('stops at the item the API refuses for good, and says how to resume', async () => {
    const file = sheet('offline.json', [ANNOUNCE, DROP]);
    await setStream(runtime.config, 'offline');
    try {
      const run = await host('show', 'run', file);
      expect(run.code).toBe(1);
      expect(run.stderr).toMatch(/^error: CHANNEL_NOT_BROADCASTING: /m);
      expect(run.stderr).toMatch(new RegExp(`^resume with: npm run host -- show run ${file} --from 1$`, 'm'));
    } finally {
      await setStream(runtime.config, 'live');
    }
  });
});
