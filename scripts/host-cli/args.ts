/**
 * The host CLI's command line: parsing argv into an `Invocation` (the command, its operands and
 * options, and which runtime to target). Throws `UsageError` for anything wrong; the help text is
 * in usage.ts.
 */
import { parseArgs } from 'node:util';
import type { CreateQuizRequest } from '../../client/host-client';
import { DEFAULT_STACK } from './usage';

const OPTIONS = {
  local: { type: 'boolean' },
  config: { type: 'string' },
  stack: { type: 'string' },
  region: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
  question: { type: 'string' },
  choice: { type: 'string', multiple: true },
  correct: { type: 'string' },
  duration: { type: 'string' },
  type: { type: 'string' },
  data: { type: 'string' },
  title: { type: 'string' },
  price: { type: 'string' },
  image: { type: 'string' },
  link: { type: 'string' },
  seconds: { type: 'string' },
  force: { type: 'boolean' },
  from: { type: 'string' },
  'live-results': { type: 'boolean' },
  viewers: { type: 'string' },
} as const;

const GLOBAL_OPTIONS = new Set(['local', 'config', 'stack', 'region', 'json', 'help']);
const VALUED_OPTIONS = new Set(
  Object.entries(OPTIONS)
    .filter(([, option]) => option.type === 'string')
    .map(([name]) => `--${name}`),
);

/** A command line the CLI cannot act on: exit 2 with the usage. */
export class UsageError extends Error {}

export type Action =
  | { readonly kind: 'quiz create' | 'poll create'; readonly request: CreateQuizRequest }
  | { readonly kind: 'quiz show'; readonly quizId: string }
  | { readonly kind: 'quiz reveal'; readonly quizId: string; readonly force: boolean }
  | { readonly kind: 'event send'; readonly type: string; readonly data: unknown }
  | { readonly kind: 'show check'; readonly file: string }
  | { readonly kind: 'show run'; readonly file: string; readonly from: number }
  | { readonly kind: 'state' }
  | { readonly kind: 'ops failures' | 'ops redrive' | 'ops alarms' }
  | { readonly kind: 'hosts add'; readonly email: string }
  | { readonly kind: 'preflight'; readonly viewers: number };

export interface Invocation {
  readonly action: Action;
  readonly json: boolean;
  readonly target:
    | { readonly mode: 'local'; readonly configFile?: string }
    | { readonly mode: 'deployed'; readonly stack: string; readonly region?: string };
}

export function wantsHelp(argv: string[]): boolean {
  const end = argv.indexOf('--');
  return (end === -1 ? argv : argv.slice(0, end)).some((arg) => arg === '--help' || arg === '-h');
}

/** Quiz ids are 16 base64url characters, so one in 64 starts with `-` and looks like an option. */
const DASHED_ID = /^-[A-Za-z0-9_-]{15}$/;

function parseCommandLine(argv: string[]) {
  // Hide a dash-led quiz id from parseArgs, unless it is the value of the option before it.
  const hidden = new Map<string, string>();
  const args = argv.map((arg, i) => {
    const previous = argv[i - 1] ?? '';
    if (!DASHED_ID.test(arg) || VALUED_OPTIONS.has(previous) || argv.slice(0, i).includes('--')) return arg;
    const placeholder = `\0id${hidden.size}`;
    hidden.set(placeholder, arg);
    return placeholder;
  });
  try {
    const { values, positionals } = parseArgs({
      args,
      options: OPTIONS,
      allowPositionals: true,
      strict: true,
    });
    return { values, positionals: positionals.map((p) => hidden.get(p) ?? p) };
  } catch (error) {
    throw new UsageError(describeParseError((error as Error).message, argv));
  }
}

function describeParseError(message: string, argv: string[]): string {
  const unknown = /^Unknown option '([^']+)'/.exec(message);
  if (unknown) return `unknown option ${unknown[1]}`;
  const missing = /^Option '(-\w, )?(--\w+)[^']*' argument missing/.exec(message);
  if (missing) return `${missing[2]} needs a value`;
  const ambiguous = /^Option '(--\w+)' argument is ambiguous/.exec(message);
  if (ambiguous) {
    // parseArgs refuses a value that starts with '-': either the value is missing, or it needs `=`.
    const next = argv[argv.indexOf(ambiguous[1]) + 1] ?? '';
    const isOption = /^--?([a-z]+)/.exec(next)?.[1];
    return isOption && (isOption in OPTIONS || isOption === 'h')
      ? `${ambiguous[1]} needs a value`
      : `${ambiguous[1]} needs a value (write ${ambiguous[1]}=VALUE for one that starts with '-')`;
  }
  return message.split('\n')[0];
}

