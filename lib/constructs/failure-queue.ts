import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';

export interface FailureQueueProps {
  /** What fails into this queue, for the queue's description in the console and the docs. */
  readonly holds: string;
  /**
   * How long a failure waits to be looked at or redriven (`npm run host -- ops failures`).
   * @default 14 days, SQS's longest
   */
  readonly retention?: Duration;
}

/**
 * The place where work that failed after its retries ends up, so it is never gone without trace:
 * an SQS queue, encrypted at rest (SQS-managed keys), refusing any request not sent over TLS,
 * kept 14 days. The asynchronous fan-out's `OnFailure` destination and the stream-state rule's
 * dead-letter queue are each one.
 */
export class FailureQueue extends Construct {
  readonly queue: sqs.Queue;

  constructor(scope: Construct, id: string, props: FailureQueueProps) {
    super(scope, id);
    this.queue = new sqs.Queue(this, 'Queue', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: props.retention ?? Duration.days(14),
      // Failures are evidence: a stack deletion should not silently drop them mid-investigation.
      removalPolicy: RemovalPolicy.RETAIN,
    });
    Validations.of(this.queue).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason: `This queue is itself the failure destination (${props.holds}); a queue for its own failures would never be read. Nothing consumes it automatically: ops failures lists it and ops redrive re-sends it.`,
    });
  }
}
