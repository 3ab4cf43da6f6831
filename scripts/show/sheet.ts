/**
 * A run-sheet (`npm run host -- show check|run FILE`): a JSON file (comments allowed) of show
 * items, checked with the API's own rules before anything is sent, so a bad file fails with the
 * line and the field of every mistake, and a good one runs without a 400 halfway through.
 */
import {
  findNodeAtLocation,
  getNodeValue,
  type Node,
  type ParseError,
  parseTree,
  printParseErrorCode,
} from 'jsonc-parser';
import * as z from 'zod/mini';
import { MAX_CUE_BYTES } from '../../client/wire';
import { encodeCustomCue, encodeQuestionCue } from '../../lambda/domain/cue';
import { PayloadTooLargeError } from '../../lambda/domain/errors';
import { CreateQuizSchema, MAX_GRACE_SECONDS } from '../../lambda/domain/quiz';
import { formatPath, MAX_JSON_DEPTH, type Problem, problemsWith } from '../../lambda/domain/validation';
import { WELL_KNOWN_DATA } from '../../lambda/domain/well-known-cues';
import { firstTooDeep, LineIndex, withoutByteOrderMark } from './sheet-text';

export const ITEM_TYPES = ['quiz', 'poll', 'drop', 'announcement'] as const;
export type ItemType = (typeof ITEM_TYPES)[number];

/** The longest pause a sheet may ask for after an item. */
export const MAX_PAUSE_SECONDS = 600;
/** After a reveal, the result stays on screen this long before the next item, unless the item says. */
export const DEFAULT_RESULT_PAUSE_SECONDS = 5;

/** One step of the show, as the API will be asked for it. */
export type SheetItem =
  | {
      readonly type: 'quiz' | 'poll';
      readonly request: {
        question: string;
        choices: string[];
        kind: 'quiz' | 'poll';
        correctIndex?: number;
        durationSeconds: number;
      };
      readonly pauseSeconds: number;
    }
  | {
      readonly type: 'drop' | 'announcement';
      readonly data: Record<string, unknown>;
      readonly pauseSeconds: number;
    };

export interface SheetError {
  /** 1-based line of the file where the mistake is. */
  readonly line: number;
  /** e.g. `items[2].choices[1]`. */
  readonly field: string;
  readonly message: string;
}

export type SheetResult =
  | { readonly ok: true; readonly title?: string; readonly items: readonly SheetItem[] }
  | { readonly ok: false; readonly errors: readonly SheetError[] };

const pauseSchema = z.optional(
  z
    .int({ error: 'must be a whole number of seconds' })
    .check(
      z.gte(0, { error: `must be 0 to ${MAX_PAUSE_SECONDS}` }),
      z.lte(MAX_PAUSE_SECONDS, { error: `must be 0 to ${MAX_PAUSE_SECONDS}` }),
    ),
);

/** The longest grace a stack may have: a question cue checked with it fits whatever the stack's is. */
const WORST_CASE_QUESTION = { quizId: 'x'.repeat(16), closesAt: new Date(0).toISOString() };

/**
 * Reads and checks a run-sheet's text. Never throws: every problem is an error with its line.
 * `lines` indexes the same text; a test passes its own to count the work of the line lookups.
 */