export function parseInvocation(argv: string[]): Invocation {
  const { values, positionals } = parseCommandLine(argv);
  const [first, second, ...rest] = positionals;
  if (!first) throw new UsageError('no command');

  let command: Command;
  let operands: string[];
  if (first === 'state' || first === 'drop' || first === 'announce' || first === 'preflight') {
    command = first;
    operands = positionals.slice(1);
  } else if (first in SUBCOMMANDS) {
    const sub: readonly string[] = SUBCOMMANDS[first as keyof typeof SUBCOMMANDS];
    if (!second) throw new UsageError(`\`${first}\` needs a subcommand: ${sub.join(', ')}`);
    if (!sub.includes(second)) throw new UsageError(`unknown command \`${first} ${second}\``);
    command = `${first} ${second}` as Command;
    operands = rest;
  } else {
    throw new UsageError(`unknown command \`${first}\``);
  }

  const allowed = COMMAND_OPTIONS[command];
  for (const name of Object.keys(values)) {
    if (!GLOBAL_OPTIONS.has(name) && !allowed.includes(name))
      throw new UsageError(`--${name} is not an option of \`${command}\``);
  }
  const operandCount = OPERANDS[command] ?? 0;
  if (operands.length > operandCount)
    throw new UsageError(`unexpected argument \`${operands[operandCount]}\` after \`${command}\``);

  const action = actionFor(command, operands, values);
  if (values.local || values.config !== undefined) {
    if (values.stack !== undefined || values.region !== undefined)
      throw new UsageError(
        '--stack and --region are for a deployed stack; drop them with --local or --config',
      );
    return { action, json: values.json === true, target: { mode: 'local', configFile: values.config } };
  }
  return {
    action,
    json: values.json === true,
    target: { mode: 'deployed', stack: values.stack ?? DEFAULT_STACK, region: values.region },
  };
}

const SUBCOMMANDS = {
  quiz: ['create', 'show', 'reveal'],
  poll: ['create', 'show', 'reveal'],
  event: ['send'],
  show: ['check', 'run'],
  ops: ['failures', 'redrive', 'alarms'],
  hosts: ['add'],
} as const;

/** What the user typed; `poll show`, `drop` and `announce` map onto the API's own actions. */
type Command =
  | `${'quiz' | 'poll'} ${'create' | 'show' | 'reveal'}`
  | 'event send'
  | 'show check'
  | 'show run'
  | 'ops failures'
  | 'ops redrive'
  | 'ops alarms'
  | 'hosts add'
  | 'drop'
  | 'announce'
  | 'state'
  | 'preflight';

const COMMAND_OPTIONS: Record<Command, readonly string[]> = {
  'quiz create': ['question', 'choice', 'correct', 'duration'],
  'quiz show': [],
  'quiz reveal': ['force'],
  'poll create': ['question', 'choice', 'duration', 'live-results'],
  'poll show': [],
  'poll reveal': ['force'],
  'event send': ['type', 'data'],
  drop: ['title', 'price', 'image', 'link', 'seconds'],
  announce: ['seconds'],
  'show check': [],
  'show run': ['from'],
  'ops failures': [],
  'ops redrive': [],
  'ops alarms': [],
  'hosts add': [],
  state: [],
  preflight: ['viewers'],
};

/** Positional operands after the command: an id, or the announcement's text. */
const OPERANDS: Partial<Record<Command, number>> = {
  'quiz show': 1,
  'quiz reveal': 1,
  'poll show': 1,
  'poll reveal': 1,
  announce: 1,
  'show check': 1,
  'show run': 1,
  'hosts add': 1,
};

type Values = ReturnType<typeof parseCommandLine>['values'];

