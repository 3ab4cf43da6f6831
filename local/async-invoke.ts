import { randomUUID } from 'node:crypto';
import { FaultPlan } from './faults';
import type { InvokeResult, LambdaHost, LocalFunction } from './lambda-host';
import type { SqsStandIn } from './sqs';

/** A function's `AWS::Lambda::EventInvokeConfig`, or Lambda's defaults without one. */
export interface AsyncInvokeConfig {
  readonly maxRetries: number;
  readonly maxEventAgeSeconds: number;
  /** The `OnFailure` destination: an SQS queue ARN of the template. */
  readonly onFailureArn?: string;
}

/** Lambda's defaults for an asynchronous invocation: 2 retries, events kept 6 hours. */
export const LAMBDA_ASYNC_DEFAULTS: AsyncInvokeConfig = { maxRetries: 2, maxEventAgeSeconds: 6 * 3600 };

/** Lambda waits about 1 minute before the first retry and 2 before the second. */
export const LAMBDA_RETRY_DELAYS_MS: readonly number[] = [60_000, 120_000];

/** An asynchronous invocation, as fault rules see it. */
export interface AsyncInvocation {
  readonly logicalId: string;
  readonly event: unknown;
}

/**
 * Lambda's asynchronous invocation on loopback (`InvocationType: Event`, and EventBridge's
 * deliveries): the function runs in the background; a failure is retried as its config says,
 * after Lambda's delays, unless the event has grown older than its maximum age; and what still
 * fails goes to its `OnFailure` queue as Lambda's invocation record. Without a destination it is
 * dropped, as on AWS, and the log says so.
 */
export class AsyncInvoker {
  /** Injected failures (tests): `fail` makes an attempt fail as a crashed function would. */
  readonly faults = new FaultPlan<AsyncInvocation, 'fail'>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private stopped = false;

  constructor(
    private readonly host: LambdaHost,
    private readonly configs: ReadonlyMap<string, AsyncInvokeConfig>,
    private readonly sqs: SqsStandIn | undefined,
    private readonly log: (line: string) => void,
    private readonly retryDelaysMs: readonly number[] = LAMBDA_RETRY_DELAYS_MS,
  ) {}

  /** Starts the invocation in the background (the caller has its 202 already). */
  invoke(fn: LocalFunction, event: unknown): void {
    void this.run(fn, event, randomUUID(), Date.now());
  }

  stop(): void {
    this.stopped = true;
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
  }

  private async run(fn: LocalFunction, event: unknown, requestId: string, firstAt: number): Promise<void> {
    const config = this.configs.get(fn.arn) ?? LAMBDA_ASYNC_DEFAULTS;
    for (let attempt = 1; !this.stopped; attempt++) {
      const outcome = await this.attempt(fn, event);
      const result = outcome.ok ? 'ok' : `failed (${outcome.error?.message})`;
      this.log(
        `[lambda] async ${fn.logicalId} attempt ${attempt} ${result} ${outcome.ms}ms ${outcome.ok ? JSON.stringify(outcome.result ?? null).slice(0, 120) : ''}`,
      );
      // Stopped meanwhile: no retry may be scheduled, or its timer would outlive the runtime.
      if (outcome.ok || this.stopped) return;
      const delay = this.retryDelaysMs[Math.min(attempt - 1, this.retryDelaysMs.length - 1)] ?? 0;
      const tooOld = (Date.now() + delay - firstAt) / 1000 > config.maxEventAgeSeconds;
      if (attempt > config.maxRetries || tooOld) {
        const condition = attempt > config.maxRetries ? 'RetriesExhausted' : 'EventAgeExceeded';
        return this.fail(fn, config, { requestId, event, attempt, condition, outcome });
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          this.timers.delete(timer);
          resolve();
        }, delay);
        this.timers.add(timer);
      });
    }
  }

  private async attempt(fn: LocalFunction, event: unknown): Promise<InvokeResult> {
    if (this.faults.take({ logicalId: fn.logicalId, event }) === 'fail') {
      const crashed: InvokeResult = {
        ok: false,
        ms: 0,
        error: { name: 'Runtime.ExitError', message: 'the function crashed (injected)' },
      };
      // Lambda counts it in the function's Errors, as any crash.
      this.host.failedOutside(fn, crashed);
      return crashed;
    }
    return this.host.invoke(fn, event);
  }

  private fail(
    fn: LocalFunction,
    config: AsyncInvokeConfig,
    failure: { requestId: string; event: unknown; attempt: number; condition: string; outcome: InvokeResult },
  ): void {
    if (!config.onFailureArn || !this.sqs) {
      this.log(
        `[lambda] async ${fn.logicalId} gave up (${failure.condition}); no failure destination: dropped`,
      );
      return;
    }
    // Lambda's invocation record for an OnFailure destination.
    const record = {
      version: '1.0',
      timestamp: new Date().toISOString(),
      requestContext: {
        requestId: failure.requestId,
        functionArn: `${fn.arn}:$LATEST`,
        condition: failure.condition,
        approximateInvokeCount: failure.attempt,
      },
      requestPayload: failure.event,
      responseContext: { statusCode: 200, executedVersion: '$LATEST', functionError: 'Unhandled' },
      responsePayload: {
        errorType: failure.outcome.error?.name ?? 'Error',
        errorMessage: failure.outcome.error?.message ?? 'failed',
      },
    };
    const sent = this.sqs.enqueue(config.onFailureArn, JSON.stringify(record));
    this.log(
      `[lambda] async ${fn.logicalId} gave up (${failure.condition}) -> ${sent ? 'failure queue' : `no queue ${config.onFailureArn}`}`,
    );
  }
}
