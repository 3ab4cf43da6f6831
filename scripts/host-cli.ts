/**
 * The host CLI: run a show from a terminal. `runCli` is the whole program, testable in-process;
 * scripts/host.ts only wires it to the process.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { defaultProvider } from '@aws-sdk/credential-provider-node';
import { HostApiError, HostClient, type HostCredentials } from '../web/src/shared/host-client';
import { NodeSha256 } from '../web/src/shared/sha256-node';

export interface Io {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
}

export const USAGE = `usage: npm run host -- <command> [options]

commands:
  quiz create --question TEXT --choice A --choice B [--choice C --choice D] --correct N [--duration S]
  quiz reveal QUIZ_ID
  quiz show QUIZ_ID
  event send --type TYPE --data JSON
  state

options:
  --local            use the local runtime (.cuecast/local.json)
  --config FILE      use another local runtime config file
  --stack NAME       deployed stack to read HttpApiUrl from (default Cuecast)
  --region REGION    AWS region of the deployed stack (default: AWS_REGION)
  --json             print the API's reply as JSON
  -h, --help         show this help`;

/** A wrong command line: exit 2 with the usage. */
class UsageError extends Error {}

const OPTIONS = {
  question: { type: 'string' },
  choice: { type: 'string', multiple: true },
  correct: { type: 'string' },
  duration: { type: 'string' },
  type: { type: 'string' },
  data: { type: 'string' },
  local: { type: 'boolean' },
  config: { type: 'string' },
  stack: { type: 'string' },
  region: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

type Values = ReturnType<typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true }>>['values'];

export async function runCli(argv: string[], io: Io, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  let values: Values;
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({
      args: argv,
      options: OPTIONS,
      allowPositionals: true,
      strict: true,
    }));
  } catch (error) {
    return usage(io, (error as Error).message);
  }
  if (values.help) {
    io.stdout(`${USAGE}\n`);
    return 0;
  }
  try {
    const command = parseCommand(positionals, values);
    const client = await connect(values, env);
    const reply = await command.run(client);
    io.stdout(values.json ? `${JSON.stringify(reply)}\n` : `${command.print(reply)}\n`);
    return 0;
  } catch (error) {
    if (error instanceof UsageError) return usage(io, error.message);
    if (error instanceof HostApiError) {
      const retry = error.retryAfterSeconds ? `; retry after ${error.retryAfterSeconds} s` : '';
      io.stderr(`error: ${error.code}: ${error.message}${retry}\n`);
      if (values.json)
        io.stdout(`${JSON.stringify({ error: { code: error.code, message: error.message } })}\n`);
      return 1;
    }
    io.stderr(`error: ${(error as Error).message}\n`);
    return 1;
  }
}

function usage(io: Io, message: string): number {
  io.stderr(`error: ${message}\n\n${USAGE}\n`);
  return 2;
}

interface Command {
  run(client: HostClient): Promise<any>;
  print(reply: any): string;
}

