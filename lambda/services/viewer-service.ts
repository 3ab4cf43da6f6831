import { AlreadyAnsweredError } from '../domain/errors';
import { type AnswerInput, checkAnswer } from '../domain/viewer';
import type { AnswerStore } from '../store/answer-store';
import type { ShowStore } from '../store/show-store';

/** The `answer` action: at most 2 write requests per accepted answer, and no strongly consistent read. */
export class ViewerService {
  constructor(
    private readonly show: ShowStore,
    private readonly answers: AnswerStore,
  ) {}

  async answer(input: AnswerInput, viewer: { viewerId: string; connectionId: string }, arrivedAt: Date) {
    const quiz = checkAnswer(await this.show.getQuiz(input.quizId, { consistent: false }), input, arrivedAt);
    const record = {
      ...viewer,
      quizId: quiz.quizId,
      choiceIndex: input.choiceIndex,
      answeredAt: arrivedAt.toISOString(),
    };
    if (!(await this.answers.putFirst(record, quiz.tallyShards, arrivedAt)))
      throw new AlreadyAnsweredError(quiz.quizId);
    await this.answers.count(record, quiz.tallyShards, arrivedAt);
    return {
      type: 'answer',
      status: 'accepted',
      quizId: quiz.quizId,
      choiceIndex: input.choiceIndex,
    } as const;
  }
}
