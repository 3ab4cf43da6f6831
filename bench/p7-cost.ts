import * as fs from 'node:fs';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { HostClient } from '../client/host-client';
import { NodeSha256 } from '../client/sha256-node';
import { deployedPagesDir } from '../local/pages-asset';
import type { LocalRuntime } from '../local/runtime';
import { type Usage, usageBetween } from '../local/usage';
import {
  type AccessLogBytes,
  accessLogLineBytes,
  add,
  type Counts,
  countsOf,
  type Measured,
  perQuiz,
  scale,
} from './cost-model';
import { close, open, type Socket, until } from './viewer-sockets';

/**
 * P7's measurement: a show's units, counted by the local runtime's usage meter as AWS would
 * bill them, while `ws` viewers behave as the viewer page does (`?v=2`, `sync` and a ping on
 * open, one ping a minute) and the host behaves as the console does (create, a poll a second
 * while the quiz runs, reveal). Each quiz runs at two audience sizes, so what a quiz costs
 * whatever the audience and what each viewer adds come apart.
 */
export interface CostMeasurement {
  readonly measured: Measured;
  readonly audiences: readonly [number, number];
  /** Per quiz at each audience, as counted (before the split). */
  readonly quizCounts: readonly [Counts, Counts];
}

/** The host console polls the show's state once a second while a quiz runs (20 s by default). */
export const CONSOLE_POLLS_PER_QUIZ = 20;
export const ANSWERING_SHARE = 0.8;

export async function measureCost(
  runtime: LocalRuntime,
  root: string,
  viewers: number,
): Promise<CostMeasurement> {
  const small = Math.max(10, Math.round(viewers / 4));
  if (viewers < small + 40) throw new Error('P7 needs at least 80 viewers');
  const template = readTemplate(root);
  const access = accessLogBytes(template);
  const memory = (id: string) => runtime.host.find(id)?.memorySize ?? 128;
  const counts = (from: Usage, to: Usage) => countsOf(usageBetween(from, to), memory, access);
  const disconnectFn = runtime.host.all().find((fn) => /Disconnect/.test(fn.logicalId));
  if (!disconnectFn) throw new Error('P7: no $disconnect function in the template');
  const host = new HostClient({
    apiUrl: runtime.config.httpApiUrl,
    region: runtime.config.region,
    credentials: runtime.config.credentials,
    sha256: NodeSha256 as unknown as ConstructorParameters<typeof HostClient>[0]['sha256'],
  });
  const url = `${runtime.config.webSocketUrl}?v=2`;
  runtime.dynamoDb.meterCapacity = true;
  const all: Socket[] = [];
  try {
    // Untimed: a first quiz warms every function (their JIT), as the show's first minutes would.
    const warm = await join(url, 20);
    all.push(...warm);
    await quiz(host, warm);

    let mark = runtime.usage.snapshot();
    const first = await join(url, small);
    all.push(...first);
    let sessionCounts = counts(mark, runtime.usage.snapshot());

    mark = runtime.usage.snapshot();
    await pingAll(first);
    const perPing = scale(counts(mark, runtime.usage.snapshot()), 1 / first.length);

    mark = runtime.usage.snapshot();
    await quiz(host, [...warm, ...first]);
    const smallQuiz = counts(mark, runtime.usage.snapshot());

    mark = runtime.usage.snapshot();
    const second = await join(url, viewers - small - warm.length);
    all.push(...second);
    sessionCounts = add(sessionCounts, counts(mark, runtime.usage.snapshot()));

    mark = runtime.usage.snapshot();
    await quiz(host, all);
    const largeQuiz = counts(mark, runtime.usage.snapshot());

    // Every viewer leaves; their $disconnect invocations complete the sessions.
    mark = runtime.usage.snapshot();
    const before = mark.functions[disconnectFn.logicalId]?.invocations ?? 0;
    await close(all.splice(0));
    await until(
      () =>
        (runtime.usage.snapshot().functions[disconnectFn.logicalId]?.invocations ?? 0) >= before + viewers,
      60_000,
      'P7: the $disconnect invocations',
    );
    sessionCounts = add(
      sessionCounts,
      scale(counts(mark, runtime.usage.snapshot()), (viewers - warm.length) / viewers),
    );
    const measuredViewers = first.length + second.length;
    const smallAudience = warm.length + first.length;

    return {
      audiences: [smallAudience, viewers],
      quizCounts: [smallQuiz, largeQuiz],
      measured: {
        perViewerSession: scale(sessionCounts, 1 / measuredViewers),
        perPing,
        quiz: perQuiz({ viewers: smallAudience, counts: smallQuiz }, { viewers, counts: largeQuiz }),
        customMetrics: runtime.usage.snapshot().metrics.size,
        page: viewerPage(deployedPagesDir(path.join(root, 'cdk.out'))),
        alarms: countOf(template, 'AWS::CloudWatch::Alarm'),
        dashboards: countOf(template, 'AWS::CloudWatch::Dashboard'),
      },
    };
  } finally {
    runtime.dynamoDb.meterCapacity = false;
    await close(all);
  }
}

