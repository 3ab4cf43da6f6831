/**
 * The host CLI (`npm run host`): opens, shows and reveals quizzes, sends custom cues and reads
 * the show state through the SigV4-signed host API (docs/protocol.md §3), against the local runtime or
 * a deployed stack. Everything is in `runCli` so tests drive it in-process; scripts/host.ts is
 * the bin. This file runs a command and maps failures to exit statuses; the command line is parsed
 * in host-cli/args.ts, the target resolved in host-cli/target.ts and replies rendered in
 * host-cli/render.ts.
 */
import { HostApiError, type HostClient } from '../client/host-client';
import { listAlarms, renderAlarms } from './host-cli/alarms';
import { type Invocation, parseInvocation, UsageError, wantsHelp } from './host-cli/args';
import { revealWhenAnswersClose } from './host-cli/countdown';
import { addHost, renderAddedHost } from './host-cli/hosts';
import type { CliIo } from './host-cli/io';
import { listFailures, opsTarget, redrive, renderFailures } from './host-cli/ops';
import { preflight, renderPreflight } from './host-cli/preflight';
import { preflightTarget } from './host-cli/preflight-target';
import { renderCreated, renderQuiz, renderResult, renderSent, renderState } from './host-cli/render';
import { checkedSheet, renderCheck, runSheet } from './host-cli/show';
import { CliError, connect, isError } from './host-cli/target';
import { SHORT_USAGE, USAGE } from './host-cli/usage';

export type { CliIo } from './host-cli/io';

const EXIT_OK = 0;
const EXIT_FAILED = 1;
const EXIT_USAGE = 2;
/** `preflight`: the account or the stack is not ready for the show (a check failed). */
const EXIT_NOT_READY = 3;

/**
 * Runs one host command. Returns the exit status: 0 done, 1 the API (or the environment)
 * refused, 2 a wrong command line, 3 `preflight` found the show would not fit. Never throws and never prints a stack trace.
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
    const { action } = invocation;
    if (action.kind === 'show check') {
      // Checking a sheet needs no API: it works offline, before the show.
      io.stdout(renderCheck(action.file, checkedSheet(action.file)));
      return EXIT_OK;
    }
    if (action.kind === 'ops failures' || action.kind === 'ops redrive') {
      // The failure queues, through SQS and Lambda rather than the host API.
      await operate(invocation, env, io);
      return EXIT_OK;
    }
    if (action.kind === 'ops alarms') {
      // CloudWatch's alarms (or the local runtime's), not the host API.
      const alarms = await listAlarms(invocation, env);
      io.stdout(invocation.json ? `${JSON.stringify({ alarms })}\n` : renderAlarms(alarms));
      return EXIT_OK;
    }
    if (action.kind === 'hosts add') {
      // Through Cognito (with the default credential chain), not the host API.
      const added = await addHost(invocation, action.email, env);
      const stack = invocation.target.mode === 'deployed' ? invocation.target.stack : '';
      io.stdout(invocation.json ? `${JSON.stringify(added)}\n` : renderAddedHost(added, stack));
      return EXIT_OK;
    }
    if (action.kind === 'preflight') {
      // The account's settings and quotas, and the stack's resources, not the host API.
      const target = await preflightTarget(invocation, env);
      const report = await preflight(target, action.viewers).finally(() => target.close());
      io.stdout(invocation.json ? `${JSON.stringify(report)}\n` : renderPreflight(report));
      return report.ready ? EXIT_OK : EXIT_NOT_READY;
    }
    const client = await connect(invocation, env);
    await execute(client, invocation, io);
    return EXIT_OK;
  } catch (error) {
    return report(error, io, invocation.json);
  }
}

async function execute(client: HostClient, { action, json }: Invocation, io: CliIo): Promise<void> {
  const print = (reply: unknown, human: string) => io.stdout(json ? `${JSON.stringify(reply)}\n` : human);
  switch (action.kind) {
    case 'quiz create':
    case 'poll create': {
      const created = await client.createQuiz(action.request);
      print(created, renderCreated(created));
      break;
    }
    case 'quiz show': {
      const quiz = await client.getQuiz(action.quizId);
      print(quiz, renderQuiz(quiz));
      break;
    }
    case 'quiz reveal': {
      const result = await revealWhenAnswersClose(client, action, io);
      print(result, json ? '' : await renderResult(client, result));
      break;
    }
    case 'event send': {
      const sent = await client.sendEvent(action.type, action.data);
      print(sent, renderSent(sent));
      break;
    }
    case 'show run':
      await runSheet(client, action.file, action.from, io);
      break;
    case 'show check':
    case 'ops failures':
    case 'ops redrive':
    case 'ops alarms':
    case 'hosts add':
    case 'preflight':
      break;
    case 'state': {
      const state = await client.state();
      print(state, renderState(state));
      break;
    }
  }
}

async function operate(invocation: Invocation, env: NodeJS.ProcessEnv, io: CliIo): Promise<void> {
  const target = await opsTarget(invocation, env);
  const print = (reply: unknown, human: string) =>
    io.stdout(invocation.json ? `${JSON.stringify(reply)}\n` : human);
  if (invocation.action.kind === 'ops failures') {
    const failures = await listFailures(target);
    print({ failures }, renderFailures(failures));
    return;
  }
  const { redriven, kept } = await redrive(target);
  const keptNote = kept.length ? `, ${kept.length} kept (no function to send them to; see ops failures)` : '';
  print(
    { redriven, kept },
    `Redriven ${redriven.length} failure${redriven.length === 1 ? '' : 's'}${keptNote}.\n`,
  );
}

function report(error: unknown, io: CliIo, json: boolean): number {
  const status = describe(error, io, json);
  // A run-sheet that stopped says where to pick up again.
  const resume = (error as { resume?: unknown } | undefined)?.resume;
  if (typeof resume === 'string') io.stderr(`${resume}\n`);
  return status;
}

function describe(error: unknown, io: CliIo, json: boolean): number {
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
