import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { readSheet, type SheetError } from '../../scripts/show/sheet';

/** Run-sheets (scripts/show/sheet.ts): every mistake with its line and field, or the items to run. */
const errorsOf = (text: string): SheetError[] => {
  const sheet = readSheet(text);
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
