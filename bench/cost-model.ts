import type { Usage } from '../local/usage';
import type { PriceKey, PriceTable } from './prices';

/**
 * P7's arithmetic: what a show-hour costs, from request counts the bench measured and the dated
 * price table in bench/prices.json. Nothing here is measured or guessed: the counts come in, the
 * prices come from the file, and the lines are their products.
 */

/** The billable quantities of some stretch of a show. */
export interface Counts {
  readonly lambdaRequests: number;
  readonly lambdaGbSeconds: number;
  /** WebSocket messages both ways, in API Gateway's 32 KB units. */
  readonly messages: number;
  readonly httpRequests: number;
  readonly writeUnits: number;
  readonly readUnits: number;
  /** Bytes CloudWatch Logs ingests: function output, Lambda's own lines and the APIs' access logs. */
  readonly logBytes: number;
}

const COUNT_KEYS = [
  'lambdaRequests',
  'lambdaGbSeconds',
  'messages',
  'httpRequests',
  'writeUnits',
  'readUnits',
  'logBytes',
] as const;

const combine = (f: (key: (typeof COUNT_KEYS)[number]) => number): Counts =>
  Object.fromEntries(COUNT_KEYS.map((key) => [key, f(key)])) as unknown as Counts;
export const ZERO: Counts = combine(() => 0);
export const add = (a: Counts, b: Counts): Counts => combine((k) => a[k] + b[k]);
export const scale = (a: Counts, by: number): Counts => combine((k) => a[k] * by);

/**
 * CloudWatch Logs sizes a batch as each event's bytes plus 26 (PutLogEvents); we count ingestion
 * the same way. Lambda writes three lines of its own per invocation, shaped like these.
 */
export const LOG_EVENT_OVERHEAD_BYTES = 26;
const REQUEST_ID = '8f5d8d5c-3c1e-4f5a-9a7e-2d6b1c0e9f41';
export const LAMBDA_PLATFORM_LINES = [
  `START RequestId: ${REQUEST_ID} Version: $LATEST`,
  `END RequestId: ${REQUEST_ID}`,
  `REPORT RequestId: ${REQUEST_ID}\tDuration: 12.34 ms\tBilled Duration: 13 ms\tMemory Size: 256 MB\tMax Memory Used: 88 MB\t`,
];
const PLATFORM_BYTES_PER_INVOCATION = LAMBDA_PLATFORM_LINES.reduce(
  (sum, line) => sum + Buffer.byteLength(line) + LOG_EVENT_OVERHEAD_BYTES,
  0,
);

/** Representative values for an access-log format's `$context` variables. */
const ACCESS_LOG_SAMPLE: Record<string, string> = {
  'identity.sourceIp': '203.0.113.45',
  'identity.caller': '-',
  'identity.user': '-',
  requestTime: '30/Nov/2026:11:09:51 +0000',
  httpMethod: 'POST',
  resourcePath: '/quizzes/{quizId}/reveal',
  routeKey: 'answer',
  protocol: 'HTTP/1.1',
  status: '200',
  responseLength: '142',
  requestId: 'SBd1SjbAIAMEVqA=',
  eventType: 'MESSAGE',
  connectionId: 'SBd1SjbAIAMCKzQ=',
};

/** One access-log line of a stage's format, with representative values; its ingested bytes. */
export function accessLogLineBytes(format: string): number {
  const line = format.replace(
    /\$context\.([A-Za-z.]+)/g,
    (_, name: string) => ACCESS_LOG_SAMPLE[name] ?? '-',
  );
  return Buffer.byteLength(line) + LOG_EVENT_OVERHEAD_BYTES;
}

export interface AccessLogBytes {
  readonly http: number;
  readonly webSocket: number;
}