function parseCommand(positionals: string[], values: Values): Command {
  const [group, action, id, ...extra] = positionals;
  const key = group === 'state' ? 'state' : `${group ?? ''} ${action ?? ''}`.trim();
  const needId = () => {
    if (!id) throw new UsageError(`${key} needs a QUIZ_ID`);
    if (extra.length > 0) throw new UsageError(`unexpected argument "${extra[0]}"`);
    return id;
  };
  const noExtra = (args: Array<string | undefined>) => {
    const stray = args.find((a) => a !== undefined);
    if (stray) throw new UsageError(`unexpected argument "${stray}"`);
  };
  switch (key) {
    case 'quiz create': {
      noExtra([id, ...extra]);
      if (!values.question) throw new UsageError('quiz create needs --question');
      const choices = values.choice ?? [];
      if (choices.length < 2) throw new UsageError('quiz create needs at least two --choice');
      const correctIndex = integer('--correct', values.correct);
      if (correctIndex === undefined)
        throw new UsageError('quiz create needs --correct (the index of the right choice, from 0)');
      const durationSeconds = integer('--duration', values.duration);
      const request = {
        question: values.question,
        choices,
        correctIndex,
        ...(durationSeconds !== undefined ? { durationSeconds } : {}),
      };
      return {
        run: (client) => client.createQuiz(request),
        print: (r) => `quiz ${r.quizId} is open until ${r.closesAt} (opened ${r.opensAt})`,
      };
    }
    case 'quiz reveal': {
      const quizId = needId();
      return { run: (client) => client.revealQuiz(quizId), print: (r) => formatResult(r) };
    }
    case 'quiz show': {
      const quizId = needId();
      return {
        run: (client) => client.getQuiz(quizId),
        print: (q) =>
          [
            `${q.question}  [${q.state}]`,
            formatCounts(q.choices, q.counts, q.total, q.correctIndex),
            `${q.total} answers; open ${q.opensAt} to ${q.closesAt}`,
          ].join('\n'),
      };
    }
    case 'event send': {
      noExtra([id, ...extra]);
      if (!values.type) throw new UsageError('event send needs --type');
      if (values.data === undefined) throw new UsageError('event send needs --data (a JSON object)');
      let data: unknown;
      try {
        data = JSON.parse(values.data);
      } catch {
        throw new UsageError('--data is not valid JSON');
      }
      const type = values.type;
      return {
        run: (client) => client.sendEvent(type, data),
        print: (r) => `event ${r.eventId} sent (${r.bytes} bytes)`,
      };
    }
    case 'state': {
      noExtra([action, id, ...extra]);
      return {
        run: (client) => client.state(),
        print: (s) => {
          const lines = [`stream: ${s.stream}`];
          if (!s.quiz) lines.push('no quiz yet');
          else {
            lines.push(
              `quiz ${s.quiz.quizId}: ${s.quiz.question}  [${s.quiz.state}] closes ${s.quiz.closesAt}`,
            );
            if (s.quiz.counts)
              lines.push(formatCounts(s.quiz.choices, s.quiz.counts, s.quiz.total, s.quiz.correctIndex));
          }
          return lines.join('\n');
        },
      };
    }
    default:
      throw new UsageError(group ? `unknown command "${positionals.join(' ')}"` : 'no command given');
  }
}

function integer(flag: string, raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined;
  if (!/^-?\d+$/.test(raw)) throw new UsageError(`${flag} must be a whole number, got "${raw}"`);
  return Number(raw);
}

function formatCounts(choices: string[], counts: number[], total: number, correctIndex?: number): string {
  const width = Math.max(...choices.map((c) => c.length));
  return choices
    .map((choice, i) => {
      const count = counts[i] ?? 0;
      const bar = '#'.repeat(total > 0 ? Math.round((count / total) * 30) : 0);
      return `  ${i}. ${choice.padEnd(width)}  ${String(count).padStart(5)}  ${bar}${i === correctIndex ? '  <- correct' : ''}`;
    })
    .join('\n');
}

function formatResult(r: { quizId: string; correctIndex: number; counts: number[]; total: number }): string {
  const names = r.counts.map((_, i) => `choice ${i}`);
  return [
    `quiz ${r.quizId} revealed: ${r.total} answers`,
    formatCounts(names, r.counts, r.total, r.correctIndex),
  ].join('\n');
}

/** Local: the runtime's config file. Deployed: the stack's HttpApiUrl and the default credential chain. */
async function connect(values: Values, env: NodeJS.ProcessEnv): Promise<HostClient> {
  if (values.local || values.config) {
    const file = values.config ?? path.join(process.cwd(), '.cuecast', 'local.json');
    if (!fs.existsSync(file))
      throw new Error(`no local runtime config at ${file}: start it with \`npm run dev\``);
    const local = JSON.parse(fs.readFileSync(file, 'utf8')) as {
      httpApiUrl: string;
      region: string;
      credentials: HostCredentials;
    };
    return new HostClient({
      apiUrl: local.httpApiUrl,
      region: local.region,
      credentials: local.credentials,
      sha256: sha256(),
    });
  }
  const region = values.region ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION;
  if (!region) throw new UsageError('no region: pass --region or set AWS_REGION (or use --local)');
  const stack = values.stack ?? 'Cuecast';
  const { Stacks } = await new CloudFormationClient({ region }).send(
    new DescribeStacksCommand({ StackName: stack }),
  );
  const apiUrl = Stacks?.[0]?.Outputs?.find((o) => o.OutputKey === 'HttpApiUrl')?.OutputValue;
  if (!apiUrl) throw new Error(`stack ${stack} in ${region} has no HttpApiUrl output: is it deployed?`);
  return new HostClient({ apiUrl, region, credentials: defaultProvider(), sha256: sha256() });
}

const sha256 = () => NodeSha256 as unknown as ConstructorParameters<typeof HostClient>[0]['sha256'];
