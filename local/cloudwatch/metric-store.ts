import type { MetricKey } from './alarm-model';
import type { Series } from './metric-math';

/**
 * The local runtime's CloudWatch metrics: datapoints by metric (namespace, name and exact
 * dimensions, as CloudWatch keys them), and the statistics an alarm or a dashboard reads per
 * period. Fed by the functions' EMF log lines and by what the stand-ins observe. Bounded: a
 * metric keeps its last MAX_POINTS datapoints, and at most MAX_METRICS metrics are kept (an EMF
 * line can name any dimension value, so a function writing unbounded values cannot grow it).
 */
export const MAX_POINTS = 50_000;
export const MAX_METRICS = 5_000;

interface Point {
  readonly at: number;
  readonly value: number;
}

/** CloudWatch's key of a metric: dimensions in name order. */
export function metricId(key: MetricKey): string {
  const dims = Object.keys(key.dimensions)
    .sort()
    .map((name) => `${name}=${key.dimensions[name]}`);
  return [key.namespace, key.metricName, ...dims].join('|');
}

/** One statistic of `values`: Sum, SampleCount, Average, Minimum, Maximum, or pNN (nearest rank). */
export function statistic(stat: string, values: readonly number[]): number | undefined {
  if (values.length === 0) return undefined;
  switch (stat) {
    case 'Sum':
      return values.reduce((a, b) => a + b, 0);
    case 'SampleCount':
      return values.length;
    case 'Average':
      return values.reduce((a, b) => a + b, 0) / values.length;
    case 'Minimum':
      return Math.min(...values);
    case 'Maximum':
      return Math.max(...values);
  }
  const percentile = /^p(\d{1,2}(?:\.\d+)?|100)$/.exec(stat);
  if (!percentile) throw new Error(`the statistic ${stat} is not supported locally`);
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.ceil((Number(percentile[1]) / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1];
}

export class MetricStore {
  private readonly metrics = new Map<string, { key: MetricKey; points: Point[] }>();
  /** Datapoints refused because MAX_METRICS was reached. */
  dropped = 0;

  put(key: MetricKey, at: number, value: number): void {
    if (!Number.isFinite(value)) return;
    const id = metricId(key);
    let metric = this.metrics.get(id);
    if (!metric) {
      if (this.metrics.size >= MAX_METRICS) {
        this.dropped++;
        return;
      }
      metric = { key, points: [] };
      this.metrics.set(id, metric);
    }
    metric.points.push({ at, value });
    if (metric.points.length > MAX_POINTS) metric.points.splice(0, metric.points.length - MAX_POINTS);
  }

  /** Every metric with at least one datapoint (for the cross-check of what a dashboard reads). */
  keys(): MetricKey[] {
    return [...this.metrics.values()].map((m) => m.key);
  }

  /** `stat` of `key` over each period of `periodSeconds` starting at `starts`; a period without data has no point. */
  query(key: MetricKey, stat: string, periodSeconds: number, starts: readonly number[]): Series {
    const points = this.metrics.get(metricId(key))?.points ?? [];
    const out = new Map<number, number>();
    for (const start of starts) {
      const end = start + periodSeconds * 1000;
      const value = statistic(
        stat,
        points.filter((p) => p.at >= start && p.at < end).map((p) => p.value),
      );
      if (value !== undefined) out.set(start, value);
    }
    return out;
  }

  /**
   * Takes one embedded metric format line (a function's log line, as CloudWatch Logs would turn
   * it into metrics): each metric under each dimension set, its value (or values) from the line's
   * own fields. Returns how many datapoints it stored; a line that is not EMF stores none.
   */
  putEmf(line: string): number {
    if (!line.includes('"_aws"')) return 0;
    let doc: Record<string, unknown>;
    try {
      doc = JSON.parse(line.slice(line.indexOf('{')));
    } catch {
      return 0;
    }
    const meta = doc._aws as
      | {
          Timestamp?: number;
          CloudWatchMetrics?: Array<{
            Namespace: string;
            Dimensions: string[][];
            Metrics: Array<{ Name: string }>;
          }>;
        }
      | undefined;
    if (!meta?.CloudWatchMetrics || typeof meta.Timestamp !== 'number') return 0;
    let stored = 0;
    for (const directive of meta.CloudWatchMetrics) {
      for (const set of directive.Dimensions ?? [[]]) {
        const dimensions: Record<string, string> = {};
        for (const name of set) if (typeof doc[name] === 'string') dimensions[name] = doc[name] as string;
        if (Object.keys(dimensions).length !== set.length) continue;
        for (const { Name } of directive.Metrics) {
          const raw = doc[Name];
          for (const value of Array.isArray(raw) ? raw : [raw]) {
            if (typeof value !== 'number') continue;
            this.put({ namespace: directive.Namespace, metricName: Name, dimensions }, meta.Timestamp, value);
            stored++;
          }
        }
      }
    }
    return stored;
  }
}
