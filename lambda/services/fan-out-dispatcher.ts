import { InvokeCommand } from '@aws-sdk/client-lambda';
import { lambdaClient } from '../clients/lambda';
import { logger } from '../clients/logger';
import type { FanOutJob, FanOutWork } from '../domain/fan-out-job';

/**
 * Hands a broadcast to the fan-out function, one asynchronous invocation per scan segment,
 * so a large audience is split across invocations and the caller (reveal, an HTTP request
 * with a 30 s limit) returns at once. Returns how many segments could not be handed over;
 * it never throws, since the timed-metadata cue is the source of truth and has already gone.
 */
export class FanOutDispatcher {
  constructor(
    private readonly functionName: string,
    private readonly segments: number,
  ) {}

  /** Dispatches every segment, or only `segments` (a retried reveal repairing a crashed fan-out). */
  async dispatch(work: FanOutWork, segments?: readonly number[]): Promise<number> {
    const chosen = segments ?? Array.from({ length: this.segments }, (_, segment) => segment);
    const results = await Promise.allSettled(
      chosen.map((segment) => {
        const job = { ...work, segment, totalSegments: this.segments } as FanOutJob;
        return lambdaClient.send(
          new InvokeCommand({
            FunctionName: this.functionName,
            InvocationType: 'Event',
            Payload: Buffer.from(JSON.stringify(job)),
          }),
        );
      }),
    );
    const failed = results.filter((r) => r.status === 'rejected');
    for (const failure of failed)
      logger.error('fan-out dispatch failed', { reason: (failure as PromiseRejectedResult).reason });
    return failed.length;
  }
}
