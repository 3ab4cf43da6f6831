/**
 * The subset of CloudWatch metric math the stack's alarms use, evaluated as CloudWatch does over
 * time series: numbers, the ids of metrics and other expressions, `+ - * /`, comparisons
 * (`> < >= <= == !=`, 1 or 0), `AND`/`OR` (`&&`, `||`), parentheses, `IF(condition, a[, b])` and
 * `FILL(series, number)`. A binary operation of two series has a point only where both have one;
 * of a series and a number, at every point of the series. Anything else (another function, a
 * list, `FILL(m, REPEAT)`) is refused with the position and what was expected, as `PutMetricAlarm`
 * refuses an expression it cannot parse.
 */

/** Values by period start (epoch ms); a period without a point has no entry. */
export type Series = ReadonlyMap<number, number>;
export type Value = number | Series;

export class MetricMathError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MetricMathError';
  }
}

type Node =
  | { kind: 'number'; value: number }
  | { kind: 'id'; name: string }
  | { kind: 'unary'; op: '-'; operand: Node }
  | { kind: 'binary'; op: string; left: Node; right: Node }
  | { kind: 'call'; name: 'IF' | 'FILL'; args: Node[] };

/** The longest an expression may be (PutMetricAlarm's limit on `Expression`). */
export const MAX_EXPRESSION_LENGTH = 1024;

const TOKEN =
  /\s*(?:(\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)|([A-Za-z_][A-Za-z0-9_]*)|(>=|<=|==|!=|&&|\|\||[-+*/()<>,[\]]))/y;

function tokenize(expression: string): string[] {
  if (expression.length > MAX_EXPRESSION_LENGTH)
    throw new MetricMathError(
      `the expression is ${expression.length} characters; the limit is ${MAX_EXPRESSION_LENGTH}`,
    );
  const tokens: string[] = [];
  TOKEN.lastIndex = 0;
  while (TOKEN.lastIndex < expression.length) {
    const at = TOKEN.lastIndex;
    const match = TOKEN.exec(expression);
    if (!match) {
      const rest = expression.slice(at);
      if (/^\s*$/.test(rest)) break;
      const where = at + rest.length - rest.trimStart().length;
      throw new MetricMathError(`unexpected "${expression[where]}" at ${where + 1}`);
    }
    tokens.push(match[1] ?? match[2] ?? match[3]);
  }
  return tokens;
}

/** Operators by precedence, loosest first. */
const LEVELS: readonly (readonly string[])[] = [
  ['OR', '||'],
  ['AND', '&&'],
  ['==', '!=', '>', '<', '>=', '<='],
  ['+', '-'],
  ['*', '/'],
];

/** Parses `expression` into a tree; throws MetricMathError with what was wrong and where. */
export function parseMetricMath(expression: string): Node {
  const tokens = tokenize(expression);
  let i = 0;
  const peek = () => tokens[i];
  const expect = (token: string) => {
    if (tokens[i] !== token)
      throw new MetricMathError(`expected "${token}" but found ${tokens[i] ?? 'the end'}`);
    i++;
  };
  const level = (n: number): Node => {
    if (n === LEVELS.length) return unary();
    let left = level(n + 1);
    while (peek() !== undefined && LEVELS[n].includes(peek().toUpperCase())) {
      const op = tokens[i++].toUpperCase();
      left = { kind: 'binary', op: op === 'OR' ? '||' : op === 'AND' ? '&&' : op, left, right: level(n + 1) };
    }
    return left;
  };
  const unary = (): Node => {
    if (peek() === '-') {
      i++;
      return { kind: 'unary', op: '-', operand: unary() };
    }
    return primary();
  };
  const primary = (): Node => {
    const token = tokens[i++];
    if (token === undefined) throw new MetricMathError('the expression ends too soon');
    if (token === '(') {
      const inner = level(0);
      expect(')');
      return inner;
    }
    if (token === '[') throw new MetricMathError('a list ([…]) is not supported here: use IF or FILL');
    if (/^\d/.test(token)) return { kind: 'number', value: Number(token) };
    if (/^[A-Za-z_]/.test(token)) {
      if (peek() !== '(') return { kind: 'id', name: token };
      const name = token.toUpperCase();
      if (name !== 'IF' && name !== 'FILL')
        throw new MetricMathError(`the function ${token} is not supported here`);
      i++;
      const args: Node[] = [];
      if (peek() !== ')') {
        args.push(level(0));
        while (peek() === ',') {
          i++;
          args.push(level(0));
        }
      }
      expect(')');
      if (name === 'IF' && (args.length < 2 || args.length > 3))
        throw new MetricMathError(`IF takes 2 or 3 arguments, not ${args.length}`);
      if (name === 'FILL' && (args.length !== 2 || args[1].kind !== 'number'))
        throw new MetricMathError(
          'FILL takes a series and a number here (REPEAT and LINEAR are not supported)',
        );
      return { kind: 'call', name, args };
    }
    throw new MetricMathError(`unexpected "${token}"`);
  };
  const tree = level(0);
  if (i < tokens.length) throw new MetricMathError(`unexpected "${tokens[i]}" after the expression`);
  return tree;
}

