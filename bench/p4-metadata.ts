import { HostApiError, HostClient } from '../client/host-client';
import { NodeSha256 } from '../client/sha256-node';
import type { LocalRuntime } from '../local/runtime';
import { maxInWindow } from './stats';

/**
 * P4: ten concurrent hosts offer 50 events/s for 10 s through the real HTTP API. Every event
 * must be delivered or answered 429 with Retry-After; at most 5 PutMetadata per rolling second
 * may reach the IVS stand-in; no IVS throttle may reach a host as a 5xx.
 */
export interface MetadataResult {
  offered: number;
  delivered: number;
  rateLimited: number;
  rateLimitedWithRetryAfter: number;
  serverErrors: number;
  otherErrors: number;
  deliveredAtIvs: number;
  maxPerRollingSecondAtIvs: number;
  ivsThrottles: number;
  silentlyDropped: number;
}

export async function measureMetadata(
  runtime: LocalRuntime,
  hosts: number,
  perHostPerSecond: number,
  seconds: number,
): Promise<MetadataResult> {
  const client = new HostClient({
    apiUrl: runtime.config.httpApiUrl,
    region: runtime.config.region,
    credentials: runtime.config.credentials,
    sha256: NodeSha256 as unknown as ConstructorParameters<typeof HostClient>[0]['sha256'],
  });
  const cuesBefore = runtime.ivs.metadata().length;
  const throttlesBefore = runtime.ivs.throttled;
  const delivered = new Set<string>();
  const result = {
    offered: 0,
    rateLimited: 0,
    rateLimitedWithRetryAfter: 0,
    serverErrors: 0,
    otherErrors: 0,
  };
  const intervalMs = 1000 / perHostPerSecond;
  const started = Date.now();
  await Promise.all(
    Array.from({ length: hosts }, async (_, host) => {
      const pending: Promise<void>[] = [];
      for (let n = 0; Date.now() - started < seconds * 1000; n++) {
        const due = started + n * intervalMs + (host * intervalMs) / hosts;
        await new Promise((resolve) => setTimeout(resolve, Math.max(0, due - Date.now())));
        result.offered++;
        pending.push(
          client.sendEvent('bench', { host, n }).then(
            (sent) => void delivered.add(sent.eventId),
            (error) => {
              if (error instanceof HostApiError && error.status === 429) {
                result.rateLimited++;
                if ((error.retryAfterSeconds ?? 0) >= 1) result.rateLimitedWithRetryAfter++;
              } else if (error instanceof HostApiError && error.status >= 500) result.serverErrors++;
              else result.otherErrors++;
            },
          ),
        );
      }
      await Promise.all(pending);
    }),
  );
  const cues = runtime.ivs.metadata().slice(cuesBefore);
  const atIvs = new Set(cues.map((c) => JSON.parse(c.metadata).eventId as string));
  return {
    ...result,
    delivered: delivered.size,
    deliveredAtIvs: atIvs.size,
    maxPerRollingSecondAtIvs: maxInWindow(
      cues.map((c) => Date.parse(c.receivedAt)),
      1000,
    ),
    ivsThrottles: runtime.ivs.throttled - throttlesBefore,
    silentlyDropped:
      result.offered -
      delivered.size -
      result.rateLimited -
      result.serverErrors -
      result.otherErrors +
      [...delivered].filter((id) => !atIvs.has(id)).length,
  };
}
