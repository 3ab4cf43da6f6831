import {
  type CostLine,
  type Counts,
  dollars,
  dominantLines,
  monthlyFixed,
  type ShowPlan,
  showCost,
} from './cost-model';
import type { CostMeasurement } from './p7-cost';
import { loadPrices, type PriceTable } from './prices';

/** The show the issue prices: one hour, a quiz every 2 minutes, the page's ping a minute. */
export const AUDIENCES = [1_000, 10_000, 100_000] as const;
const plan = (viewers: number): ShowPlan => ({
  viewers,
  hours: 1,
  quizzesPerHour: 30,
  pingsPerViewerHour: 60,
});

const MARKS: Record<PriceTable['prices'][keyof PriceTable['prices']]['checked'], string> = {
  page: '',
  secondary: ' ‡',
  unverified: ' †',
};

const round = (n: number) => (n >= 100 ? Math.round(n) : Number(n.toPrecision(3)));
const units = (c: Counts) =>
  Object.fromEntries(Object.entries(c).map(([key, value]) => [key, round(value)])) as Record<
    keyof Counts,
    number
  >;

export interface CostReport {
  readonly pricesChecked: string;
  readonly region: string;
  readonly shows: Array<{ viewers: number; lines: CostLine[]; total: number; perViewerHour: number }>;
  readonly dominant: { overall: string; own: string };
}

/** Prints P7: the measured units, then each line at each audience, totals, and what dominates. */
export function printCost(result: CostMeasurement, pricesFile: string): CostReport {
  const prices = loadPrices(pricesFile);
  const { measured } = result;
  console.log(
    `  measured at ${result.audiences[0]} and ${result.audiences[1]} viewers; units (messages in 32 KB units, both ways):`,
  );
  console.table({
    'per viewer: connect, sync, ping, disconnect': units(measured.perViewerSession),
    'per viewer: each later ping': units(measured.perPing),
    'per quiz, whatever the audience': units(measured.quiz.fixed),
    'per quiz, per viewer (80% answering)': units(measured.quiz.perViewer),
  });
  console.log(
    `  custom metrics: ${measured.customMetrics}; viewer page: ${Math.round(measured.page.bytes / 1024)} KB in ${measured.page.requests} requests`,
  );

  const shows = AUDIENCES.map((viewers) => {
    const lines = showCost(measured, plan(viewers), prices);
    const total = lines.reduce((sum, line) => sum + line.usd, 0);
    return { viewers, lines, total, perViewerHour: total / viewers };
  });
  const mark = (line: CostLine) =>
    line.prices
      .map((key) => MARKS[prices.prices[key].checked])
      .sort()
      .at(-1) ?? '';
  const rows: Record<string, Record<string, string>> = {};
  for (const [i, line] of shows[0].lines.entries()) {
    rows[`${line.service}: ${line.item}${mark(line)}`] = Object.fromEntries(
      shows.map((show) => [`${show.viewers.toLocaleString('en-US')} viewers`, dollars(show.lines[i].usd)]),
    );
  }
  rows.total = Object.fromEntries(
    shows.map((s) => [`${s.viewers.toLocaleString('en-US')} viewers`, dollars(s.total)]),
  );
  rows['per viewer-hour'] = Object.fromEntries(
    shows.map((s) => [`${s.viewers.toLocaleString('en-US')} viewers`, dollars(s.perViewerHour)]),
  );
  console.log(
    `P7 a one-hour show, a quiz every 2 minutes, 80% answering (${prices.region} prices of ${prices.checked}):`,
  );
  console.table(rows);

  const largest = shows[shows.length - 1];
  const { overall, own, ownTotal } = dominantLines(largest.lines);
  const share = (line: CostLine) => `${((line.usd / largest.total) * 100).toFixed(1)}%`;
  const dominant = {
    overall: `${overall.service} ${overall.item}: ${share(overall)} of the total`,
    own: `${own.service} ${own.item}: ${dollars(own.usd)} of the ${dollars(ownTotal)} that cuecast's own design decides`,
  };
  console.log(`  dominant line at ${largest.viewers.toLocaleString('en-US')} viewers: ${dominant.overall}`);
  console.log(`  dominant line of cuecast's own (all but IVS video and the page): ${dominant.own}`);
  const fixed = monthlyFixed(measured, prices);
  console.log(
    `  whether or not a show runs, a month: ${fixed.map((l) => `${l.item} × ${l.quantity} ${dollars(l.usd)}`).join(', ')}`,
  );
  console.log(
    '  ‡ price quoted from the AWS page by a third party; † not verified offline: check the page named in bench/prices.json\n',
  );
  return { pricesChecked: prices.checked, region: prices.region, shows, dominant };
}
