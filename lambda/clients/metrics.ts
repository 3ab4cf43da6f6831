import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { METRICS_NAMESPACE } from '../metric-names';

/**
 * One metrics buffer per container (Powertools Metrics). Nothing calls CloudWatch: metrics are
 * written as embedded metric format lines in the function's log, which CloudWatch turns into
 * metrics. The handler skeletons flush the buffer at the end of each invocation.
 */
const metrics = new Metrics({ namespace: METRICS_NAMESPACE });

/** Adds to a count for this invocation. */
export function count(name: string, value = 1): void {
  metrics.addMetric(name, MetricUnit.Count, value);
}

/** One count with a dimension of its own (a refusal's code or reason), written at once. */
export function countBy(name: string, dimension: string, value: string): void {
  const single = metrics.singleMetric();
  single.addDimension(dimension, value);
  single.addMetric(name, MetricUnit.Count, 1);
}

export function milliseconds(name: string, ms: number): void {
  metrics.addMetric(name, MetricUnit.Milliseconds, ms);
}

/** Writes what this invocation recorded; nothing at all (not even a warning) when it recorded nothing. */
export function flushMetrics(): void {
  if (metrics.hasStoredMetrics()) metrics.publishStoredMetrics();
}
