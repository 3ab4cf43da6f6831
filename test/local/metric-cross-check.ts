import * as path from 'node:path';
import { CloudAssembly } from '../../local/assembly';
import type { MetricKey } from '../../local/cloudwatch/alarm-model';
import { metricId } from '../../local/cloudwatch/metric-store';
import type { LocalRuntime } from '../../local/runtime';
import { readStackModel } from '../../local/stack-model';

/**
 * What CloudWatch would hold that the local runtime does not emit: IVS's ingest metrics exist only
 * while an encoder publishes video (the alarm suites run without ffmpeg), and the stand-in does not
 * measure a stream's bitrate or frame rate (docs/local-runtime.md).
 */
export const NOT_EMITTED_LOCALLY = new Set([
  'IngestVideoBitrate',
  'IngestAudioBitrate',
  'IngestFramerate',
  'KeyframeInterval',
]);

/** Every metric the template's dashboards and alarms read by name, resolved as the runtime resolves them. */
export function metricsRead(
  runtime: LocalRuntime,
  assemblyDir = path.join(process.cwd(), 'cdk.out'),
): MetricKey[] {
  const base = 'http://127.0.0.1:1';
  const model = readStackModel(new CloudAssembly(assemblyDir), {
    region: runtime.config.region,
    httpApiBase: base,
    webSocketBase: 'ws://127.0.0.1:1',
    sqsBase: base,
    playbackUrl: () => base,
    pagesHost: '127.0.0.1:1',
    cognitoBase: base,
    functionEnv: {},
  });
  const fromAlarms = runtime.alarms.specs.flatMap((a) =>
    a.queries.flatMap((q) => (q.metric ? [q.metric] : [])),
  );
  const keys = new Map<string, MetricKey>();
  for (const { namespace, metricName, dimensions } of [...model.operations.dashboardMetrics, ...fromAlarms])
    keys.set(metricId({ namespace, metricName, dimensions }), { namespace, metricName, dimensions });
  return [...keys.values()];
}

/** The metrics read (less NOT_EMITTED_LOCALLY) that the runtime's store has no datapoint of, as ids. */
export function metricsNotEmitted(runtime: LocalRuntime, assemblyDir?: string): string[] {
  const emitted = new Set(runtime.metrics.store.keys().map(metricId));
  return metricsRead(runtime, assemblyDir)
    .filter((key) => !NOT_EMITTED_LOCALLY.has(key.metricName))
    .map(metricId)
    .filter((id) => !emitted.has(id))
    .sort();
}
