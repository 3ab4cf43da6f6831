/**
 * The host CLI (`npm run host`): opens, shows and reveals quizzes, sends custom cues and reads
 * the show state through the SigV4-signed host API (docs/protocol.md §3), against the local runtime or
 * a deployed stack. Everything is in `runCli` so tests drive it in-process; scripts/host.ts is
 * the bin.
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { defaultProvider } from '@aws-sdk/credential-provider-node';
import {
  type CreateQuizRequest,
  HostApiError,
  HostClient,
  type HostClientOptions,
  type QuizDetails,
  type RevealedQuiz,
} from '../client/host-client';
import { NodeSha256 } from '../client/sha256-node';
import type { ShowState } from '../client/wire';

/** Where the CLI writes: one call per block of text, each ending with a newline. */
export interface CliIo {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
}

const EXIT_OK = 0;
const EXIT_FAILED = 1;
const EXIT_USAGE = 2;
const DEFAULT_STACK = 'Cuecast';
const LOCAL_CONFIG = path.join('.cuecast', 'local.json');
/** API Gateway gives up on an integration after 30 s; wait a little longer than that. */
const REQUEST_TIMEOUT_MS = 35_000;
const BAR_WIDTH = 24;

const USAGE = `usage: npm run host -- COMMAND [options]

commands:
  quiz create --question TEXT --choice A --choice B [--choice C] [--choice D] --correct N [--duration S]
                        open a quiz and send its question cue (N: 0-based index of the right
                        choice; S: 5 to 300 seconds, default 20)
  quiz show QUIZ_ID     the quiz, its state and its live counts
  quiz reveal QUIZ_ID   fix the counts, send the result cue and grade every viewer
  event send --type TYPE --data JSON
                        send a custom cue (JSON: an object)
  state                 the stream state and the current quiz

options:
  --local               use the local runtime, from .cuecast/local.json (start it with \`npm run dev\`)
  --config FILE         use the local runtime described by FILE (implies --local)
  --stack NAME          the deployed stack whose HttpApiUrl output to use (default ${DEFAULT_STACK})
  --region REGION       its region (default: AWS_REGION, then AWS_DEFAULT_REGION)
  --json                print the API's JSON reply (or {"error":{"code","message"}}) on stdout
  -h, --help            show this help

Against a deployed stack, requests are signed with the default AWS credential chain.
Exit status: 0 done, 1 the API or the environment refused, 2 wrong command line.
`;

const SHORT_USAGE = `usage: npm run host -- quiz create --question TEXT --choice A --choice B [...] --correct N [--duration S]
       npm run host -- quiz show|reveal QUIZ_ID
       npm run host -- event send --type TYPE --data JSON
       npm run host -- state
       [--local | --config FILE | --stack NAME --region REGION] [--json]; --help for more
`;

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
} as const;

const GLOBAL_OPTIONS = new Set(['local', 'config', 'stack', 'region', 'json', 'help']);
const VALUED_OPTIONS = new Set(
  Object.entries(OPTIONS)
    .filter(([, option]) => option.type === 'string')
    .map(([name]) => `--${name}`),
);

/** A command line the CLI cannot act on: exit 2 with the usage. */
class UsageError extends Error {}

/** A known failure outside the API (missing config, unreachable API): exit 1, one line. */
class CliError extends Error {}

type Action =
  | { readonly kind: 'quiz create'; readonly request: CreateQuizRequest }
  | { readonly kind: 'quiz show' | 'quiz reveal'; readonly quizId: string }
  | { readonly kind: 'event send'; readonly type: string; readonly data: unknown }
  | { readonly kind: 'state' };

interface Invocation {
  readonly action: Action;
  readonly json: boolean;
  readonly target:
    | { readonly mode: 'local'; readonly configFile?: string }
    | { readonly mode: 'deployed'; readonly stack: string; readonly region?: string };
}

/**
 * Runs one host command. Returns the exit status: 0 done, 1 the API (or the environment)
 * refused, 2 a wrong command line. Never throws and never prints a stack trace.
 *
 * @param argv the arguments after the program name
 * @param env where AWS_REGION / AWS_DEFAULT_REGION are read @default process.env
 */
