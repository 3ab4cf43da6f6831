import { readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { gradedMessage, HTTP_STATUS_BY_CODE, resultMessage, streamMessage } from '../../client/wire';
import { encodeCustomCue, encodeQuestionCue, encodeResultCue } from '../../lambda/domain/cue';
import { RESERVED_CUE_TYPES } from '../../lambda/domain/event';
import { VIEWER_ACTIONS } from '../../lambda/domain/viewer';

/**
 * docs/protocol.md must name everything the code puts on the wire, so the contract cannot fall
 * behind the code. What counts as "named" (the doc's conventions, stated at its top):
 *
 * - an error code: `` `CODE` `` (in backticks), and a row `| `CODE` |` in the codes table of §7;
 * - a message or cue type: the JSON text `"type":"<name>"`, with no space after the colon, exactly
 *   as the doc's compact JSON examples write it;
 * - a field of a pushed message or a cue: `"<field>"`;
 * - a WebSocket action: `"action":"<name>"`; a special route key: `` `$connect` `` and so on;
 * - an HTTP route: `` `METHOD /path` ``.
 *
 * Where the names come from: the code itself. Error codes from `HTTP_STATUS_BY_CODE` plus any
 * code literal in lambda/ and client/wire.ts (`code: 'X'`, `super('X'`, `errorBody('X'`); message and cue types from
 * the real builders and encoders, plus every `type: '<name>'` literal there (the replies
 * built inline: answer, state, pong, error); actions from `VIEWER_ACTIONS` and the routes the
 * RealtimeApi construct wires; HTTP routes from the constructs in lib/.
 */

const ROOT = path.join(__dirname, '..', '..');
const DOC_PATH = path.join(ROOT, 'docs', 'protocol.md');
const doc = readFileSync(DOC_PATH, 'utf8');

/** Every TypeScript source file under `dir`, relative to the repository root. */
function sourcesUnder(dir: string): string[] {
  return (readdirSync(path.join(ROOT, dir), { recursive: true, encoding: 'utf8' }) as string[])
    .filter((file) => file.endsWith('.ts') && !file.endsWith('.d.ts'))
    .map((file) => path.join(dir, file))
    .sort();
}

const read = (file: string) => readFileSync(path.join(ROOT, file), 'utf8');

/** Every first capture group of `pattern` in the given files, with the files each was found in. */
function scan(files: readonly string[], pattern: RegExp): Map<string, string[]> {
  const found = new Map<string, string[]>();
  for (const file of files) {
    for (const match of read(file).matchAll(pattern)) {
      found.set(match[1], [...(found.get(match[1]) ?? []), file]);
    }
  }
  return found;
}

/** What puts things on the wire: the server, and the contract's shared types and builders. */
const SERVER_SOURCES = [...sourcesUnder('lambda'), path.join('client', 'wire.ts')];
const CONSTRUCT_SOURCES = sourcesUnder(path.join('lib', 'constructs'));

/** The text of the doc's section `## N. …`, up to the next `## ` heading. */
function section(title: RegExp): string {
  const headings = [...doc.matchAll(/^## \d+\. (.+)$/gm)];
  const index = headings.findIndex((h) => title.test(h[1]));
  if (index < 0) throw new Error(`docs/protocol.md has no numbered section matching ${title}`);
  const start = headings[index].index ?? 0;
  return doc.slice(start, headings[index + 1]?.index ?? doc.length);
}

/** The names in `names` that `isNamed` does not find in the doc, for a readable failure. */
const missing = (names: Iterable<string>, isNamed: (name: string) => boolean): string[] =>
  [...new Set(names)].filter((name) => !isNamed(name)).sort();

describe('docs/protocol.md', () => {
  it('is the contract in its own right: no pointer to an outside design document', () => {
    expect(doc).not.toMatch(/DESIGN\.md/);
    expect(doc).not.toMatch(/\.\.\/shared/);
  });

  it('numbers its sections 1, 2, 3… with the topics code comments cite by number', () => {
    const headings = [...doc.matchAll(/^## (\d+)\. (.+)$/gm)].map((h) => ({ n: Number(h[1]), title: h[2] }));
    expect(headings.map((h) => h.n)).toEqual(headings.map((_, i) => i + 1));
    const topics: Array<[number, RegExp]> = [
      [1, /overview/i],
      [2, /limits/i],
      [3, /HTTP API/],
      [4, /cues/i],
      [5, /WebSocket API/],
      [6, /local runtime/i],
      [7, /errors/i],
      [8, /versioning/i],
    ];
    for (const [n, topic] of topics) {
      expect({ n, title: headings.find((h) => h.n === n)?.title }).toEqual({
        n,
        title: expect.stringMatching(topic),
      });
    }
  });
});

describe('every error code in the code', () => {
  const fromMap = Object.keys(HTTP_STATUS_BY_CODE);
  const literals = [
    ...scan(SERVER_SOURCES, /\bcode:\s*'([A-Z][A-Z0-9_]*)'/g).keys(),
    ...scan(SERVER_SOURCES, /\bsuper\(\s*'([A-Z][A-Z0-9_]*)'/g).keys(),
    ...scan(SERVER_SOURCES, /\berrorBody\(\s*'([A-Z][A-Z0-9_]*)'/g).keys(),
  ];
  const codes = [...new Set([...fromMap, ...literals])];
  const codesTable = section(/errors/i);

  it('is found in the code (the scan works)', () => {
    expect(fromMap.length).toBeGreaterThan(5);
    // Each DomainError subclass passes its code to super(): the scan must see them.
    expect(literals).toEqual(expect.arrayContaining(['BAD_REQUEST', 'INTERNAL_ERROR']));
  });

  it('is named in the doc as `CODE`', () => {
    expect(missing(codes, (code) => doc.includes(`\`${code}\``))).toEqual([]);
  });

  it('has a row in the codes table of the Errors section', () => {
    expect(missing(codes, (code) => codesTable.includes(`| \`${code}\` |`))).toEqual([]);
  });

  it('and the codes table names no code the code does not have', () => {
    const documented = [...codesTable.matchAll(/^\| `([A-Z][A-Z0-9_]*)` \|/gm)].map((m) => m[1]);
    expect(documented.length).toBeGreaterThan(0);
    expect(missing(documented, (code) => codes.includes(code))).toEqual([]);
  });
});

describe('every message and cue type the server sends', () => {
  const pushes = [
    resultMessage({ quizId: 'q1', correctIndex: 1, counts: [1, 2], total: 3, kind: 'quiz' }),
    gradedMessage('q1', 1, true),
    streamMessage('live'),
  ];
  const cues = [
    encodeQuestionCue({
      quizId: 'q1',
      question: 'Largest?',
      choices: ['Mars', 'Jupiter'],
      closesAt: 'x',
      kind: 'quiz',
      durationSeconds: 20,
      graceSeconds: 8,
    }),
    encodeResultCue({ quizId: 'q1', correctIndex: 1, counts: [1, 2], total: 3, kind: 'quiz' }),
    encodeCustomCue({ type: 'drop', eventId: 'e1', data: { sku: 'TEE-42' } }),
  ].map((cue) => JSON.parse(cue.metadata) as Record<string, unknown>);
  const builtTypes = [...pushes.map((m) => m.type), ...cues.slice(0, 2).map((c) => String(c.type))];
  // Replies built inline in handlers and services (`type: 'answer'`, `'state'`, `'pong'`, `'error'`), and the builders' own.
  const scannedTypes = [...scan(SERVER_SOURCES, /\btype:\s*'([a-z][a-z0-9_-]*)'/g).keys()];

  it('is found in the code (the scan sees at least what the builders build)', () => {
    expect(scannedTypes).toEqual(expect.arrayContaining(builtTypes));
    expect(scannedTypes).toEqual(expect.arrayContaining(['answer', 'state', 'pong', 'error']));
  });

  it('is named in the doc as "type":"<name>"', () => {
    const types = [...builtTypes, ...scannedTypes, ...RESERVED_CUE_TYPES];
    expect(missing(types, (type) => doc.includes(`"type":"${type}"`))).toEqual([]);
  });

  it('has every field of the pushed messages and the cues named in the doc as "<field>"', () => {
    const fields = [...pushes, ...cues].flatMap((message) => Object.keys(message));
    expect(missing(fields, (field) => doc.includes(`"${field}"`))).toEqual([]);
  });

  it('carries the contract version the doc states', () => {
    for (const cue of cues) expect(cue.v).toBe(1);
    expect(doc).toContain('"v":1');
    expect(section(/versioning/i)).toMatch(/version 1/i);
  });
});

describe('every WebSocket action and route', () => {
  const realtime = read(path.join('lib', 'constructs', 'realtime-api.ts'));
  const routesBlock = /this\.routeFunctions = \{([^}]*)\}/.exec(realtime)?.[1] ?? '';
  const routeKeys = routesBlock
    .split(',')
    .map((entry) => entry.split(':')[0].trim())
    .filter((key) => key !== '');

  it('is found in the construct (the scan works)', () => {
    expect(routeKeys).toEqual(
      expect.arrayContaining(['$connect', '$disconnect', '$default', ...VIEWER_ACTIONS]),
    );
  });

  it('is named in the doc: an action as "action":"<name>", a special route as `$name`', () => {
    const actions = [...VIEWER_ACTIONS, ...routeKeys.filter((key) => !key.startsWith('$'))];
    expect(missing(actions, (action) => doc.includes(`"action":"${action}"`))).toEqual([]);
    const special = routeKeys.filter((key) => key.startsWith('$'));
    expect(missing(special, (key) => doc.includes(`\`${key}\``))).toEqual([]);
  });
});

describe('every HTTP route the constructs wire', () => {
  // `route('/quizzes', apigw.HttpMethod.POST, …)` in host-api.ts; `path: '/viewer-token', methods: [apigw.HttpMethod.POST]` in viewer-auth.ts.
  const patterns = [
    /\broute\(\s*'(?<path>[^']+)'\s*,\s*apigw\.HttpMethod\.(?<method>[A-Z]+)/g,
    /\bpath:\s*'(?<path>[^']+)'\s*,\s*methods:\s*\[\s*apigw\.HttpMethod\.(?<method>[A-Z]+)\s*\]/g,
  ];
  const routes = CONSTRUCT_SOURCES.flatMap((file) =>
    patterns.flatMap((pattern) =>
      [...read(file).matchAll(pattern)].map((m) => `${m.groups?.method} ${m.groups?.path}`),
    ),
  );

  it('is found in the constructs (the scan works)', () => {
    expect(routes).toEqual(expect.arrayContaining(['POST /quizzes', 'GET /state', 'POST /viewer-token']));
    expect(routes.length).toBeGreaterThanOrEqual(6);
  });

  it('is named in the doc as `METHOD /path`', () => {
    expect(missing(routes, (route) => doc.includes(`\`${route}\``))).toEqual([]);
  });
});