function actionFor(command: Command, operands: string[], values: Values): Action {
  switch (command) {
    case 'quiz create':
    case 'poll create':
      return { kind: command, request: quizRequest(command, values) };
    case 'quiz show':
    case 'quiz reveal':
    case 'poll show':
    case 'poll reveal': {
      const [noun, verb] = command.split(' ');
      if (!operands[0]) throw new UsageError(`\`${command}\` needs a ${noun.toUpperCase()}_ID`);
      return verb === 'reveal'
        ? { kind: 'quiz reveal', quizId: operands[0], force: values.force === true }
        : { kind: 'quiz show', quizId: operands[0] };
    }
    case 'event send':
      return eventAction(values);
    case 'drop':
      return { kind: 'event send', type: 'drop', data: dropData(values) };
    case 'announce':
      if (!operands[0]) throw new UsageError('`announce` needs the TEXT to show');
      return { kind: 'event send', type: 'announcement', data: { text: operands[0], ...seconds(values) } };
    case 'show check':
    case 'show run': {
      if (!operands[0]) throw new UsageError(`\`${command}\` needs the run-sheet FILE`);
      if (command === 'show check') return { kind: command, file: operands[0] };
      const from = values.from === undefined ? 1 : wholeNumber('--from', values.from);
      if (from < 1) throw new UsageError('--from counts items from 1');
      return { kind: command, file: operands[0], from };
    }
    case 'state':
      return { kind: 'state' };
    case 'preflight': {
      if (values.viewers === undefined)
        throw new UsageError('`preflight` needs --viewers N (the audience you expect)');
      const viewers = wholeNumber('--viewers', values.viewers);
      if (viewers < 1) throw new UsageError('--viewers must be at least 1');
      return { kind: command, viewers };
    }
    case 'ops failures':
    case 'ops redrive':
    case 'ops alarms':
      return { kind: command };
    case 'hosts add': {
      const email = operands[0];
      if (!email) throw new UsageError('`hosts add` needs the new host’s EMAIL address');
      // The shape only; Cognito decides the rest and says why it refuses.
      if (!/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(email) || email.length > 254)
        throw new UsageError(`\`hosts add\` needs an email address, got "${email}"`);
      return { kind: command, email };
    }
  }
}

function quizRequest(command: 'quiz create' | 'poll create', values: Values): CreateQuizRequest {
  if (values.question === undefined) throw new UsageError(`\`${command}\` needs --question TEXT`);
  if (!values.choice?.length) throw new UsageError(`\`${command}\` needs --choice, 2 to 4 times`);
  const { question, choice: choices } = values;
  let request: CreateQuizRequest;
  if (command === 'poll create') {
    request = { kind: 'poll', question, choices, ...(values['live-results'] ? { liveResults: true } : {}) };
  } else {
    if (values.correct === undefined)
      throw new UsageError('`quiz create` needs --correct N (the 0-based index of the right choice)');
    request = { question, choices, correctIndex: wholeNumber('--correct', values.correct) };
  }
  if (values.duration !== undefined) request.durationSeconds = wholeNumber('--duration', values.duration);
  return request;
}

/** The drop's fields as given; the API checks them (https URLs, lengths) and names a wrong one. */
function dropData(values: Values): Record<string, unknown> {
  for (const name of ['title', 'price', 'image', 'link'] as const) {
    if (values[name] === undefined) throw new UsageError(`\`drop\` needs --${name}`);
  }
  return {
    title: values.title,
    price: values.price,
    image: values.image,
    link: values.link,
    ...seconds(values),
  };
}

const seconds = (values: Values) =>
  values.seconds === undefined ? {} : { seconds: wholeNumber('--seconds', values.seconds) };

/** Ranges are the API's to judge (one source of truth); the CLI only checks the shape. */
function wholeNumber(option: string, text: string): number {
  if (!/^\d{1,9}$/.test(text.trim())) throw new UsageError(`${option} must be a whole number, not '${text}'`);
  return Number(text);
}

function eventAction(values: Values): Action {
  if (values.type === undefined) throw new UsageError('`event send` needs --type TYPE');
  if (values.data === undefined) throw new UsageError('`event send` needs --data JSON');
  let data: unknown;
  try {
    data = JSON.parse(values.data);
  } catch (error) {
    throw new UsageError(`--data is not valid JSON (${(error as Error).message})`);
  }
  return { kind: 'event send', type: values.type, data };
}