export function readSheet(file: string, lines = new LineIndex(file)): SheetResult {
  const lineAt = (offset: number) => lines.lineAt(offset);
  const text = withoutByteOrderMark(file);
  // The parser recurses: a sheet nested thousands deep would overflow the stack, so it is refused first.
  const tooDeep = firstTooDeep(text, MAX_JSON_DEPTH);
  if (tooDeep !== undefined) {
    const message = `nests deeper than ${MAX_JSON_DEPTH} levels of arrays and objects`;
    return { ok: false, errors: [{ line: lineAt(tooDeep), field: 'file', message }] };
  }
  const parseErrors: ParseError[] = [];
  const tree = parseTree(text, parseErrors, { allowTrailingComma: false, disallowComments: false });
  if (parseErrors.length > 0 || !tree) {
    // The first syntax error only: the ones after it follow from it.
    const first = parseErrors[0];
    const message = first
      ? `not valid JSON: ${printParseErrorCode(first.error)
          .replace(/([a-z])([A-Z])/g, '$1 $2')
          .toLowerCase()}`
      : 'is empty';
    return { ok: false, errors: [{ line: lineAt(first?.offset ?? 0), field: 'file', message }] };
  }
  const sheet: unknown = getNodeValue(tree);
  const errors: SheetError[] = [];
  const report = (path: readonly PropertyKey[], message: string) => {
    const node = nearestNode(tree, path);
    errors.push({ line: lineAt(node.offset), field: formatPath(path, 'file'), message });
  };

  const shape = problemsWith(
    z.strictObject({
      title: z.optional(z.string({ error: 'must be a string' })),
      items: z.array(z.unknown()),
    }),
    sheet,
  );
  for (const problem of shape) report(problem.path, problem.message);
  const rawItems = (sheet as { items?: unknown }).items;
  if (!Array.isArray(rawItems)) return { ok: false, errors: errors.length > 0 ? errors : [] };
  if (rawItems.length === 0) report(['items'], 'must list at least one item');

  const items: SheetItem[] = [];
  rawItems.forEach((raw, index) => {
    const at = (problems: readonly Problem[]) => {
      for (const p of problems) report(['items', index, ...p.path], p.message);
    };
    const item = checkItem(raw, at);
    if (item) items.push(item);
  });
  if (errors.length > 0) return { ok: false, errors };
  return { ok: true, title: (sheet as { title?: string }).title, items };
}

/** One item: its type, its pause, and the rest checked by the API's own schema for that type. */
function checkItem(raw: unknown, at: (problems: readonly Problem[]) => void): SheetItem | undefined {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    at([{ path: [], message: 'must be a JSON object' }]);
    return undefined;
  }
  const { type, pauseSeconds, ...rest } = raw as Record<string, unknown>;
  if (!ITEM_TYPES.includes(type as ItemType)) {
    at([{ path: ['type'], message: `must be one of ${ITEM_TYPES.join(', ')}` }]);
    return undefined;
  }
  const pauseProblems = problemsWith(pauseSchema, pauseSeconds).map((p) => ({
    ...p,
    path: ['pauseSeconds'],
  }));
  at(pauseProblems);
  const pause = typeof pauseSeconds === 'number' ? pauseSeconds : undefined;

  if (type === 'quiz' || type === 'poll') {
    const body = { ...rest, kind: type };
    const problems = problemsWith(CreateQuizSchema, body);
    at(problems);
    if (problems.length > 0 || pauseProblems.length > 0) return undefined;
    const request = CreateQuizSchema.parse(body) as Extract<SheetItem, { type: 'quiz' | 'poll' }>['request'];
    if (
      !fits(() => encodeQuestionCue({ ...request, ...WORST_CASE_QUESTION, graceSeconds: MAX_GRACE_SECONDS }))
    ) {
      at([{ path: ['question'], message: `with its choices, makes a cue over ${MAX_CUE_BYTES} bytes` }]);
      return undefined;
    }
    return { type, request, pauseSeconds: pause ?? DEFAULT_RESULT_PAUSE_SECONDS };
  }
  const problems = problemsWith(WELL_KNOWN_DATA[type as 'drop' | 'announcement'], rest);
  at(problems);
  if (problems.length > 0 || pauseProblems.length > 0) return undefined;
  const data = WELL_KNOWN_DATA[type as 'drop' | 'announcement'].parse(rest);
  if (!fits(() => encodeCustomCue({ type: type as string, eventId: 'x'.repeat(16), data }))) {
    at([{ path: [], message: `makes a cue over ${MAX_CUE_BYTES} bytes` }]);
    return undefined;
  }
  // A drop or an announcement stays on screen for its seconds: the next item waits for it by default.
  return { type: type as 'drop' | 'announcement', data, pauseSeconds: pause ?? Number(data.seconds) };
}

/** Whether the API's own encoder takes the cue, or refuses it as over 1 KB. */
function fits(encode: () => unknown): boolean {
  try {
    encode();
    return true;
  } catch (error) {
    if (error instanceof PayloadTooLargeError) return false;
    throw error;
  }
}

/** The node at `path`, or the nearest one above it (a missing field is reported at its object). */
function nearestNode(tree: Node, path: readonly PropertyKey[]): Node {
  for (let length = path.length; length >= 0; length--) {
    const node = findNodeAtLocation(tree, path.slice(0, length) as Array<string | number>);
    if (node) return node.parent?.type === 'property' ? node.parent : node;
  }
  return tree;
}
