import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { ENV } from '../lambda/env-names';
import type { LocalRuntime } from '../local/runtime';

/**
 * P3: DynamoDB requests per accepted answer, counted by a middleware on the handler's own
 * client (not by reading the code), over a burst of answers against dynalite; and the most
 * writes any one partition key took.
 */
export interface AnswerPathResult {
  answers: number;
  accepted: number;
  writesPerAccepted: number;
  readsPerAccepted: number;
  consistentReads: number;
  maxWritesOneKey: number;
  distinctWriteKeys: number;
  answersPerSecond: number;
  /** The reveal's fence: writes to seal the quiz's 32 tally shards, and whether they summed to every accepted answer. */
  sealWrites: number;
  sealedTotalMatches: boolean;
  /** Answers that read the quiz open but counted after the seal: refused, at this many writes each. */
  refusedAtSeal: number;
  writesPerRefusedAtSeal: number;
}

const WRITES = new Set([
  'PutItemCommand',
  'UpdateItemCommand',
  'DeleteItemCommand',
  'BatchWriteItemCommand',
  'TransactWriteItemsCommand',
]);

export async function measureAnswerPath(
  runtime: LocalRuntime,
  answers: number,
  concurrency: number,
): Promise<AnswerPathResult> {
  const table = (part: string) => {
    const name = runtime.dynamoDb.tableNames().find((t) => t.includes(part));
    if (!name) throw new Error(`no ${part} table`);
    return name;
  };
  // A stand-in @connections API that accepts every reply, so only the answer path writes.
  let accepted = 0;
  let closed = 0;
  const management = createServer((req, res) => {
    let body = '';
    req.on('data', (d) => (body += d));
    req.on('end', () => {
      if (body.includes('"status":"accepted"')) accepted++;
      if (body.includes('"code":"QUIZ_CLOSED"')) closed++;
      res.writeHead(200).end();
    });
  });
  await new Promise<void>((resolve) => management.listen(0, '127.0.0.1', resolve));
  const port = (management.address() as AddressInfo).port;

  Object.assign(process.env, {
    AWS_REGION: runtime.config.region,
    AWS_ACCESS_KEY_ID: runtime.config.credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: runtime.config.credentials.secretAccessKey,
    AWS_ENDPOINT_URL_DYNAMODB: runtime.config.dynamoDbEndpoint,
    POWERTOOLS_LOG_LEVEL: 'SILENT',
    CUECAST_QUIZZES_TABLE: table('Quizzes'),
    CUECAST_ANSWERS_TABLE: table('Answers'),
    CUECAST_TALLY_TABLE: table('Tally'),
    CUECAST_CONTROL_TABLE: table('Control'),
    CUECAST_CONNECTIONS_TABLE: table('Connections'),
    CUECAST_CALLBACK_URL: `http://127.0.0.1:${port}/live`,
    // A quiz, not a live poll: the answer path never dispatches a fan-out, but its config is read.
    [ENV.FAN_OUT_FUNCTION]: 'bench-no-fan-out',
    [ENV.FAN_OUT_SEGMENTS]: '4',
    // 2,000 answers would print 2,000 EMF lines; P3 counts requests, not metrics.
    POWERTOOLS_METRICS_DISABLED: 'true',
  });
  const quizId = `bench${Date.now()}`;
  const seed = new DynamoDBClient({
    endpoint: runtime.config.dynamoDbEndpoint,
    region: runtime.config.region,
    credentials: runtime.config.credentials,
  });
  const now = Date.now();
  await seed.send(
    new PutItemCommand({
      TableName: table('Quizzes'),
      Item: {
        quizId: { S: quizId },
        question: { S: 'Bench?' },
        choices: { L: ['a', 'b', 'c', 'd'].map((c) => ({ S: c })) },
        correctIndex: { N: '0' },
        durationSeconds: { N: '300' },
        opensAt: { S: new Date(now).toISOString() },
        closesAt: { S: new Date(now + 300_000).toISOString() },
        tallyShards: { N: '32' },
      },
    }),
  );
  seed.destroy();

  // The handler and its client, as the bundle would build them, with a counting middleware.
  const { dynamo } = await import('../lambda/clients/dynamodb');
  const { handler } = await import('../lambda/handlers/ws-answer');
  const calls: Array<{ command: string; key?: string; consistent: boolean }> = [];
  dynamo.middlewareStack.add(
    (next, context) => async (args) => {
      const input = args.input as {
        Item?: Record<string, unknown>;
        Key?: Record<string, unknown>;
        ConsistentRead?: boolean;
      };
      const key = input.Item?.pk ?? input.Key?.pk ?? input.Key?.quizId;
      calls.push({
        command: context.commandName ?? '?',
        key: key === undefined ? undefined : String(key),
        consistent: input.ConsistentRead === true,
      });
      return next(args);
    },
    { step: 'initialize', name: 'benchCounter' },
  );

  const context = { awsRequestId: 'bench' } as never;
  const burst = async (from: number, count: number) => {
    let nextIndex = from;
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        for (let i = nextIndex++; i < from + count; i = nextIndex++) {
          const event = {
            requestContext: {
              routeKey: 'answer',
              connectionId: `viewer-${i}`,
              requestTimeEpoch: Date.now(),
              eventType: 'MESSAGE',
              stage: 'live',
            },
            body: JSON.stringify({ action: 'answer', quizId, choiceIndex: i % 4 }),
            isBase64Encoded: false,
          };
          await handler(event as never, context);
        }
      }),
    );
  };
  const started = Date.now();
  await burst(0, answers);
  const seconds = (Date.now() - started) / 1000;
  const acceptedInBurst = accepted;
  const burstCalls = calls.slice();
  const writes = burstCalls.filter((c) => WRITES.has(c.command));

  // The reveal's seal, then answers that read the quiz before its close (it is left open here).
  const { TallyStore } = await import('../lambda/store/tally-store');
  const beforeSeal = calls.length;
  const sealed = await new TallyStore(table('Tally'), 30).seal(quizId, 32, 4, new Date());
  const sealWrites = calls.slice(beforeSeal).filter((c) => WRITES.has(c.command)).length;
  const late = Math.max(1, Math.round(answers / 20));
  const beforeLate = calls.length;
  await burst(answers, late);
  const lateWrites = calls.slice(beforeLate).filter((c) => WRITES.has(c.command)).length;
  management.close();

  const reads = burstCalls.filter((c) => !WRITES.has(c.command));
  const perKey = new Map<string, number>();
  for (const w of writes) if (w.key) perKey.set(w.key, (perKey.get(w.key) ?? 0) + 1);
  return {
    answers,
    accepted,
    writesPerAccepted: Math.round((writes.length / accepted) * 100) / 100,
    readsPerAccepted: Math.round((reads.length / accepted) * 100) / 100,
    consistentReads: burstCalls.filter((c) => c.consistent).length,
    maxWritesOneKey: Math.max(...perKey.values()),
    distinctWriteKeys: perKey.size,
    answersPerSecond: Math.round(answers / seconds),
    sealWrites,
    sealedTotalMatches: sealed.total === acceptedInBurst && accepted === acceptedInBurst,
    refusedAtSeal: closed,
    writesPerRefusedAtSeal: Math.round((lateWrites / Math.max(1, closed)) * 100) / 100,
  };
}
