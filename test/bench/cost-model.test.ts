import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  accessLogLineBytes,
  type Counts,
  countsOf,
  dollars,
  dominantLines,
  LOG_EVENT_OVERHEAD_BYTES,
  type Measured,
  perQuiz,
  showCost,
  showCounts,
  ZERO,
} from '../../bench/cost-model';
import { loadPrices } from '../../bench/prices';
import { emptyUsage } from '../../local/usage';

const PRICES = path.join(__dirname, '..', '..', 'bench', 'prices.json');
const table = loadPrices(PRICES);
const counts = (partial: Partial<Counts>): Counts => ({ ...ZERO, ...partial });

const measured: Measured = {
  perViewerSession: counts({ lambdaRequests: 4, messages: 4, writeUnits: 2, readUnits: 1 }),
  perPing: counts({ lambdaRequests: 1, messages: 2 }),
  quiz: {
    fixed: counts({ lambdaRequests: 26, httpRequests: 22, writeUnits: 40 }),
    perViewer: counts({ lambdaRequests: 0.8, messages: 2.6, writeUnits: 1.6, readUnits: 0.5 }),
  },
  customMetrics: 10,
  page: { bytes: 1024 ** 3 / 1000, requests: 10 },
  alarms: 19,
  dashboards: 1,
};
const plan = { viewers: 1000, hours: 1, quizzesPerHour: 30, pingsPerViewerHour: 60 };

describe('the price table', () => {
  it('is dated, for one region, and names a source page for every price', () => {
    expect(table.region).toBe('us-east-1');
    expect(table.checked).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    for (const price of Object.values(table.prices))
      expect(price.source).toMatch(/^https:\/\/aws\.amazon\.com\//);
  });

  it('refuses a table with a price missing, naming it', () => {
    const raw = JSON.parse(fs.readFileSync(PRICES, 'utf8'));
    delete raw.prices.lambdaArmGbSecond;
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'cuecast-prices-')), 'prices.json');
    fs.writeFileSync(file, JSON.stringify(raw));
    expect(() => loadPrices(file)).toThrow(/prices\.lambdaArmGbSecond/);
    fs.rmSync(path.dirname(file), { recursive: true });
  });
});

describe('the cost of a show', () => {
  it('adds the sessions, the pings and the quizzes of the hour', () => {
    const c = showCounts(measured, plan);
    // 1,000 sessions × 4 + 60 pings × 1,000 × 2 + 30 quizzes × (0 + 2.6 × 1,000)
    expect(c.messages).toBeCloseTo(4_000 + 120_000 + 78_000);
    expect(c.lambdaRequests).toBeCloseTo(4_000 + 60_000 + 30 * (26 + 800));
    expect(c.httpRequests).toBe(30 * 22);
    expect(c.writeUnits).toBeCloseTo(2_000 + 30 * (40 + 1_600));
  });

  it('prices each line as its quantity times the table price', () => {
    const lines = showCost(measured, plan, table);
    const line = (item: string) => lines.find((l) => l.item === item);
    expect(line('video output (Full HD)')?.usd).toBeCloseTo(1000 * table.prices.ivsOutputFullHdHour.usd);
    expect(line('video input')?.usd).toBeCloseTo(table.prices.ivsInputStandardHour.usd);
    expect(line('WebSocket messages')?.usd).toBeCloseTo(
      (202_000 / 1e6) * table.prices.webSocketMessagesMillion.usd,
    );
    expect(line('WebSocket connection minutes')?.quantity).toBe(60_000);
    expect(line('viewer page, one load per viewer')?.quantity).toBeCloseTo(1);
    expect(line('custom metrics (prorated hourly)')?.usd).toBeCloseTo(
      (10 / 730) * table.prices.cloudWatchMetricMonth.usd,
    );
    expect(new Set(lines.map((l) => l.service))).toEqual(
      new Set(['IVS', 'API Gateway', 'Lambda', 'DynamoDB', 'CloudFront', 'CloudWatch']),
    );
  });

  it('names the largest line, and the largest of the lines cuecast decides', () => {
    const lines = showCost(measured, plan, table);
    const { overall, own, ownTotal } = dominantLines(lines);
    expect(overall.item).toBe('video output (Full HD)');
    expect(own.item).toBe('WebSocket messages');
    const outside = lines.filter((l) => l.service === 'IVS' || l.service === 'CloudFront');
    expect(ownTotal).toBeCloseTo(
      lines.reduce((s, l) => s + l.usd, 0) - outside.reduce((s, l) => s + l.usd, 0),
    );
  });
});

describe('from usage to counts', () => {
  it('splits a quiz into what it costs whatever the audience and what each viewer adds', () => {
    const split = perQuiz(
      { viewers: 100, counts: counts({ messages: 260, httpRequests: 22 }) },
      { viewers: 400, counts: counts({ messages: 1040, httpRequests: 22 }) },
    );
    expect(split.perViewer).toMatchObject({ messages: 2.6, httpRequests: 0 });
    expect(split.fixed).toMatchObject({ messages: 0, httpRequests: 22 });
    expect(() => perQuiz({ viewers: 5, counts: ZERO }, { viewers: 5, counts: ZERO })).toThrow(/larger/);
  });

  it('turns busy milliseconds into GB-seconds at each function memory, and counts every logged byte', () => {
    const usage = emptyUsage();
    usage.functions.FanOut = { invocations: 4, busyMs: 1000, logBytes: 100, logEvents: 2 };
    usage.httpRequests = 3;
    usage.webSocketRouteEvents = 5;
    usage.messageUnitsIn = 7;
    usage.messageUnitsOut = 8;
    const c = countsOf(usage, () => 2048, { http: 10, webSocket: 20 });
    expect(c.lambdaGbSeconds).toBe(2);
    expect(c.messages).toBe(15);
    expect(c.logBytes).toBeGreaterThan(100 + 2 * LOG_EVENT_OVERHEAD_BYTES + 3 * 10 + 5 * 20);
  });

  it('sizes an access-log line from the stage format', () => {
    expect(accessLogLineBytes('$context.status $context.requestId')).toBe(
      Buffer.byteLength('200 SBd1SjbAIAMEVqA=') + LOG_EVENT_OVERHEAD_BYTES,
    );
  });

  it('prints dollars in cents, and small amounts to three figures', () => {
    expect(dollars(15000)).toBe('$15,000.00');
    expect(dollars(0.2)).toBe('$0.20');
    expect(dollars(0.000661)).toBe('$0.000661');
    expect(dollars(0)).toBe('$0');
  });
});
