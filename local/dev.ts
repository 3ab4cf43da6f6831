/**
 * `npm run dev`: the whole show on 127.0.0.1, from the synthesized template, with no AWS account.
 * CUECAST_LOCAL_PORT sets the first port (default 4500); the others follow it.
 * CUECAST_LOCAL_MGMT_LATENCY_MS adds latency to every @connections call (a model of AWS).
 * `--no-synth` reuses cdk.out as it is, for a faster restart.
 * `--viewer-auth` boots the stack with viewer auth on (docs/protocol.md §5), from cdk.out.viewer-auth.
 * `--data DIR` keeps the DynamoDB tables in DIR, so a restart mid-rehearsal keeps quizzes and answers.
 * `--test-stream` publishes ffmpeg's test pattern (a clock and a tone) to the local ingest.
 */
import * as path from 'node:path';
import { FFMPEG_MISSING, hasFfmpeg } from './video/ffmpeg';

const USAGE = 'usage: npm run dev [-- --no-synth] [--viewer-auth] [--data DIR] [--test-stream]';

interface DevOptions {
  readonly synth: boolean;
  readonly viewerAuth: boolean;
  readonly dataDir?: string;
  readonly testStream: boolean;
}

/** Flags in any order; `--data DIR` (or `--data=DIR`) is resolved from the current directory. */
function parseArgs(args: readonly string[]): DevOptions {
  let synth = true;
  let viewerAuth = false;
  let dataDir: string | undefined;
  let testStream = false;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (arg === '--no-synth') synth = false;
    else if (arg === '--viewer-auth') viewerAuth = true;
    else if (arg === '--test-stream') testStream = true;
    else if (arg === '--data' || arg.startsWith('--data=')) {
      const dir = arg === '--data' ? args[++i] : arg.slice('--data='.length);
      if (!dir || dir.startsWith('--')) throw new Error(`--data needs a directory; ${USAGE}`);
      dataDir = path.resolve(dir);
    } else throw new Error(`unknown option ${arg}; ${USAGE}`);
  }
  return { synth, viewerAuth, dataDir, testStream };
}

function intFromEnv(name: string, fallback: number, min: number, max: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new Error(`${name} must be an integer from ${min} to ${max}, got "${raw}"`);
  }
  return value;
}

async function main(): Promise<void> {
  const { synth, viewerAuth, dataDir, testStream } = parseArgs(process.argv.slice(2));
  if (testStream && !hasFfmpeg()) throw new Error(`--test-stream: ${FFMPEG_MISSING}`);
  const basePort = intFromEnv('CUECAST_LOCAL_PORT', 4500, 1024, 65527);
  const managementLatencyMs = intFromEnv('CUECAST_LOCAL_MGMT_LATENCY_MS', 0, 0, 10_000);
  console.log(
    synth ? 'cuecast dev: synthesizing the stack (npx cdk synth) ...' : 'cuecast dev: using cdk.out as it is',
  );
  // Loaded once the arguments are good: a usage error answers at once, not after the runtime loads.
  const { startLocalRuntime } = await import('./runtime');
  const runtime = await startLocalRuntime({
    basePort,
    managementLatencyMs,
    synth,
    viewerAuth,
    dataDir,
    testStream,
  });
  const { config } = runtime;
  console.log(
    [
      '',
      'cuecast is running locally (no AWS account involved):',
      config.viewerUrl
        ? `  viewer page     ${config.viewerUrl}`
        : '  viewer page     (not built: run `npx vite build`)',
      config.hostUrl ? `  host console    ${config.hostUrl}` : '',
      config.hostUser
        ? `  host sign-in    username ${config.hostUser.username}   password ${config.hostUser.password}   (made for this run; Cognito stand-in at ${config.cognitoEndpoint})`
        : '',
      `  HTTP API        ${config.httpApiUrl}   (host routes need SigV4 with the local credentials, as every stand-in's AWS API does)`,
      `  WebSocket       ${config.webSocketUrl}`,
      `  @connections    ${config.managementUrl}/@connections/{id}`,
      `  IVS stand-in    ${config.ivsEndpoint}   (POST /_local/stream with header X-Cuecast-Local: 1, GET /_local/metadata, GET /_local/metadata/events)`,
      `  DynamoDB        ${config.dynamoDbEndpoint}   ${dataDir ? `(tables kept in ${dataDir})` : '(in memory: --data DIR keeps the tables across restarts)'}`,
      `  Lambda API      ${config.lambdaEndpoint}`,
      `  quotas, SNS     ${config.serviceQuotasEndpoint}   (Service Quotas and the alarm topic: npm run host -- preflight --local --viewers N)`,
      `  channel         ${config.channelArn}`,
      `  OBS server      ${config.ingestUrl}   (stream key: npm run -s stream-key -- --local)`,
      `  playback        ${config.playbackUrl}   ${testStream ? '(the test stream is publishing)' : '(live while something publishes)'}`,
      hasFfmpeg() ? '' : `  video           off: ${FFMPEG_MISSING}`,
      config.viewerAuth
        ? `  viewer auth     on: viewers get a token from POST ${config.httpApiUrl}viewer-token (keys: ${config.secretsManagerEndpoint})`
        : '',
      `  alarms          ${runtime.alarms.specs.length}, evaluated each minute (npm run host -- ops alarms --local); mail in ${path.relative(process.cwd(), runtime.alarmOutbox) || '.'}`,
      '  config          .cuecast/local.json (credentials included; it is gitignored)',
      '',
      `ready: ${config.viewerUrl ?? config.httpApiUrl}`,
    ]
      .filter((line) => line !== '')
      .join('\n'),
  );

  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`\ncuecast dev: ${signal}, shutting down ...`);
    await runtime.stop();
    console.log('cuecast dev: stopped');
    process.exit(0);
  };
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
}

main().catch((error: Error) => {
  console.error(`cuecast dev: ${error.message}`);
  process.exit(1);
});
