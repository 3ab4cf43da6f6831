/**
 * A resource policy (an SNS topic's, a queue's) evaluated for one request, the way AWS evaluates
 * a same-account request that only the resource policy can allow: an explicit Deny wins, then an
 * Allow that matches, else an implicit deny. It covers what the stack's policies use and refuses
 * the rest (NotPrincipal, an unknown condition operator) rather than guess.
 *
 * Matching, as IAM documents it: an action is `service:Name` with `*` and `?` wildcards, case-
 * insensitive; a resource is an ARN with wildcards, case-sensitive; a condition block holds when
 * every operator holds, an operator when every key holds, and a key when any of its values
 * matches the request's (a key the request lacks fails, unless the operator ends in IfExists).
 */

export interface PolicyRequest {
  /** `{ service: 'cloudwatch.amazonaws.com' }`, or an IAM principal's ARN or account. */
  readonly principal: { readonly service: string } | { readonly aws: string };
  readonly action: string;
  readonly resource: string;
  /** Condition keys (`aws:SourceAccount`, `aws:SourceArn`, `aws:SecureTransport`, …) and values. */
  readonly context: Readonly<Record<string, string | readonly string[]>>;
}

export type PolicyDecision = 'Allowed' | 'ExplicitlyDenied' | 'ImplicitlyDenied';

interface Statement {
  Sid?: string;
  Effect: 'Allow' | 'Deny';
  Principal?: unknown;
  NotPrincipal?: unknown;
  Action?: string | string[];
  NotAction?: string | string[];
  Resource?: string | string[];
  NotResource?: string | string[];
  Condition?: Record<string, Record<string, unknown>>;
}

const list = (value: unknown): string[] =>
  value === undefined ? [] : (Array.isArray(value) ? value : [value]).map(String);

/** An IAM wildcard pattern (`*` any run, `?` one character) as a regular expression. */
function wildcard(pattern: string, caseInsensitive: boolean): RegExp {
  const body = pattern
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${body}$`, caseInsensitive ? 'is' : 's');
}

function principalMatches(principal: unknown, request: PolicyRequest['principal']): boolean {
  if (principal === '*') return true;
  const p = (principal ?? {}) as { Service?: unknown; AWS?: unknown };
  if ('service' in request) return list(p.Service).includes(request.service);
  return list(p.AWS).some(
    (aws) => aws === '*' || aws === request.aws || request.aws.startsWith(`arn:aws:iam::${aws}:`),
  );
}

const STRING_OPS: Record<string, (actual: string, wanted: string) => boolean> = {
  StringEquals: (a, w) => a === w,
  StringNotEquals: (a, w) => a !== w,
  StringEqualsIgnoreCase: (a, w) => a.toLowerCase() === w.toLowerCase(),
  StringLike: (a, w) => wildcard(w, false).test(a),
  StringNotLike: (a, w) => !wildcard(w, false).test(a),
  ArnEquals: (a, w) => wildcard(w, false).test(a),
  ArnLike: (a, w) => wildcard(w, false).test(a),
  ArnNotEquals: (a, w) => !wildcard(w, false).test(a),
  ArnNotLike: (a, w) => !wildcard(w, false).test(a),
  Bool: (a, w) => a.toLowerCase() === w.toLowerCase(),
};
/** Negated operators hold for a key only when none of its values match (IAM's rule for "Not"). */
const NEGATED = new Set(['StringNotEquals', 'StringNotLike', 'ArnNotEquals', 'ArnNotLike']);

function conditionHolds(condition: Statement['Condition'], context: PolicyRequest['context']): boolean {
  for (const [rawOperator, keys] of Object.entries(condition ?? {})) {
    const ifExists = rawOperator.endsWith('IfExists');
    const operator = ifExists ? rawOperator.slice(0, -'IfExists'.length) : rawOperator;
    const test = STRING_OPS[operator];
    if (!test) throw new Error(`the condition operator ${rawOperator} is not supported locally`);
    for (const [key, wanted] of Object.entries(keys)) {
      const found = Object.entries(context).find(([name]) => name.toLowerCase() === key.toLowerCase())?.[1];
      if (found === undefined) {
        if (ifExists) continue;
        return false;
      }
      const actual = list(found);
      const values = list(wanted);
      const holds = NEGATED.has(operator)
        ? actual.every((a) => values.every((w) => test(a, w)))
        : actual.some((a) => values.some((w) => test(a, w)));
      if (!holds) return false;
    }
  }
  return true;
}

function statementApplies(statement: Statement, request: PolicyRequest): boolean {
  if (statement.NotPrincipal !== undefined) throw new Error('NotPrincipal is not supported locally');
  if (!principalMatches(statement.Principal, request.principal)) return false;
  const actionIn = (patterns: string[]) => patterns.some((p) => wildcard(p, true).test(request.action));
  if (
    statement.Action !== undefined ? !actionIn(list(statement.Action)) : actionIn(list(statement.NotAction))
  )
    return false;
  const resourceIn = (patterns: string[]) => patterns.some((p) => wildcard(p, false).test(request.resource));
  if (
    statement.Resource !== undefined
      ? !resourceIn(list(statement.Resource))
      : resourceIn(list(statement.NotResource))
  )
    return false;
  return conditionHolds(statement.Condition, request.context);
}

/** The decision on `request` under `policy` (its statements resolved to plain values). */
export function evaluateResourcePolicy(
  policy: { Statement?: unknown } | undefined,
  request: PolicyRequest,
): PolicyDecision {
  const raw = policy?.Statement;
  const statements = (Array.isArray(raw) ? raw : raw ? [raw] : []) as Statement[];
  const applying = statements.filter((s) => statementApplies(s, request));
  if (applying.some((s) => s.Effect === 'Deny')) return 'ExplicitlyDenied';
  if (applying.some((s) => s.Effect === 'Allow')) return 'Allowed';
  return 'ImplicitlyDenied';
}
