/**
 * Shared set-up of the fan-out tests (handler, Broadcasts, fanOut, ConnectionStore, AnswerStore,
 * ConnectionPoster): a revealed quiz, two scan pages of connections with their answers, and
 * stubbed DynamoDB and @connections APIs in which two connections are gone and one is throttled.
 */
import { LimitExceededException, PostToConnectionCommand } from '@aws-sdk/client-apigatewaymanagementapi';
import {
  BatchWriteCommand,
  type BatchWriteCommandInput,
  GetCommand,
  QueryCommand,
  type QueryCommandInput,
  ScanCommand,
  type ScanCommandInput,
} from '@aws-sdk/lib-dynamodb';
import { shardOf } from '../../lambda/domain/tally';
import { handler } from '../../lambda/handlers/fan-out';
import { mockAws } from '../aws-mocks';
import { lambdaContext } from '../handlers/events';
import { quizItem, storedQuiz, TALLY_SHARDS } from '../handlers/fixtures';
import { TEST_ENV } from '../setup-env';
import { CONNECTIONS_TABLE, goneException } from './ws-events';

export const CONCURRENCY = Number(TEST_ENV.CUECAST_FAN_OUT_CONCURRENCY);
/** The sealed figures of ANSWERS below: the records are exactly the counted answers. */
export const RESULT = { counts: [1, 3, 1], total: 5, revealedAt: new Date().toISOString() };
export const QUIZ = storedQuiz({ quizId: 'quiz_ABC-123', choices: ['Mars', 'Jupiter', 'Venus'] }, -60);
export const REVEALED = { ...QUIZ, result: RESULT };
export const RESULT_FRAME = {
  type: 'result',
  v: 1,
  quizId: QUIZ.quizId,
  correctIndex: 1,
  counts: [1, 3, 1],
  total: 5,
  kind: 'quiz',
};

export type Item = Record<string, unknown>;
export const connection = (connectionId: string, viewerId = connectionId): Item => ({
  connectionId,
  viewerId,
});

/**
 * Two scan pages. alice answered right, bob wrong, carol not at all; gone-1 and gone-2
 * closed their sockets (gone-2 had answered); broken fails for another reason; legacy has
 * no viewerId attribute and answered right.
 */
export const PAGE_1 = [connection('alice'), connection('bob'), connection('gone-1')];
export const PAGE_2 = [
  connection('carol'),
  connection('gone-2'),
  connection('broken'),
  { connectionId: 'legacy' },
];
export const ANSWERS: Record<string, number> = {
  alice: 1,
  bob: 0,
  'gone-2': 1,
  legacy: 1,
  'not-connected': 2,
};
export const GONE = ['gone-1', 'gone-2'];
export const BROKEN = 'broken';

export const resultJob = (segment = 0, totalSegments = 1) => ({
  kind: 'result',
  quizId: QUIZ.quizId,
  segment,
  totalSegments,
});

export const run = (job: unknown) => handler(job, lambdaContext());

/** Every connection id the batch writes asked to delete, in order. */
export const deletedIds = (batches: BatchWriteCommandInput[]): string[] =>
  batches.flatMap((batch) =>
    (batch.RequestItems?.[CONNECTIONS_TABLE] ?? []).map((request) =>
      String(request.DeleteRequest?.Key?.connectionId),
    ),
  );

/**
 * Stubs the AWS clients (through `mockAws()`) and, before each test, answers with the world
 * above. Call it once, at the top of a fan-out test file; the `given…` helpers it returns
 * change that world for one test.
 */
export function mockFanOut() {
  const { ddb: ddbMock, mgmt: mgmtMock } = mockAws();

  /** Answers the scan page by page, keyed on ExclusiveStartKey, as DynamoDB would. */
  function givenConnections(pages: Item[][]): void {
    ddbMock.on(ScanCommand).callsFake((input: ScanCommandInput) => {
      const index = input.ExclusiveStartKey ? Number(input.ExclusiveStartKey.page) : 0;
      const last = index === pages.length - 1;
      return { Items: pages[index], ...(last ? {} : { LastEvaluatedKey: { page: index + 1 } }) };
    });
  }

  /** Answers each shard's query one item per page, so every non-empty shard paginates. */
  function givenAnswers(answers: Record<string, number>): void {
    ddbMock.on(QueryCommand).callsFake((input: QueryCommandInput) => {
      const pk = String(input.ExpressionAttributeValues?.[':pk']);
      const items = Object.entries(answers)
        .filter(([viewerId]) => `${QUIZ.quizId}#${shardOf(viewerId, TALLY_SHARDS)}` === pk)
        .map(([viewerId, choiceIndex]) => ({ viewerId, choiceIndex }));
      const index = input.ExclusiveStartKey ? Number(input.ExclusiveStartKey.index) : 0;
      const more = index + 1 < items.length;
      return {
        Items: items.slice(index, index + 1),
        ...(more ? { LastEvaluatedKey: { pk, index: index + 1 } } : {}),
      };
    });
  }

  beforeEach(() => {
    mgmtMock.on(PostToConnectionCommand).resolves({});
    for (const id of GONE)
      mgmtMock.on(PostToConnectionCommand, { ConnectionId: id }).rejects(goneException());
    mgmtMock
      .on(PostToConnectionCommand, { ConnectionId: BROKEN })
      .rejects(new LimitExceededException({ message: 'simulated throttle', $metadata: {} }));
    ddbMock.on(GetCommand, quizItem(QUIZ.quizId)).resolves({ Item: REVEALED });
    ddbMock.on(BatchWriteCommand).resolves({});
    givenConnections([PAGE_1, PAGE_2]);
    givenAnswers(ANSWERS);
  });

  return { ddbMock, mgmtMock, givenConnections, givenAnswers };
}
