/**
 * `ops failures` and `ops redrive`: the failure queues (docs/architecture.md, "When delivery
 * fails"). What failed after its retries waits there: a fan-out job or a stream-state event,
 * as Lambda's invocation record, or an event EventBridge could not hand over. Listing leaves every
 * message in place; redriving invokes its function again, asynchronously, and deletes it once
 * Lambda took it. A redriven reveal segment that had finished sends nothing twice.
 */
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import {
  ChangeMessageVisibilityCommand,
  DeleteMessageCommand,
  type Message,
  ReceiveMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import type { Invocation } from './args';
import { CliError, deployedAws, readLocalJson, stackOutputs } from './target';

/** The stack outputs that name the failure queues, by what they hold. */
const QUEUE_OUTPUTS = {
  fanOut: 'FanOutFailuresQueueUrl',
  streamState: 'StreamStateFailuresQueueUrl',
} as const;
type QueueName = keyof typeof QUEUE_OUTPUTS;

interface OpsTarget {
  readonly sqs: SQSClient;
  readonly lambda: LambdaClient;
  readonly queues: ReadonlyArray<{ readonly name: QueueName; readonly url: string }>;
}

/** One failure waiting in a queue. */
export interface Failure {
  readonly queue: QueueName;
  readonly messageId: string;
  /** Where a redrive sends it. */
  readonly functionArn?: string;
  /** `RetriesExhausted`, `EventAgeExceeded`, or EventBridge's reason. */
  readonly condition: string;
  readonly attempts?: number;
  readonly error?: string;
  readonly failedAt?: string;
  /** The work itself: the fan-out job or the IVS event. */
  readonly payload: unknown;
}

export async function opsTarget({ target }: Invocation, env: NodeJS.ProcessEnv): Promise<OpsTarget> {
  if (target.mode === 'local') {
    const { file, json } = readLocalJson(target);
    const config = json as {
      region?: string;
      credentials?: { accessKeyId: string; secretAccessKey: string };
      sqsEndpoint?: string;
      lambdaEndpoint?: string;
      failureQueues?: Partial<Record<QueueName, string>>;
    };
    if (!config.sqsEndpoint || !config.failureQueues || !config.credentials)
      throw new CliError(`${file} names no failure queues: restart \`npm run dev\` with this version`);
    const aws = { region: config.region, credentials: config.credentials };
    return {
      sqs: new SQSClient({ ...aws, endpoint: config.sqsEndpoint }),
      lambda: new LambdaClient({ ...aws, endpoint: config.lambdaEndpoint }),
      queues: queuesFrom(config.failureQueues),
    };
  }
  const aws = deployedAws(target, env);
  const outputs = await stackOutputs(target.stack, aws.region, aws.credentials);
  return {
    sqs: new SQSClient(aws),
    lambda: new LambdaClient(aws),
    queues: queuesFrom({
      fanOut: outputs[QUEUE_OUTPUTS.fanOut],
      streamState: outputs[QUEUE_OUTPUTS.streamState],
    }),
  };
}

function queuesFrom(urls: Partial<Record<QueueName, string | undefined>>): OpsTarget['queues'] {
  const queues = (Object.keys(QUEUE_OUTPUTS) as QueueName[]).flatMap((name) => {
    const url = urls[name];
    return url ? [{ name, url }] : [];
  });
  if (queues.length === 0)
    throw new CliError('the stack has no failure queue outputs: deploy this version first');
  return queues;
}

/** Every failure in the queues, left where it is (each is hidden for a moment, then shown again). */
export async function listFailures(target: OpsTarget): Promise<Failure[]> {
  const failures: Failure[] = [];
  for (const queue of target.queues) {
    const messages = await drain(target.sqs, queue.url, 30);
    failures.push(...messages.map((m) => describe(queue.name, m)));
    // Back to visible at once, so a redrive right after finds them.
    for (const m of messages)
      await target.sqs.send(
        new ChangeMessageVisibilityCommand({
          QueueUrl: queue.url,
          ReceiptHandle: m.ReceiptHandle,
          VisibilityTimeout: 0,
        }),
      );
  }
  return failures;
}

/** Invokes each failure's function again (asynchronously) and deletes the message once Lambda took it. */
export async function redrive(target: OpsTarget): Promise<{ redriven: Failure[]; kept: Failure[] }> {
  const redriven: Failure[] = [];
  const kept: Failure[] = [];
  for (const queue of target.queues) {
    for (const message of await drain(target.sqs, queue.url, 60)) {
      const failure = describe(queue.name, message);
      if (!failure.functionArn) {
        kept.push(failure);
        continue;
      }
      const { StatusCode } = await target.lambda.send(
        new InvokeCommand({
          FunctionName: failure.functionArn,
          InvocationType: 'Event',
          Payload: Buffer.from(JSON.stringify(failure.payload)),
        }),
      );
      if (StatusCode !== 202) {
        kept.push(failure);
        continue;
      }
      await target.sqs.send(
        new DeleteMessageCommand({ QueueUrl: queue.url, ReceiptHandle: message.ReceiptHandle }),
      );
      redriven.push(failure);
    }
  }
  return { redriven, kept };
}

/** Receives until the queue shows nothing more, hiding what it got for `visibility` seconds. */
async function drain(sqs: SQSClient, url: string, visibility: number): Promise<Message[]> {
  const seen = new Map<string, Message>();
  for (;;) {
    const { Messages = [] } = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: url,
        MaxNumberOfMessages: 10,
        VisibilityTimeout: visibility,
        WaitTimeSeconds: 0,
        MessageAttributeNames: ['All'],
      }),
    );
    if (Messages.length === 0) return [...seen.values()];
    for (const m of Messages) if (m.MessageId) seen.set(m.MessageId, m);
  }
}

