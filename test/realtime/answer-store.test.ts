/**
 * `AnswerStore.choicesByViewer` (`lambda/store/answer-store.ts`), as a result fan-out reads the
 * counted answers to grade viewers (through `settledChoices`): one query per answer shard of
 * the quiz, each followed page by page.
 */
import { GetCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { shardOf } from '../../lambda/domain/tally';
import { quizItem, TALLY_SHARDS } from '../handlers/fixtures';
import { ANSWERS, type Item, mockFanOut, QUIZ, REVEALED, resultJob, run } from './fan-out-fixtures';
import { ANSWERS_TABLE, framesTo } from './ws-events';

const { ddbMock, mgmtMock, givenAnswers } = mockFanOut();

describe("when the quiz's answers are read for grading", () => {
  it('queries every one of the 4 answer shards by its key', async () => {
    await run(resultJob());

    const pks = ddbMock
      .commandCalls(QueryCommand)
      .map((call) => call.args[0].input)
      .filter((input) => input.ExclusiveStartKey === undefined)
      .map((input) => {
        expect(input.TableName).toBe(ANSWERS_TABLE);
        expect(input.KeyConditionExpression).toBe('pk = :pk');
        return input.ExpressionAttributeValues?.[':pk'];
      });
    expect(pks.sort()).toEqual([0, 1, 2, 3].map((n) => `${QUIZ.quizId}#${n}`));
  });

  it('follows LastEvaluatedKey within a shard until the last page', async () => {
    await run(resultJob());

    const queries = ddbMock.commandCalls(QueryCommand).map((call) => call.args[0].input);
    // One page per answer plus one first page for each empty shard.
    const emptyShards = [0, 1, 2, 3].filter(
      (n) => !Object.keys(ANSWERS).some((viewerId) => shardOf(viewerId, TALLY_SHARDS) === n),
    ).length;
    expect(queries).toHaveLength(Object.keys(ANSWERS).length + emptyShards);
    const continued = queries.filter((input) => input.ExclusiveStartKey !== undefined);
    for (const input of continued)
      expect((input.ExclusiveStartKey as Item).pk).toBe(input.ExpressionAttributeValues?.[':pk']);
    expect(continued.length).toBeGreaterThan(0);
  });

  it('grades a viewer whose answer was on a later page of its shard', async () => {
    // Put many answers on alice's shard so hers is not on the first page.
    const shard = shardOf('alice', TALLY_SHARDS);
    const crowd: Record<string, number> = {};
    for (let i = 0; crowd.alice === undefined; i++) {
      const id = `v${i}`;
      if (shardOf(id, TALLY_SHARDS) === shard) crowd[id] = 0;
      if (Object.keys(crowd).length >= 3) crowd.alice = 1;
    }
    givenAnswers(crowd);

    await run(resultJob());

    expect(framesTo(mgmtMock, 'alice')[1]).toStrictEqual({
      type: 'graded',
      quizId: QUIZ.quizId,
      choiceIndex: 1,
      correct: true,
    });
  });

  it('reads as many shards as the quiz was created with', async () => {
    ddbMock.on(GetCommand, quizItem(QUIZ.quizId)).resolves({ Item: { ...REVEALED, tallyShards: 2 } });

    await run(resultJob());

    const pks = new Set(
      ddbMock.commandCalls(QueryCommand).map((call) => call.args[0].input.ExpressionAttributeValues?.[':pk']),
    );
    expect([...pks].sort()).toEqual([`${QUIZ.quizId}#0`, `${QUIZ.quizId}#1`]);
  });
});
