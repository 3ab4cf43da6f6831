import { Worker } from 'node:worker_threads';
import { lambdaHeapLimits } from '../../local/lambda-host';

describe('lambdaHeapLimits', () => {
  it.each([
    // memory MB, semi-space MB (memory / 20), old space MB (memory - memory / 10)
    [128, 6, 116],
    [256, 12, 231],
    [1769, 88, 1593],
  ])('sizes a %i MB function as Lambda does: %i MB semi-spaces, %i MB old space', (memory, semi, old) => {
    expect(lambdaHeapLimits(memory)).toEqual({
      maxYoungGenerationSizeMb: 3 * semi,
      maxOldGenerationSizeMb: old,
    });
  });

  it('is accepted by a worker thread, which reports the limits it runs with', async () => {
    const limits = lambdaHeapLimits(1769);
    const worker = new Worker('', { eval: true, resourceLimits: limits });
    try {
      expect(worker.resourceLimits).toMatchObject(limits);
    } finally {
      await worker.terminate();
    }
  });
});