export async function runCli(
  argv: string[],
  io: CliIo,
  env: NodeJS.ProcessEnv = process.env,
): Promise<number> {
  if (wantsHelp(argv)) {
    io.stdout(USAGE);
    return EXIT_OK;
  }
  let invocation: Invocation;
  try {
    invocation = parseInvocation(argv);
  } catch (error) {
    return report(error, io, false);
  }
  try {
    const client = await connect(invocation, env);
    await execute(client, invocation, io);
    return EXIT_OK;
  } catch (error) {
    return report(error, io, invocation.json);
  }
}

function wantsHelp(argv: string[]): boolean {
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

function parseInvocation(argv: string[]): Invocation {
  const { values, positionals } = parseCommandLine(argv);
  const [first, second, ...rest] = positionals;
  if (!first) throw new UsageError('no command');

  let kind: Action['kind'];
  let operands: string[];
  if (first === 'state') {
    kind = 'state';
    operands = positionals.slice(1);
  } else if (first === 'quiz' || first === 'event') {
    const sub = first === 'quiz' ? ['create', 'show', 'reveal'] : ['send'];
    if (!second) throw new UsageError(`\`${first}\` needs a subcommand: ${sub.join(', ')}`);
    if (!sub.includes(second)) throw new UsageError(`unknown command \`${first} ${second}\``);
    kind = `${first} ${second}` as Action['kind'];
    operands = rest;
  } else {
    throw new UsageError(`unknown command \`${first}\``);
  }

  const allowed = COMMAND_OPTIONS[kind];
  for (const name of Object.keys(values)) {
    if (!GLOBAL_OPTIONS.has(name) && !allowed.includes(name))
      throw new UsageError(`--${name} is not an option of \`${kind}\``);
  }
  const takesId = kind === 'quiz show' || kind === 'quiz reveal';
  if (operands.length > (takesId ? 1 : 0))
    throw new UsageError(`unexpected argument \`${operands[takesId ? 1 : 0]}\` after \`${kind}\``);

  let action: Action;
  switch (kind) {
    case 'quiz create':
      action = { kind, request: quizRequest(values) };
      break;
    case 'quiz show':
    case 'quiz reveal':
      if (!operands[0]) throw new UsageError(`\`${kind}\` needs a QUIZ_ID`);
      action = { kind, quizId: operands[0] };
      break;
    case 'event send':
      action = eventAction(values);
      break;
    default:
      action = { kind: 'state' };
  }

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

const COMMAND_OPTIONS: Record<Action['kind'], readonly string[]> = {
  'quiz create': ['question', 'choice', 'correct', 'duration'],
  'quiz show': [],
  'quiz reveal': [],
  'event send': ['type', 'data'],
  state: [],
};

type Values = ReturnType<typeof parseCommandLine>['values'];

function quizRequest(values: Values): CreateQuizRequest {
  if (values.question === undefined) throw new UsageError('`quiz create` needs --question TEXT');
  if (!values.choice?.length) throw new UsageError('`quiz create` needs --choice, 2 to 4 times');
  if (values.correct === undefined)
    throw new UsageError('`quiz create` needs --correct N (the 0-based index of the right choice)');
  const request: CreateQuizRequest = {
    question: values.question,
    choices: values.choice,
    correctIndex: wholeNumber('--correct', values.correct),
  };
  if (values.duration !== undefined) request.durationSeconds = wholeNumber('--duration', values.duration);
  return request;
}

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

/** Builds a client for the local runtime or for the deployed stack's `HttpApiUrl`. */
async function connect({ target }: Invocation, env: NodeJS.ProcessEnv): Promise<HostClient> {
  const sha256 = NodeSha256 as unknown as HostClientOptions['sha256'];
  if (target.mode === 'local') {
    const config = readLocalConfig(path.resolve(target.configFile ?? LOCAL_CONFIG));
    return new HostClient({ ...config, sha256, fetch: fetchOrExplain(' (is `npm run dev` still running?)') });
  }
  const region = target.region ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION;
  if (!region) throw new UsageError('no AWS region: pass --region REGION or set AWS_REGION (or use --local)');
  const credentials = defaultProvider();
  const apiUrl = await httpApiUrl(target.stack, region, credentials);
  return new HostClient({ apiUrl, region, credentials, sha256, fetch: fetchOrExplain('') });
}

/** fetch with a deadline, whose network failures become one line naming the URL. */
function fetchOrExplain(hint: string): typeof fetch {
  return async (input, init) => {
    try {
      return await fetch(input, { ...init, signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
    } catch (error) {
      // Duck-typed: fetch's errors may come from another realm (a vm context under jest).
      if (!isError(error)) throw error;
      if (error.name === 'TimeoutError')
        throw new CliError(`no reply from ${String(input)} within ${REQUEST_TIMEOUT_MS / 1000} s`);
      const cause = (error as Error & { cause?: unknown }).cause;
      throw new CliError(
        `cannot reach ${String(input)}: ${isError(cause) ? cause.message : error.message}${hint}`,
      );
    }
  };
}

const isError = (value: unknown): value is Error =>
  typeof value === 'object' && value !== null && typeof (value as Error).message === 'string';

function readLocalConfig(file: string): Pick<HostClientOptions, 'apiUrl' | 'region' | 'credentials'> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT')
      throw new CliError(`no local runtime config at ${file}: start it with \`npm run dev\``);
    throw new CliError(`cannot read ${file}: ${(error as Error).message}`);
  }
  let config: { httpApiUrl?: unknown; region?: unknown; credentials?: Record<string, unknown> };
  try {
    config = JSON.parse(text);
  } catch {
    throw new CliError(`${file} is not valid JSON; restart the local runtime with \`npm run dev\``);
  }
  const { httpApiUrl, region, credentials } = config ?? {};
  if (
    typeof httpApiUrl !== 'string' ||
    typeof region !== 'string' ||
    typeof credentials?.accessKeyId !== 'string' ||
    typeof credentials.secretAccessKey !== 'string'
  ) {
    throw new CliError(
      `${file} lacks httpApiUrl, region or credentials: is it a cuecast local runtime config?`,
    );
  }
  return {
    apiUrl: httpApiUrl,
    region,
    credentials: { accessKeyId: credentials.accessKeyId, secretAccessKey: credentials.secretAccessKey },
  };
}

async function httpApiUrl(
  stack: string,
  region: string,
  credentials: ReturnType<typeof defaultProvider>,
): Promise<string> {
  const cloudFormation = new CloudFormationClient({ region, credentials });
  try {
    const { Stacks } = await cloudFormation.send(new DescribeStacksCommand({ StackName: stack }));
    const url = Stacks?.[0]?.Outputs?.find((o) => o.OutputKey === 'HttpApiUrl')?.OutputValue;
    if (!url) throw new CliError(`stack ${stack} in ${region} has no HttpApiUrl output: is it cuecast?`);
    return url;
  } catch (error) {
    if (error instanceof CliError) throw error;
    const { name, message } = error as Error;
    throw new CliError(`cannot read the outputs of stack ${stack} in ${region}: ${name}: ${message}`);
  } finally {
    cloudFormation.destroy();
  }
}

async function execute(client: HostClient, { action, json }: Invocation, io: CliIo): Promise<void> {
  const print = (reply: unknown, human: string) => io.stdout(json ? `${JSON.stringify(reply)}\n` : human);
  switch (action.kind) {
    case 'quiz create': {
      const created = await client.createQuiz(action.request);
      print(
        created,
        lines(
          ['quizId', created.quizId],
          ['opensAt', created.opensAt],
          ['closesAt', `${created.closesAt} (${relative(created.closesAt)})`],
        ),
      );
      break;
    }
    case 'quiz show': {
      const quiz = await client.getQuiz(action.quizId);
      print(quiz, renderQuiz(quiz));
      break;
    }
    case 'quiz reveal': {
      const result = await client.revealQuiz(action.quizId);
      print(result, json ? '' : await renderResult(client, result));
      break;
    }
    case 'event send': {
      const sent = await client.sendEvent(action.type, action.data);
      print(sent, lines(['eventId', sent.eventId], ['bytes', `${sent.bytes} of 1024`]));
      break;
    }
    case 'state': {
      const state = await client.state();
      print(state, renderState(state));
      break;
    }
  }
}

function report(error: unknown, io: CliIo, json: boolean): number {
  if (error instanceof UsageError) {
    io.stderr(`error: ${error.message}\n${SHORT_USAGE}`);
    return EXIT_USAGE;
  }
  if (error instanceof HostApiError) {
    if (json) io.stdout(`${JSON.stringify({ error: { code: error.code, message: error.message } })}\n`);
    const retry = error.retryAfterSeconds === undefined ? '' : `retry after ${error.retryAfterSeconds} s\n`;
    io.stderr(`error: ${error.code}: ${oneLine(error.message)}\n${retry}`);
    return EXIT_FAILED;
  }
  if (error instanceof CliError) {
    io.stderr(`error: ${error.message}\n`);
    return EXIT_FAILED;
  }
  const { name, message } = isError(error) ? error : { name: 'Error', message: String(error) };
  io.stderr(`error: unexpected ${name}: ${oneLine(message)}\n`);
  return EXIT_FAILED;
}

const oneLine = (text: string) => text.replace(/\s*\n\s*/g, ' ');

function lines(...rows: Array<[string, string]>): string {
  // One label column for every block, so a command's output lines up.
  const width = Math.max(10, ...rows.map(([label]) => label.length + 2));
  return rows.map(([label, value]) => `${`${label}:`.padEnd(width)}${value}\n`).join('');
}

function relative(iso: string, now = Date.now()): string {
  const seconds = Math.round((Date.parse(iso) - now) / 1000);
  if (Number.isNaN(seconds)) return 'unknown time';
  return seconds > 0 ? `in ${seconds} s` : `${-seconds} s ago`;
}

/** One row per choice: index, text, a bar of its share, the count and the percentage. */
function tally(
  choices: readonly string[],
  counts: readonly number[],
  total: number,
  correct?: number,
): string {
  const width = Math.max(...choices.map((c) => c.length));
  const countWidth = String(Math.max(0, ...counts)).length;
  return choices
    .map((choice, i) => {
      const count = counts[i] ?? 0;
      const share = total > 0 ? count / total : 0;
      const bar = '█'.repeat(Math.round(share * BAR_WIDTH)).padEnd(BAR_WIDTH, '·');
      const mark = i === correct ? '  ✓ correct' : '';
      return `  ${i}  ${choice.padEnd(width)}  ${bar}  ${String(count).padStart(countWidth)}  ${`${Math.round(share * 100)}%`.padStart(4)}${mark}\n`;
    })
    .join('');
}

const correctLabel = (choices: readonly string[], index: number) =>
  choices[index] === undefined ? String(index) : `${index} (${choices[index]})`;

function renderQuiz(quiz: QuizDetails): string {
  return [
    lines(
      ['quizId', quiz.quizId],
      ['question', quiz.question],
      ['state', quiz.state],
      ['opensAt', quiz.opensAt],
      ['closesAt', `${quiz.closesAt} (${relative(quiz.closesAt)})`],
    ),
    tally(quiz.choices, quiz.counts, quiz.total, quiz.correctIndex),
    lines(['total', answers(quiz.total)], ['correct', correctLabel(quiz.choices, quiz.correctIndex)]),
  ].join('');
}

async function renderResult(client: HostClient, result: RevealedQuiz): Promise<string> {
  // The reveal reply has no choice texts; fetch them, but a bare index is fine if that fails.
  const choices = await client.getQuiz(result.quizId).then(
    (quiz) => quiz.choices,
    () => result.counts.map((_, i) => `choice ${i}`),
  );
  return [
    `revealed quiz ${result.quizId}\n`,
    tally(choices, result.counts, result.total, result.correctIndex),
    lines(['total', answers(result.total)], ['correct', correctLabel(choices, result.correctIndex)]),
  ].join('');
}

function renderState(state: ShowState): string {
  const { quiz } = state;
  if (!quiz) return lines(['stream', state.stream], ['quiz', 'none']);
  const revealed = quiz.counts !== undefined && quiz.total !== undefined;
  return [
    lines(
      ['stream', state.stream],
      ['quiz', `${quiz.quizId} (${quiz.state})`],
      ['question', quiz.question],
      ['closesAt', `${quiz.closesAt} (${relative(quiz.closesAt)})`],
    ),
    revealed
      ? tally(quiz.choices, quiz.counts ?? [], quiz.total ?? 0, quiz.correctIndex)
      : quiz.choices.map((choice, i) => `  ${i}  ${choice}\n`).join(''),
    revealed
      ? lines(
          ['total', answers(quiz.total ?? 0)],
          ['correct', correctLabel(quiz.choices, quiz.correctIndex ?? -1)],
        )
      : '',
  ].join('');
}

const answers = (n: number) => `${n} answer${n === 1 ? '' : 's'}`;