/** The billable quantities in a usage difference; `memoryMb` gives each function's memory by logical id. */
export function countsOf(
  usage: Usage,
  memoryMb: (logicalId: string) => number,
  access: AccessLogBytes,
): Counts {
  let lambdaRequests = 0;
  let lambdaGbSeconds = 0;
  let logBytes = usage.httpRequests * access.http + usage.webSocketRouteEvents * access.webSocket;
  for (const [id, fn] of Object.entries(usage.functions)) {
    lambdaRequests += fn.invocations;
    lambdaGbSeconds += (fn.busyMs / 1000) * (memoryMb(id) / 1024);
    logBytes +=
      fn.logBytes + fn.logEvents * LOG_EVENT_OVERHEAD_BYTES + fn.invocations * PLATFORM_BYTES_PER_INVOCATION;
  }
  return {
    lambdaRequests,
    lambdaGbSeconds,
    messages: usage.messageUnitsIn + usage.messageUnitsOut,
    httpRequests: usage.httpRequests,
    writeUnits: usage.writeUnits,
    readUnits: usage.readUnits,
    logBytes,
  };
}

/**
 * A quiz measured at two audience sizes, split into what it costs whatever the audience (the
 * host's calls, the seal, the fan-out's dispatch) and what each viewer adds. A share that comes
 * out below zero (noise in a duration) counts as zero.
 */
export function perQuiz(
  small: { viewers: number; counts: Counts },
  large: { viewers: number; counts: Counts },
): { fixed: Counts; perViewer: Counts } {
  if (large.viewers <= small.viewers) throw new Error('perQuiz: the second audience must be larger');
  const perViewer = combine((k) =>
    Math.max(0, (large.counts[k] - small.counts[k]) / (large.viewers - small.viewers)),
  );
  const fixed = combine((k) => Math.max(0, small.counts[k] - perViewer[k] * small.viewers));
  return { fixed, perViewer };
}

/** What the bench measured, per unit of a show. */
export interface Measured {
  /** One viewer's connection: `$connect`, `sync`, the first ping, `$disconnect`. */
  readonly perViewerSession: Counts;
  /** One ping and its pong. */
  readonly perPing: Counts;
  /** One quiz with 80 % of the audience answering: create, the console's polls, reveal, fan-out. */
  readonly quiz: { readonly fixed: Counts; readonly perViewer: Counts };
  /** Distinct custom metrics the functions emitted. */
  readonly customMetrics: number;
  /** One load of the viewer page from CloudFront. */
  readonly page: { readonly bytes: number; readonly requests: number };
  readonly alarms: number;
  readonly dashboards: number;
}

export interface ShowPlan {
  readonly viewers: number;
  readonly hours: number;
  readonly quizzesPerHour: number;
  /** The viewer page pings every 60 s after the one on open. */
  readonly pingsPerViewerHour: number;
}

/** Every billable quantity of the show, from the measured units. */
export function showCounts(measured: Measured, plan: ShowPlan): Counts {
  const { viewers, hours } = plan;
  const sessions = scale(measured.perViewerSession, viewers);
  const pings = scale(measured.perPing, plan.pingsPerViewerHour * hours * viewers);
  const quiz = add(measured.quiz.fixed, scale(measured.quiz.perViewer, viewers));
  return add(add(sessions, pings), scale(quiz, plan.quizzesPerHour * hours));
}

export interface CostLine {
  readonly service: string;
  readonly item: string;
  readonly quantity: number;
  readonly unit: string;
  readonly usd: number;
  /** The prices it used, for their `checked` marks. */
  readonly prices: readonly PriceKey[];
}

const HOURS_PER_MONTH = 730;
const GB = 1024 ** 3;

