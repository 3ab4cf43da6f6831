/**
 * A live poll's push windows, from the answer handler (`lambda/handlers/ws-answer.ts` with
 * `services/live-tally.ts`): the first answer counted after a window ended claims the next one
 * and dispatches a `tally` fan-out for its end; answers inside a running window add nothing.
 */
import { PostToConnectionCommand } from '@aws-sdk/client-apigatewaymanagementapi';
import { InvokeCommand } from '@aws-sdk/client-lambda';
import { GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { LIVE_TALLY_INTERVAL_MS } from '../../lambda/domain/tally';
import { handler } from '../../lambda/handlers/ws-answer';
import { mockAws } from '../aws-mocks';
import { lambdaContext } from '../handlers/events';
import { quizItem, storedQuiz, TABLES } from '../handlers/fixtures';
import { conditionFailed, onlyFrameTo, wsEvent } from './ws-events';

const { ddb: ddbMock, mgmt: mgmtMock, lambda: lambdaMock } = mockAws();

const { correctIndex: _none, ...question } = storedQuiz(
  { quizId: 'poll_LIVE-1', choices: ['Tea', 'Coffee'] },
  -5,
);
const LIVE_POLL = { ...question, kind: 'poll', liveResults: true };
const NOW = Date.parse(LIVE_POLL.closesAt) - 10_000;

const answer = async (connectionId = 'viewer-1') => {
  await handler(
    wsEvent('answer', {
      connectionId,
      body: { action: 'answer', quizId: LIVE_POLL.quizId, choiceIndex: 1 },
      requestTimeEpoch: NOW,
    }),
    lambdaContext(),
  );
  return onlyFrameTo(mgmtMock, connectionId);
};
const claims = () =>
  ddbMock
    .commandCalls(UpdateCommand, { TableName: TABLES.quizzes })
    .map((call) => call.args[0].input)
    .filter((input) => input.UpdateExpression?.includes('liveTallyUntil'));
const tallyJobs = () =>
  lambdaMock
    .commandCalls(InvokeCommand)
    .map((call) => JSON.parse(Buffer.from(call.args[0].input.Payload as Uint8Array).toString()));

beforeEach(() => {
  mgmtMock.on(PostToConnectionCommand).resolves({});
  ddbMock.on(PutCommand).resolves({});
  ddbMock.on(UpdateCommand).resolves({});
  lambdaMock.on(InvokeCommand).resolves({ StatusCode: 202 });
});

describe('when an answer to a live poll finds no push window running', () => {
  beforeEach(() => {
    ddbMock.on(GetCommand, quizItem(LIVE_POLL.quizId)).resolves({ Item: LIVE_POLL });
  });

  it('claims the next window with one conditional write and dispatches a tally push for its end', async () => {
    const before = Date.now();
    expect(await answer()).toMatchObject({ type: 'answer', status: 'accepted' });
    const [claim] = claims();
    expect(claim.ConditionExpression).toContain('liveTallyUntil <= :now');
    const until = Number(claim.ExpressionAttributeValues?.[':until']);
    expect(until - Number(claim.ExpressionAttributeValues?.[':now'])).toBe(LIVE_TALLY_INTERVAL_MS);
    expect(until).toBeGreaterThanOrEqual(before + LIVE_TALLY_INTERVAL_MS);
    const jobs = tallyJobs();
    expect(jobs).toHaveLength(4);
    for (const job of jobs)
      expect(job).toMatchObject({ kind: 'tally', quizId: LIVE_POLL.quizId, sendAt: until });
  });

  it('dispatches nothing when another answer claimed the window first', async () => {
    ddbMock.on(UpdateCommand, { TableName: TABLES.quizzes }).rejects(conditionFailed());
    expect(await answer()).toMatchObject({ status: 'accepted' });
    expect(claims()).toHaveLength(1);
    expect(tallyJobs()).toHaveLength(0);
  });

  it('still accepts the answer when the push cannot be scheduled', async () => {
    lambdaMock.on(InvokeCommand).rejects(new Error('Lambda is down'));
    expect(await answer()).toMatchObject({ status: 'accepted' });
  });
});

describe('when an answer to a live poll arrives inside a running window', () => {
  it('neither writes nor dispatches: the window push will carry it', async () => {
    const running = { ...LIVE_POLL, liveTallyUntil: Date.now() + 800 };
    ddbMock.on(GetCommand, quizItem(LIVE_POLL.quizId)).resolves({ Item: running });
    expect(await answer()).toMatchObject({ status: 'accepted' });
    expect(claims()).toHaveLength(0);
    expect(tallyJobs()).toHaveLength(0);
  });
});

describe('when the poll has no live results', () => {
  it('pays nothing for them: no claim, no dispatch', async () => {
    const { liveResults: _off, ...plain } = LIVE_POLL;
    ddbMock.on(GetCommand, quizItem(LIVE_POLL.quizId)).resolves({ Item: plain });
    expect(await answer()).toMatchObject({ status: 'accepted' });
    expect(claims()).toHaveLength(0);
    expect(tallyJobs()).toHaveLength(0);
  });
});
