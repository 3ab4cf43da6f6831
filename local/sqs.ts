import { createHash, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { close, guarded, listen, readBody, sendJson } from './http-util';
import { type LocalSigning, SigV4Verifier, sendSignatureError } from './sigv4';

/** A queue of the template: its name, ARN and local URL. */
export interface LocalQueue {
  readonly name: string;
  readonly arn: string;
  readonly url: string;
}

interface Message {
  readonly id: string;
  readonly body: string;
  readonly md5: string;
  readonly sentAt: number;
  visibleAt: number;
  receives: number;
  receipt?: string;
}

/** SQS's longest wait for ReceiveMessage, in seconds; locally it answers at once. */
const MAX_BATCH = 10;
const ACTIONS = [
  'SendMessage',
  'ReceiveMessage',
  'DeleteMessage',
  'ChangeMessageVisibility',
  'GetQueueAttributes',
];
const DEFAULT_VISIBILITY_SECONDS = 30;

/**
 * SQS on loopback, for the template's queues (the failure queues): `SendMessage`,
 * `ReceiveMessage` (visibility timeout, receive count), `DeleteMessage` and `GetQueueAttributes`,
 * over the JSON 1.0 protocol the SDK speaks, SigV4-signed for `sqs`, with the MD5 of each body
 * the SDK checks. The local Lambda and EventBridge put their failures here in process.
 */
export class SqsStandIn {
  private server?: Server;
  private readonly queues = new Map<string, { queue: LocalQueue; messages: Message[] }>();
  private readonly verifier: SigV4Verifier;

  constructor(
    private readonly port: number,
    queues: readonly LocalQueue[],
    signing: LocalSigning,
    private readonly log: (line: string) => void,
  ) {
    this.verifier = new SigV4Verifier('sqs', signing);
    for (const queue of queues) this.queues.set(queue.name, { queue, messages: [] });
  }

  get endpoint(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    this.server = createServer(guarded((req, res) => this.handle(req, res), sqsErrorReply));
    await listen(this.server, this.port, 'SQS stand-in');
  }

  async stop(): Promise<void> {
    if (this.server) await close(this.server);
  }

  /** Puts a message on the queue with this ARN, as a Lambda destination or a dead-letter queue does. */
  enqueue(queueArn: string, body: string): boolean {
    const entry = [...this.queues.values()].find((q) => q.queue.arn === queueArn);
    if (!entry) return false;
    entry.messages.push(newMessage(body));
    this.log(`[sqs] ${entry.queue.name} <- ${body.length} B`);
    return true;
  }

  /** The queue at this URL (by its name, the URL's last part). */
  queueFor(url: string): LocalQueue | undefined {
    return this.queues.get(url.split('/').pop() ?? '')?.queue;
  }

  /** The bodies on a queue now, visible or not (tests). */
  bodies(queueArn: string): string[] {
    return [...this.queues.values()].find((q) => q.queue.arn === queueArn)?.messages.map((m) => m.body) ?? [];
  }

  /** Each queue's messages visible now (CloudWatch's `ApproximateNumberOfMessagesVisible`). */
  visibleCounts(now = Date.now()): Array<{ readonly name: string; readonly visible: number }> {
    return [...this.queues.values()].map(({ queue, messages }) => ({
      name: queue.name,
      visible: messages.filter((m) => m.visibleAt <= now).length,
    }));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await readBody(req, 1024 * 1024);
    const verdict = this.verifier.verify(req, body);
    if (!verdict.ok) return sendSignatureError(res, verdict, 'json');
    const target = String(req.headers['x-amz-target'] ?? '');
    const action = target.startsWith('AmazonSQS.') ? target.slice('AmazonSQS.'.length) : '';
    let input: Record<string, unknown>;
    try {
      input = JSON.parse(body.toString('utf8') || '{}');
    } catch {
      return sendSqsError(res, 'InvalidParameterValue', 'the body is not JSON');
    }
    if (req.method !== 'POST' || !ACTIONS.includes(action))
      return sendSqsError(res, 'UnsupportedOperation', `${target || req.method} is not supported locally`);
    const name = typeof input.QueueUrl === 'string' ? input.QueueUrl.split('/').pop() : undefined;
    const entry = name ? this.queues.get(name) : undefined;
    if (!entry) return sendSqsError(res, 'QueueDoesNotExist', 'The specified queue does not exist.');
    const { messages } = entry;
    const now = Date.now();
    switch (action) {
      case 'SendMessage': {
        if (typeof input.MessageBody !== 'string' || input.MessageBody === '')
          return sendSqsError(res, 'InvalidParameterValue', 'MessageBody is required');
        const message = newMessage(input.MessageBody);
        messages.push(message);
        return sendJson(res, 200, { MessageId: message.id, MD5OfMessageBody: message.md5 });
      }
      case 'ReceiveMessage': {
        const max = Number(input.MaxNumberOfMessages ?? 1);
        if (!Number.isInteger(max) || max < 1 || max > MAX_BATCH)
          return sendSqsError(res, 'InvalidParameterValue', 'MaxNumberOfMessages must be from 1 to 10');
        const visibility = Number(input.VisibilityTimeout ?? DEFAULT_VISIBILITY_SECONDS);
        const taken = messages.filter((m) => m.visibleAt <= now).slice(0, max);
        for (const m of taken) {
          m.receives++;
          m.visibleAt = now + visibility * 1000;
          m.receipt = `${m.id}#${randomUUID()}`;
        }
        return sendJson(res, 200, {
          Messages: taken.map((m) => ({
            MessageId: m.id,
            ReceiptHandle: m.receipt,
            MD5OfBody: m.md5,
            Body: m.body,
            Attributes: { ApproximateReceiveCount: String(m.receives), SentTimestamp: String(m.sentAt) },
          })),
        });
      }
      case 'ChangeMessageVisibility': {
        const message = messages.find((m) => m.receipt !== undefined && m.receipt === input.ReceiptHandle);
        if (!message) return sendSqsError(res, 'ReceiptHandleIsInvalid', 'The receipt handle is not valid.');
        message.visibleAt = now + Number(input.VisibilityTimeout ?? 0) * 1000;
        return sendJson(res, 200, {});
      }
      case 'DeleteMessage': {
        const index = messages.findIndex((m) => m.receipt !== undefined && m.receipt === input.ReceiptHandle);
        if (index < 0) return sendSqsError(res, 'ReceiptHandleIsInvalid', 'The receipt handle is not valid.');
        messages.splice(index, 1);
        return sendJson(res, 200, {});
      }
      default: {
        const visible = messages.filter((m) => m.visibleAt <= now).length;
        return sendJson(res, 200, {
          Attributes: {
            QueueArn: entry.queue.arn,
            ApproximateNumberOfMessages: String(visible),
            ApproximateNumberOfMessagesNotVisible: String(messages.length - visible),
          },
        });
      }
    }
  }
}

function newMessage(body: string): Message {
  return {
    id: randomUUID(),
    body,
    md5: createHash('md5').update(body, 'utf8').digest('hex'),
    sentAt: Date.now(),
    visibleAt: 0,
    receives: 0,
  };
}

/** An SQS error as the JSON protocol answers it: `__type` and the legacy query code. */
function sendSqsError(res: ServerResponse, code: string, message: string, status = 400): void {
  const queryCode = code === 'QueueDoesNotExist' ? 'AWS.SimpleQueueService.NonExistentQueue' : code;
  sendJson(
    res,
    status,
    { __type: `com.amazonaws.sqs#${code}`, message },
    {
      'x-amzn-query-error': `${queryCode};${status < 500 ? 'Sender' : 'Receiver'}`,
    },
  );
}

const sqsErrorReply = (res: ServerResponse, status: number, message: string) =>
  sendSqsError(res, status < 500 ? 'InvalidParameterValue' : 'InternalError', message, status);
