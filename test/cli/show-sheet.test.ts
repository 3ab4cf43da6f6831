import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { readSheet, type SheetError } from '../../scripts/show/sheet';
import { LineIndex } from '../../scripts/show/sheet-text';

/** Run-sheets (scripts/show/sheet.ts): every mistake with its line and field, or the items to run. */
const errorsOf = (text: string, lines?: LineIndex): SheetError[] => {
  const sheet = readSheet(text, lines);
  if (sheet.ok) throw new Error('expected the sheet to be refused');
  return [...sheet.errors];
};

const QUIZ = '{"type":"quiz","question":"Q?","choices":["a","b"],"correctIndex":0}';

describe('when the example run-sheet is read', () => {
  it('holds five valid items, with the API defaults and the pauses filled in', () => {
    const sheet = readSheet(readFileSync(path.join(__dirname, '..', '..', 'examples', 'show.json'), 'utf8'));
    if (!sheet.ok) throw new Error(JSON.stringify(sheet.errors));
    expect(sheet.title).toBe('Friday quiz night');
    expect(sheet.items.map((item) => item.type)).toEqual([
      'announcement',
      'quiz',
      'poll',
      'drop',
      'announcement',
    ]);
    expect(sheet.items[1]).toMatchObject({
      request: { kind: 'quiz', correctIndex: 1, durationSeconds: 20 },
      pauseSeconds: 5,
    });
    // A drop waits its time on screen; a poll's result stays 5 s by default.
    expect(sheet.items[3].pauseSeconds).toBe(15);
    expect(sheet.items[2].pauseSeconds).toBe(5);
  });
});

describe('when a run-sheet has mistakes', () => {
  it('names the line of a JSON syntax error', () => {
    expect(errorsOf('{\n  "items": [\n    {"type": "quiz",}\n  ]\n}')).toEqual([
      { line: 3, field: 'file', message: expect.stringMatching(/^not valid JSON: /) },
    ]);
  });

  it('lists every mistake of every item with its line and field, not only the first', () => {
    const text = [
      '{',
      '  "items": [',
      `    ${QUIZ},`,
      '    {"type": "quizz", "question": "Q?"},',
      '    {"type": "drop", "title": "Tee", "price": "€5",',
      '     "image": "https://s.example/t.png",',
      '     "link": "http://s.example/t"},',
      '    {"type": "poll", "question": "Q?", "choices": ["a", "b"], "correctIndex": 1},',
      '    {"type": "announcement", "text": "Hi", "pauseSeconds": -1}',
      '  ]',
      '}',
    ].join('\n');
    expect(errorsOf(text)).toEqual([
      { line: 4, field: 'items[1].type', message: 'must be one of quiz, poll, drop, announcement' },
      {
        line: 7,
        field: 'items[2].link',
        message: 'must be an absolute https:// URL (no user name or password)',
      },
      {
        line: 8,
        field: 'items[3].correctIndex',
        message: 'must not be set for a poll: a poll has no correct answer',
      },
      { line: 9, field: 'items[4].pauseSeconds', message: 'must be 0 to 600' },
    ]);
  });

  it('reports a missing field at the line of its item', () => {
    const errors = errorsOf('{"items": [\n  {"type": "quiz", "choices": ["a", "b"], "correctIndex": 0}\n]}');
    expect(errors).toEqual([{ line: 2, field: 'items[0].question', message: 'is required' }]);
  });

  it('refuses an item whose cue would not fit 1 KB, however each field reads', () => {
    const long = (n: number) => `https://s.example/${'p'.repeat(n)}`;
    const drop = { type: 'drop', title: 'é'.repeat(80), price: '1', image: long(480), link: long(480) };
    expect(errorsOf(JSON.stringify({ items: [drop] }))).toEqual([
      { line: 1, field: 'items[0]', message: 'makes a cue over 1024 bytes' },
    ]);
  });

  it('refuses an empty list, an unknown top-level field, and a file that is not an object', () => {
    expect(errorsOf('{"items": []}')).toEqual([
      { line: 1, field: 'items', message: 'must list at least one item' },
    ]);
    expect(errorsOf(`{"items": [${QUIZ}], "tittle": "x"}`)[0]).toMatchObject({
      field: 'file',
      message: 'unknown field "tittle"',
    });
    expect(errorsOf('[1, 2]')[0]).toMatchObject({ line: 1, field: 'file' });
    expect(errorsOf('')[0]).toMatchObject({ line: 1, field: 'file' });
  });
});

describe('when a run-sheet is hostile or unusual', () => {
  it('reports nesting thousands deep as a mistake at its line, instead of overflowing the stack', () => {
    const text = `{\n"items": [\n${'['.repeat(20_000)}${']'.repeat(20_000)}\n]}`;
    expect(errorsOf(text)).toEqual([
      { line: 3, field: 'file', message: 'nests deeper than 32 levels of arrays and objects' },
    ]);
  });

  it('does not count brackets inside strings or comments as nesting', () => {
    const brackets = '['.repeat(100);
    const text = `// ${brackets}\n{"title": "${brackets}", "items": [${QUIZ}]}`;
    expect(readSheet(text)).toMatchObject({ ok: true, title: brackets });
  });

  it('accepts a file that starts with a UTF-8 byte-order mark, and keeps its lines', () => {
    expect(readSheet(`\uFEFF{"items": [${QUIZ}]}`)).toMatchObject({ ok: true });
    expect(errorsOf(`\uFEFF{"items": [\n${QUIZ},\n{"type": "poll"}]}`)[0]).toMatchObject({
      line: 3,
      field: 'items[1].question',
    });
  });

  it('sends a drop with the canonical form of its URLs', () => {
    const drop = {
      type: 'drop',
      title: 'Tee',
      price: '€5',
      image: 'HTTPS://S.example/t.png',
      link: 'https://s.example',
    };
    const sheet = readSheet(JSON.stringify({ items: [drop] }));
    if (!sheet.ok) throw new Error(JSON.stringify(sheet.errors));
    expect(sheet.items[0]).toMatchObject({
      data: { image: 'https://s.example/t.png', link: 'https://s.example/' },
    });
  });

  it('finds the line of each of thousands of mistakes in a 2 MB sheet with a binary search, not a scan', () => {
    const bad = '  {"type": "quiz", "question": " ", "choices": ["a", "b"], "correctIndex": 0},\n';
    const count = Math.ceil(2_000_000 / bad.length);
    const text = `{"items": [\n${bad.repeat(count)}  ${QUIZ}\n]}`;
    const lines = new LineIndex(text);
    const errors = errorsOf(text, lines);
    expect(errors).toHaveLength(count);
    expect(errors[count - 1]).toMatchObject({ line: count + 1, field: `items[${count - 1}].question` });
    // Every line comes from the one index, built once above; each lookup takes at least one step and
    // at most ⌈log2(lines)⌉ + 1: about 16 here, where a scan from the top takes up to 25,000.
    expect(lines.probes).toBeGreaterThanOrEqual(count);
    expect(lines.probes).toBeLessThanOrEqual(count * (Math.ceil(Math.log2(lines.lineCount)) + 1));
  });
});

describe('when lines are looked up', () => {
  it('gives the 1-based line of every offset, as counting newlines before it does', () => {
    const text = 'a\n\nbc\r\nd\n';
    const lines = new LineIndex(text);
    for (let offset = 0; offset <= text.length; offset++) {
      expect(lines.lineAt(offset)).toBe(text.slice(0, offset).split('\n').length);
    }
  });
});
