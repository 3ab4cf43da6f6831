import fc from 'fast-check';
import { BadRequestError, type DomainError } from '../../lambda/domain/errors';
import {
  answersCloseAt,
  openQuiz,
  parseCreateQuiz,
  parseRevealQuery,
  phaseOf,
  type Quiz,
} from '../../lambda/domain/quiz';
import { secondsUntilAnswersClose } from '../../lambda/domain/reveal';
import { checkAnswer } from '../../lambda/domain/viewer';
import { assertProperty, thrownBy } from './support';

/**
 * The answer window in video time (docs/protocol.md §3.3, §3.4, §5.4): answers until `closesAt`
 * plus the grace, and the early-reveal rule.
 */
const OPENED_AT = new Date('2030-01-01T00:00:00.000Z');
const BODY = { question: 'Capital?', choices: ['Paris', 'Lyon'], correctIndex: 0, durationSeconds: 20 };
const quizWithGrace = (graceSeconds: number): Quiz =>
  openQuiz(parseCreateQuiz(BODY), 'quiz-1', OPENED_AT, 4, graceSeconds);
const at = (ms: number) => new Date(OPENED_AT.getTime() + ms);

describe('when a quiz opens with a grace', () => {
  it('keeps the grace and closes its answers at closesAt plus the grace', () => {
    const quiz = quizWithGrace(8);
    expect(quiz.graceSeconds).toBe(8);
    expect(quiz.closesAt).toBe('2030-01-01T00:00:20.000Z');
    expect(answersCloseAt(quiz)).toBe(at(28_000).getTime());
  });

  it('has no grace unless one is given', () => {
    expect(openQuiz(parseCreateQuiz(BODY), 'q', OPENED_AT, 4).graceSeconds).toBe(0);
  });

  it('is open until closesAt plus the grace, exclusive, for any grace', () => {
    assertProperty(
      fc.property(fc.integer({ min: 0, max: 60 }), fc.integer({ min: -1_000, max: 100_000 }), (grace, ms) => {
        const open = ms < 20_000 + grace * 1000;
        expect(phaseOf(quizWithGrace(grace), at(ms))).toBe(open ? 'open' : 'closed');
      }),
    );
  });
});

describe('when an answer arrives', () => {
  const answer = { action: 'answer' as const, quizId: 'quiz-1', choiceIndex: 1 };

  it('takes it during the grace, from a viewer behind in the video', () => {
    expect(checkAnswer(quizWithGrace(8), answer, at(27_999)).quizId).toBe('quiz-1');
  });

  it('refuses it QUIZ_CLOSED once the grace is over', () => {
    expect(thrownBy(() => checkAnswer(quizWithGrace(8), answer, at(28_000)))).toMatchObject({
      code: 'QUIZ_CLOSED',
    });
  });
});

describe('when the host reveals', () => {
  it('must wait the whole seconds until the answers close, rounded up', () => {
    expect(secondsUntilAnswersClose(quizWithGrace(8), at(0))).toBe(28);
    expect(secondsUntilAnswersClose(quizWithGrace(8), at(20_500))).toBe(8);
    expect(secondsUntilAnswersClose(quizWithGrace(8), at(27_999))).toBe(1);
  });

  it('may go ahead once they closed, or once a reveal closed the quiz, or once it is revealed', () => {
    expect(secondsUntilAnswersClose(quizWithGrace(8), at(28_000))).toBeUndefined();
    expect(
      secondsUntilAnswersClose({ ...quizWithGrace(8), closedAt: at(1_000).toISOString() }, at(2_000)),
    ).toBeUndefined();
    const result = { counts: [1, 0], total: 1, revealedAt: at(3_000).toISOString() };
    expect(secondsUntilAnswersClose({ ...quizWithGrace(8), result }, at(3_000))).toBeUndefined();
  });
});

describe("when the reveal's query string is read", () => {
  it('forces only with force=true, and reads nothing else as forcing', () => {
    expect(parseRevealQuery({ force: 'true' })).toEqual({ force: true });
    expect(parseRevealQuery({ force: 'false' })).toEqual({ force: false });
    expect(parseRevealQuery(undefined)).toEqual({ force: false });
    expect(parseRevealQuery({ other: 'x' })).toEqual({ force: false });
  });

  it.each(['1', 'yes', 'TRUE', ''])('refuses force=%s with a 400 naming force', (value) => {
    const error = thrownBy(() => parseRevealQuery({ force: value }));
    expect(error).toBeInstanceOf(BadRequestError);
    expect((error as DomainError).message).toBe('force: must be true or false');
  });
});