/** The ids an expression reads, so the caller can fetch exactly those series. */
export function idsOf(node: Node): string[] {
  switch (node.kind) {
    case 'id':
      return [node.name];
    case 'unary':
      return idsOf(node.operand);
    case 'binary':
      return [...idsOf(node.left), ...idsOf(node.right)];
    case 'call':
      return node.args.flatMap(idsOf);
    default:
      return [];
  }
}

const OPS: Record<string, (a: number, b: number) => number | undefined> = {
  '+': (a, b) => a + b,
  '-': (a, b) => a - b,
  '*': (a, b) => a * b,
  // CloudWatch drops a point divided by zero rather than make it infinite.
  '/': (a, b) => (b === 0 ? undefined : a / b),
  '>': (a, b) => Number(a > b),
  '<': (a, b) => Number(a < b),
  '>=': (a, b) => Number(a >= b),
  '<=': (a, b) => Number(a <= b),
  '==': (a, b) => Number(a === b),
  '!=': (a, b) => Number(a !== b),
  '&&': (a, b) => Number(a !== 0 && b !== 0),
  '||': (a, b) => Number(a !== 0 || b !== 0),
};

function combine(a: Value, b: Value, op: (x: number, y: number) => number | undefined): Value {
  if (typeof a === 'number' && typeof b === 'number') return op(a, b) ?? Number.NaN;
  const out = new Map<number, number>();
  const times = typeof a === 'number' ? [...(b as Series).keys()] : [...a.keys()];
  for (const t of times) {
    const x = typeof a === 'number' ? a : a.get(t);
    const y = typeof b === 'number' ? b : b.get(t);
    if (x === undefined || y === undefined) continue;
    const v = op(x, y);
    if (v !== undefined && !Number.isNaN(v)) out.set(t, v);
  }
  return out;
}

/**
 * Evaluates a parsed expression. `series` holds each id's values; `periods` are the starts of
 * the periods being evaluated (FILL gives each of them a point).
 */
export function evaluateMetricMath(
  node: Node,
  series: ReadonlyMap<string, Value>,
  periods: readonly number[],
): Value {
  const at = (value: Value, t: number) => (typeof value === 'number' ? value : value.get(t));
  switch (node.kind) {
    case 'number':
      return node.value;
    case 'id': {
      const value = series.get(node.name);
      if (value === undefined)
        throw new MetricMathError(`the expression reads "${node.name}", which is not defined`);
      return value;
    }
    case 'unary':
      return combine(0, evaluateMetricMath(node.operand, series, periods), OPS['-']);
    case 'binary':
      return combine(
        evaluateMetricMath(node.left, series, periods),
        evaluateMetricMath(node.right, series, periods),
        OPS[node.op],
      );
    case 'call': {
      const args = node.args.map((arg) => evaluateMetricMath(arg, series, periods));
      if (node.name === 'FILL') {
        const [filled, value] = args as [Value, number];
        if (typeof filled === 'number') return filled;
        return new Map(periods.map((t) => [t, filled.get(t) ?? value]));
      }
      const [condition, yes, no] = args;
      if (args.every((a) => typeof a === 'number'))
        return (condition as number) !== 0 ? (yes as number) : ((no as number | undefined) ?? Number.NaN);
      const out = new Map<number, number>();
      const times = typeof condition === 'number' ? periods : [...condition.keys()];
      for (const t of times) {
        const c = at(condition, t);
        if (c === undefined) continue;
        const chosen = c !== 0 ? at(yes, t) : no === undefined ? undefined : at(no, t);
        if (chosen !== undefined) out.set(t, chosen);
      }
      return out;
    }
  }
}