/** The cost lines of a show, each the product of a quantity and a price from the table. */
export function showCost(measured: Measured, plan: ShowPlan, table: PriceTable): CostLine[] {
  const p = (key: PriceKey) => table.prices[key].usd;
  const c = showCounts(measured, plan);
  const viewerHours = plan.viewers * plan.hours;
  const line = (
    service: string,
    item: string,
    quantity: number,
    unit: string,
    usd: number,
    prices: PriceKey[],
  ): CostLine => ({ service, item, quantity, unit, usd, prices });
  return [
    line('IVS', 'video input', plan.hours, 'h', plan.hours * p('ivsInputStandardHour'), [
      'ivsInputStandardHour',
    ]),
    line('IVS', 'video output (Full HD)', viewerHours, 'viewer-h', viewerHours * p('ivsOutputFullHdHour'), [
      'ivsOutputFullHdHour',
    ]),
    line(
      'API Gateway',
      'WebSocket messages',
      c.messages,
      'messages',
      (c.messages / 1e6) * p('webSocketMessagesMillion'),
      ['webSocketMessagesMillion'],
    ),
    line(
      'API Gateway',
      'WebSocket connection minutes',
      viewerHours * 60,
      'minutes',
      ((viewerHours * 60) / 1e6) * p('webSocketConnectionMinutesMillion'),
      ['webSocketConnectionMinutesMillion'],
    ),
    line(
      'API Gateway',
      'HTTP API requests',
      c.httpRequests,
      'requests',
      (c.httpRequests / 1e6) * p('httpApiRequestsMillion'),
      ['httpApiRequestsMillion'],
    ),
    line(
      'Lambda',
      'requests',
      c.lambdaRequests,
      'requests',
      (c.lambdaRequests / 1e6) * p('lambdaRequestsMillion'),
      ['lambdaRequestsMillion'],
    ),
    line('Lambda', 'duration (Arm)', c.lambdaGbSeconds, 'GB-s', c.lambdaGbSeconds * p('lambdaArmGbSecond'), [
      'lambdaArmGbSecond',
    ]),
    line(
      'DynamoDB',
      'write request units',
      c.writeUnits,
      'WRU',
      (c.writeUnits / 1e6) * p('dynamoDbWriteUnitsMillion'),
      ['dynamoDbWriteUnitsMillion'],
    ),
    line(
      'DynamoDB',
      'read request units',
      c.readUnits,
      'RRU',
      (c.readUnits / 1e6) * p('dynamoDbReadUnitsMillion'),
      ['dynamoDbReadUnitsMillion'],
    ),
    line(
      'CloudFront',
      'viewer page, one load per viewer',
      (measured.page.bytes * plan.viewers) / GB,
      'GB',
      ((measured.page.bytes * plan.viewers) / GB) * p('cloudFrontGb') +
        ((measured.page.requests * plan.viewers) / 10_000) * p('cloudFrontHttpsRequests10k'),
      ['cloudFrontGb', 'cloudFrontHttpsRequests10k'],
    ),
    line('CloudWatch', 'logs ingested', c.logBytes / GB, 'GB', (c.logBytes / GB) * p('cloudWatchLogsGb'), [
      'cloudWatchLogsGb',
    ]),
    line(
      'CloudWatch',
      'custom metrics (prorated hourly)',
      measured.customMetrics,
      'metrics',
      ((measured.customMetrics * plan.hours) / HOURS_PER_MONTH) * p('cloudWatchMetricMonth'),
      ['cloudWatchMetricMonth'],
    ),
  ];
}

/** What the stack costs a month whether or not a show runs: the dashboard and the alarms. */
export function monthlyFixed(measured: Measured, table: PriceTable): CostLine[] {
  const p = (key: PriceKey) => table.prices[key].usd;
  return [
    {
      service: 'CloudWatch',
      item: 'dashboard',
      quantity: measured.dashboards,
      unit: 'dashboards',
      usd: measured.dashboards * p('cloudWatchDashboardMonth'),
      prices: ['cloudWatchDashboardMonth'],
    },
    {
      service: 'CloudWatch',
      item: 'alarms',
      quantity: measured.alarms,
      unit: 'alarms',
      usd: measured.alarms * p('cloudWatchAlarmMonth'),
      prices: ['cloudWatchAlarmMonth'],
    },
  ];
}

/**
 * The largest line; and, of the lines cuecast's own design decides (all but IVS video and the
 * page's delivery), the largest and their total.
 */
export function dominantLines(lines: readonly CostLine[]): {
  overall: CostLine;
  own: CostLine;
  ownTotal: number;
} {
  const largest = (list: readonly CostLine[]) => list.reduce((a, b) => (b.usd > a.usd ? b : a));
  const own = lines.filter((l) => l.service !== 'IVS' && l.service !== 'CloudFront');
  return { overall: largest(lines), own: largest(own), ownTotal: own.reduce((sum, l) => sum + l.usd, 0) };
}

/** Dollars for a table: cents above a cent, three significant figures below. */
export function dollars(usd: number): string {
  if (usd === 0) return '$0';
  return usd >= 0.01
    ? `$${usd.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 })}`
    : `$${usd.toPrecision(3)}`;
}
