import { ANSWER_SETTLE_MS } from '../../lambda/domain/viewer';
import { settledChoices } from '../../lambda/services/grades';
import type { AnswerStore } from '../../lambda/store/answer-store';

/**
 * Grades go to exactly the counted answers: right after a reveal's seal, answers it refused may
 * still have a record that their function is about to delete. `settledChoices` reads until the
 * records match the sealed counts, within ANSWER_SETTLE_MS of the close.
 */
const CLOSED_AT = Date.parse('2026-11-30T12:00:00.000Z');
const quiz = (counts: number[]) => ({
  quizId: 'quiz-1',
  tallyShards: 4,
  closedAt: new Date(CLOSED_AT).toISOString(),
  result: {
    counts,
    total: counts.reduce((a, b) => a + b, 0),
    revealedAt: new Date(CLOSED_AT + 50).toISOString(),
  },
});

/** An answer store whose records change between reads, and a clock that the waits move on. */
function scripted(reads: Array<Record<string, number>>, startAt = CLOSED_AT) {
  let clock = startAt;
  let read = 0;
  const store = {
    choicesByViewer: async () => new Map(Object.entries(reads[Math.min(read++, reads.length - 1)])),
  } as unknown as AnswerStore;
  const options = {
    now: () => clock,
    sleep: async (ms: number) => {
      clock += ms;
    },
    pollMs: 200,
  };
  return { store, options, reads: () => read, elapsed: () => clock - startAt };
}

describe('when the records already match the sealed counts', () => {
  it('returns them after one read', async () => {
    const { store, options, reads } = scripted([{ ann: 0, bob: 1, cat: 1 }]);

    const choices = await settledChoices(store, quiz([1, 2]), options);

    expect(Object.fromEntries(choices)).toEqual({ ann: 0, bob: 1, cat: 1 });
    expect(reads()).toBe(1);
  });
});

describe('when an answer refused at the seal still has its record', () => {
  it('reads again until its function deleted it, and never grades that viewer', async () => {
    const { store, options, reads } = scripted([
      { ann: 0, bob: 1, late: 1 },
      { ann: 0, bob: 1, late: 1 },
      { ann: 0, bob: 1 },
    ]);

    const choices = await settledChoices(store, quiz([1, 1]), options);

    expect(Object.fromEntries(choices)).toEqual({ ann: 0, bob: 1 });
    expect(reads()).toBe(3);
  });

  it('stops waiting ANSWER_SETTLE_MS after the quiz closed and grades the records as they stand', async () => {
    const { store, options, elapsed } = scripted([{ ann: 0, stuck: 0 }]);

    const choices = await settledChoices(store, quiz([1, 0]), options);

    expect(choices.size).toBe(2);
    expect(elapsed()).toBeGreaterThanOrEqual(ANSWER_SETTLE_MS);
    expect(elapsed()).toBeLessThan(ANSWER_SETTLE_MS + 200 * 2);
  });

  it('does not wait at all when the fan-out runs after the settle time (a repaired segment)', async () => {
    const { store, options, reads } = scripted([{ ann: 0, stuck: 0 }], CLOSED_AT + ANSWER_SETTLE_MS + 1);

    await settledChoices(store, quiz([1, 0]), options);

    expect(reads()).toBe(1);
  });
});

describe('when a counted answer has no record', () => {
  it('does not wait for one that cannot appear', async () => {
    const { store, options, reads } = scripted([{ ann: 0 }]);

    const choices = await settledChoices(store, quiz([1, 1]), options);

    expect(Object.fromEntries(choices)).toEqual({ ann: 0 });
    expect(reads()).toBe(1);
  });
});