/**
 * Viewers join as the page does: connect, then `sync` and a ping, each answered. One viewer at a
 * time: the local runtime runs a function's concurrent invocations in one worker, where each
 * one's duration would include the others' (on AWS each gets a container).
 */
async function join(url: string, count: number): Promise<Socket[]> {
  const sockets: Socket[] = [];
  for (let i = 0; i < count; i++) {
    const [s] = await open(url, 1);
    sockets.push(s);
    s.ws.send(JSON.stringify({ action: 'sync' }));
    s.ws.send(JSON.stringify({ action: 'ping' }));
    await until(
      () => s.frames.some((f) => f.kind === 'state') && s.frames.some((f) => f.kind === 'pong'),
      10_000,
      "P7: a viewer's sync and pong",
    );
  }
  return sockets;
}

/** Sends a frame and waits for the reply of that kind (one viewer at a time, as in {@link join}). */
async function exchange(
  s: Socket,
  frame: Record<string, unknown>,
  replies: readonly string[],
): Promise<string> {
  const seen = s.frames.length;
  s.ws.send(JSON.stringify(frame));
  await until(
    () => s.frames.slice(seen).some((f) => replies.includes(f.kind)),
    10_000,
    `P7: a ${frame.action} reply`,
  );
  return s.frames.slice(seen).find((f) => replies.includes(f.kind))?.kind ?? '';
}

async function pingAll(sockets: Socket[]): Promise<void> {
  for (const s of sockets) await exchange(s, { action: 'ping' }, ['pong']);
}

/** One quiz as a show runs it: 80 % answer, the console polls, the host reveals, everyone hears. */
async function quiz(host: HostClient, sockets: Socket[]): Promise<void> {
  for (const s of sockets) s.frames.length = 0;
  const { quizId } = await host.createQuiz({
    question: 'P7: what does this show cost?',
    choices: ['A little', 'A lot'],
    correctIndex: 0,
    durationSeconds: 120,
  });
  const answering = sockets.slice(0, Math.round(sockets.length * ANSWERING_SHARE));
  for (const [i, s] of answering.entries()) {
    const reply = await exchange(s, { action: 'answer', quizId, choiceIndex: i % 2 }, ['answer', 'error']);
    if (reply !== 'answer') throw new Error('P7: an answer was refused');
  }
  for (let i = 0; i < CONSOLE_POLLS_PER_QUIZ; i++) await host.state();
  await host.revealQuiz(quizId, { force: true });
  const revealed = (s: Socket) => s.frames.some((f) => f.kind === 'graded' || f.kind === 'result');
  await until(() => sockets.every(revealed), 120_000, 'P7: the reveal');
  // The fan-out's last segment may still be logging its report.
  await new Promise((resolve) => setTimeout(resolve, 500));
}

interface Template {
  Resources: Record<string, { Type: string; Properties?: Record<string, unknown> }>;
}

function readTemplate(root: string): Template {
  return JSON.parse(fs.readFileSync(path.join(root, 'cdk.out', 'Cuecast.template.json'), 'utf8')) as Template;
}

const countOf = (template: Template, type: string) =>
  Object.values(template.Resources).filter((r) => r.Type === type).length;

/** Each API's access-log line, from its stage's own format in the template. */
function accessLogBytes(template: Template): AccessLogBytes {
  const bytes: Partial<Record<'HTTP' | 'WEBSOCKET', number>> = {};
  for (const resource of Object.values(template.Resources)) {
    if (resource.Type !== 'AWS::ApiGatewayV2::Stage') continue;
    const format = (resource.Properties?.AccessLogSettings as { Format?: string } | undefined)?.Format;
    const apiId = (resource.Properties?.ApiId as { Ref?: string } | undefined)?.Ref;
    const protocol = apiId && template.Resources[apiId]?.Properties?.ProtocolType;
    if (format && (protocol === 'HTTP' || protocol === 'WEBSOCKET'))
      bytes[protocol] = accessLogLineBytes(format);
  }
  return { http: bytes.HTTP ?? 0, webSocket: bytes.WEBSOCKET ?? 0 };
}

/**
 * One load of the viewer page, as the stack deploys it: every built file but the host console's,
 * text gzipped as CloudFront compresses it, the IVS player's wasm as it is, plus `config.json`.
 */
function viewerPage(dist: string | undefined): { bytes: number; requests: number } {
  if (!dist) throw new Error('P7: the synthesized stack deploys no pages');
  const files = [
    path.join(dist, 'index.html'),
    ...fs
      .readdirSync(path.join(dist, 'assets'))
      .filter((name) => !name.startsWith('host-'))
      .map((name) => path.join(dist, 'assets', name)),
  ];
  let bytes = 512; // config.json
  for (const file of files) {
    const content = fs.readFileSync(file);
    bytes += /\.(html|js|css|json)$/.test(file) ? zlib.gzipSync(content).length : content.length;
  }
  return { bytes, requests: files.length + 1 };
}
