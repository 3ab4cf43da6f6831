import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  CreateTableCommand,
  DeleteTableCommand,
  DescribeTableCommand,
  DynamoDBClient,
} from '@aws-sdk/client-dynamodb';
import type { LocalRuntime } from '../../local/runtime';
import { bootTestRuntime, callApi, callApiPatiently, freeBasePort, Viewer } from '../local/harness';
import { waitUntil } from '../support/wait';

/**
 * A rehearsal survives a restart: with a data directory the local runtime keeps its tables on
 * disk, so stopping it mid-quiz and booting it again keeps the quiz, its answers and its tally.
 */
let dataDir: string;
const running: LocalRuntime[] = [];

const boot = async (dir = dataDir) => {
  const runtime = await bootTestRuntime({ dataDir: dir, webDir: null });
  running.push(runtime);
  return runtime;
};
const stop = async (runtime: LocalRuntime) => {
  running.splice(running.indexOf(runtime), 1);
  await runtime.stop();
};
const answer = async (runtime: LocalRuntime, quizId: string, choiceIndex: number) => {
  const viewer = await Viewer.connect(runtime.config.webSocketUrl);
  try {
    return await viewer.request({ action: 'answer', quizId, choiceIndex }, ['answer', 'error']);
  } finally {
    await viewer.close();
  }
};

beforeEach(() => {
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'cuecast-data-'));
});

afterEach(async () => {
  await Promise.all(running.splice(0).map((runtime) => runtime.stop()));
  fs.rmSync(dataDir, { recursive: true, force: true });
});

describe('when the runtime is stopped mid-rehearsal and booted again on the same data directory', () => {
  it('keeps the open quiz and both answers: GET /quizzes/{id} and the reveal count them', async () => {
    const first = await boot();
    const created = await callApiPatiently(first.config, 'POST', '/quizzes', {
      question: 'Which planet is the largest?',
      choices: ['Mars', 'Jupiter', 'Venus'],
      correctIndex: 1,
      durationSeconds: 300,
    });
    expect(created.status).toBe(201);
    const { quizId } = created.body;
    expect(await answer(first, quizId, 1)).toMatchObject({ type: 'answer', status: 'accepted' });
    expect(await answer(first, quizId, 2)).toMatchObject({ type: 'answer', status: 'accepted' });
    await stop(first);

    const second = await boot();
    const stored = await callApi(second.config, 'GET', `/quizzes/${quizId}`);
    expect(stored.status).toBe(200);
    expect(stored.body).toMatchObject({
      quizId,
      question: 'Which planet is the largest?',
      choices: ['Mars', 'Jupiter', 'Venus'],
      state: 'open',
      counts: [0, 1, 1],
      total: 2,
    });
    const revealed = await callApiPatiently(second.config, 'POST', `/quizzes/${quizId}/reveal?force=true`);
    expect(revealed.status).toBe(200);
    expect(revealed.body).toMatchObject({ quizId, correctIndex: 1, counts: [0, 1, 1], total: 2 });
  }, 240_000);
});

describe('when the data directory cannot hold the tables', () => {
  it('refuses a file, and a directory inside a file, with a message naming the path', async () => {
    const file = path.join(dataDir, 'not-a-directory');
    fs.writeFileSync(file, 'x');
    await expect(boot(file)).rejects.toThrow(`data directory ${file} is a file, not a directory`);
    await expect(boot(path.join(file, 'inside'))).rejects.toThrow(
      `data directory ${path.join(file, 'inside')} cannot be created or written: a part of its path is a file`,
    );
  }, 60_000);

  it('refuses a directory another runtime is using, saying so', async () => {
    await boot();
    await expect(boot()).rejects.toThrow(
      `data directory ${dataDir} cannot be opened: another runtime (another \`npm run dev\`?) is using it`,
    );
  }, 120_000);

  it('refuses a table kept there under another definition, saying which and what to do', async () => {
    const first = await boot();
    const [table] = first.dynamoDb.tableNames();
    await stop(first);
    await withTablesIn(dataDir, async (client) => {
      await client.send(new DeleteTableCommand({ TableName: table }));
      // dynalite deletes a table on its next tick, even with deleteTableMs 0.
      await waitUntil('the table to be deleted', () =>
        client.send(new DescribeTableCommand({ TableName: table })).then(
          () => false,
          () => true,
        ),
      );
      await client.send(
        new CreateTableCommand({
          TableName: table,
          KeySchema: [{ AttributeName: 'other', KeyType: 'HASH' }],
          AttributeDefinitions: [{ AttributeName: 'other', AttributeType: 'S' }],
          BillingMode: 'PAY_PER_REQUEST',
        }),
      );
    });
    await expect(boot()).rejects.toThrow(
      new RegExp(`table ${table} in ${dataDir} has another definition than the template .*delete`),
    );
  }, 180_000);
});

/** dynalite on its own over the directory, as an earlier version of the stack would have left it. */
async function withTablesIn(dir: string, use: (client: DynamoDBClient) => Promise<void>): Promise<void> {
  const dynalite = require('dynalite') as (options: Record<string, unknown>) => any;
  const server = dynalite({ path: dir, createTableMs: 0, deleteTableMs: 0 });
  const port = await freeBasePort(1);
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  const client = new DynamoDBClient({
    endpoint: `http://127.0.0.1:${port}`,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  try {
    await use(client);
  } finally {
    client.destroy();
    await new Promise((resolve) => server.close(resolve));
  }
}