/** The parts of Lambda's invocation record (an `OnFailure` destination's message) read here. */
interface InvocationRecord {
  readonly timestamp?: string;
  readonly requestContext?: { functionArn?: string; condition?: string; approximateInvokeCount?: number };
  readonly requestPayload?: unknown;
  readonly responsePayload?: { errorMessage?: string };
}

/** Lambda's invocation record, or an event EventBridge could not deliver (its attributes name the target). */
function describe(queue: QueueName, message: Message): Failure {
  let body: InvocationRecord;
  try {
    body = JSON.parse(message.Body ?? '');
  } catch {
    return {
      queue,
      messageId: String(message.MessageId),
      condition: 'unreadable message',
      payload: message.Body,
    };
  }
  if (body.requestContext && 'requestPayload' in body) {
    return {
      queue,
      messageId: String(message.MessageId),
      functionArn: String(body.requestContext.functionArn).replace(/:\$LATEST$/, ''),
      condition: String(body.requestContext.condition),
      attempts: Number(body.requestContext.approximateInvokeCount),
      error: body.responsePayload?.errorMessage,
      failedAt: body.timestamp,
      payload: body.requestPayload,
    };
  }
  const attribute = (name: string) => message.MessageAttributes?.[name]?.StringValue;
  return {
    queue,
    messageId: String(message.MessageId),
    functionArn: attribute('TARGET_ARN'),
    condition: attribute('EXHAUSTED_RETRY_CONDITION') ?? attribute('ERROR_CODE') ?? 'undelivered event',
    attempts: attribute('RETRY_ATTEMPTS') === undefined ? undefined : Number(attribute('RETRY_ATTEMPTS')) + 1,
    error: attribute('ERROR_MESSAGE'),
    payload: body,
  };
}

/** One line per failure: where, what, why. */
export function renderFailures(failures: readonly Failure[]): string {
  if (failures.length === 0) return 'No failures: both failure queues are empty.\n';
  const lines = failures.map((f) => {
    const job = f.payload as { kind?: string; quizId?: string; segment?: number; 'detail-type'?: string };
    const what = job.kind
      ? `${job.kind} job${job.quizId ? ` for quiz ${job.quizId}` : ''}${job.segment === undefined ? '' : `, segment ${job.segment}`}`
      : (job['detail-type'] ?? 'message');
    const tries =
      f.attempts === undefined ? '' : ` after ${f.attempts} attempt${f.attempts === 1 ? '' : 's'}`;
    return `${f.queue}: ${what}: ${f.condition}${tries}${f.error ? ` (${f.error})` : ''}`;
  });
  return `${failures.length} failure${failures.length === 1 ? '' : 's'} waiting:\n${lines.map((l) => `  ${l}`).join('\n')}\nRe-send them with: npm run host -- ops redrive\n`;
}
