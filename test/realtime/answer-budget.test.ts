import { ProvisionedThroughputExceededException } from '@aws-sdk/client-dynamodb';
import { TryAgainError } from '../../lambda/domain/errors';
import { COUNT_ATTEMPTS, COUNT_BUDGET_MS, ViewerService } from '../../lambda/services/viewer-service';
import type { AnswerStore } from '../../lambda/store/answer-store';
import type { ShowStore } from '../../lambda/store/show-store';
import type { TallyStore } from '../../lambda/store/tally-store';
import { storedQuiz } from '../handlers/fixtures';

/**
 * The answer path's time budget under throttling: a stored answer stops trying to be counted
 * COUNT_BUDGET_MS after it reached the handler, however slow each try is, so its undo still fits
 * in the function's timeout (a container killed between the record and the undo would leave an
 * answer stored and never counted). The soak once saw that: four answers during a tally outage on
 * a starved machine took 7 to 10 s, and one passed the 10 s timeout.
 */
const QUIZ = storedQuiz({ choices: ['a', 'b', 'c'] });
const VIEWER = { viewerId: 'viewer-1', connectionId: 'viewer-1' };
const throttled = () =>
  new ProvisionedThroughputExceededException({
    message: 'simulated throttling',
    $metadata: { httpStatusCode: 400 },
  });

/** A service over fake stores whose tally always throttles, each try taking `tryMs` on `clock`. */
function throttledService(tryMs: number) {
  let now = Date.parse(QUIZ.opensAt) + 1000;
  const tries: number[] = [];
  const undone: string[] = [];
  const show = { getQuiz: async () => QUIZ } as unknown as ShowStore;
  const answers = {
    putFirst: async () => true,
    undo: async (record: { viewerId: string }) => {
      undone.push(record.viewerId);
      return true;
    },
  } as unknown as AnswerStore;
  const tally = {
    add: async (_quizId: string, shard: number) => {
      tries.push(shard);
      now += tryMs;
      throw throttled();
    },
  } as unknown as TallyStore;
  const service = new ViewerService(show, answers, tally, () => now);
  const answer = () =>
    service.answer({ action: 'answer', quizId: QUIZ.quizId, choiceIndex: 1 }, VIEWER, new Date(now));
  return { answer, tries, undone };
}

describe('when every count of an answer is throttled', () => {
  it('tries each shard in turn, at most COUNT_ATTEMPTS times, then undoes and says TRY_AGAIN', async () => {
    const { answer, tries, undone } = throttledService(10);
    await expect(answer()).rejects.toBeInstanceOf(TryAgainError);
    expect(tries).toHaveLength(COUNT_ATTEMPTS);
    // Consecutive shards from the viewer's own: a throttle is per partition key.
    for (let i = 1; i < tries.length; i++) expect(tries[i]).toBe((tries[i - 1] + 1) % QUIZ.tallyShards);
    expect(undone).toEqual([VIEWER.viewerId]);
  });

  it('starts no try past the budget when each one is slow, and still undoes the record', async () => {
    const { answer, tries, undone } = throttledService(1200);
    await expect(answer()).rejects.toBeInstanceOf(TryAgainError);
    // Tries at 0, 1.2 and 2.4 s of the budget's 3 s (plus their backoff): the next would start past it.
    expect(tries.length).toBe(Math.ceil(COUNT_BUDGET_MS / 1200));
    expect(tries.length).toBeLessThan(COUNT_ATTEMPTS);
    expect(undone).toEqual([VIEWER.viewerId]);
  });

  it('makes one try and undoes at once when the budget is spent before the first count', async () => {
    const { answer, tries, undone } = throttledService(COUNT_BUDGET_MS + 1);
    await expect(answer()).rejects.toBeInstanceOf(TryAgainError);
    expect(tries).toHaveLength(1);
    expect(undone).toEqual([VIEWER.viewerId]);
  });
});
