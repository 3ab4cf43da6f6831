/**
 * The text of a run-sheet before it is parsed: where each line starts, and how deep it nests.
 * Both are single passes without recursion, so a sheet of any size or depth is read in linear
 * time and never overflows the stack (scripts/show/sheet.ts never throws).
 */
import { createScanner } from 'jsonc-parser';

/** jsonc-parser's `SyntaxKind` values: a const enum, which isolated modules cannot read. */
const OPEN_BRACE = 1;
const CLOSE_BRACE = 2;
const OPEN_BRACKET = 3;
const CLOSE_BRACKET = 4;
const END_OF_FILE = 17;

/** 1-based lines of character offsets: the line starts are found once, and each lookup is a binary search. */
export class LineIndex {
  private readonly starts: number[] = [0];
  /** Steps taken by every lookup so far: ⌈log2(lines)⌉ + 1 at most each, which a test holds. */
  probes = 0;

  constructor(text: string) {
    for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) this.starts.push(i + 1);
  }

  /** How many lines the text has. */
  get lineCount(): number {
    return this.starts.length;
  }

  /** The 1-based line holding `offset`. */
  lineAt(offset: number): number {
    // The last line start at or before offset: starts[low] <= offset < starts[high].
    let low = 0;
    let high = this.starts.length;
    while (high - low > 1) {
      this.probes++;
      const middle = (low + high) >>> 1;
      if (this.starts[middle] <= offset) low = middle;
      else high = middle;
    }
    this.probes++;
    return low + 1;
  }
}

/**
 * The offset of the first `[` or `{` that opens nesting deeper than `limit`, or undefined. The
 * JSONC scanner skips strings and comments, so a bracket inside them is not counted.
 */
export function firstTooDeep(text: string, limit: number): number | undefined {
  const scanner = createScanner(text, true);
  let depth = 0;
  for (let token = scanner.scan(); token !== END_OF_FILE; token = scanner.scan()) {
    if (token === OPEN_BRACE || token === OPEN_BRACKET) {
      if (++depth > limit) return scanner.getTokenOffset();
    } else if (token === CLOSE_BRACE || token === CLOSE_BRACKET) depth--;
  }
  return undefined;
}

/** U+FEFF at the start of a file is a UTF-8 byte-order mark that editors add, not content. */
const BYTE_ORDER_MARK = '\uFEFF';

/**
 * The text with a leading byte-order mark turned into a space: JSON white space of the same
 * length, so every offset, and so every line, stays the same.
 */
export const withoutByteOrderMark = (text: string): string =>
  text.startsWith(BYTE_ORDER_MARK) ? ` ${text.slice(1)}` : text;
