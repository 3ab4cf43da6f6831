import { AsyncInvoker } from '../../local/async-invoke';
import type { InvokeResult, LambdaHost } from '../../local/lambda-host';
import { waitUntil } from '../support/wait';
import { stubFunction } from './harness';

describe('AsyncInvoker', () => {
  it('schedules no retry for an invocation that fails because the runtime stopped', async () => {
    let finish: (outcome: InvokeResult) => void = () => undefined;
    const host = {
      invoke: () => new Promise<InvokeResult>((resolve) => (finish = resolve)),
    } as unknown as LambdaHost;
    const lines: string[] = [];
    const invoker = new AsyncInvoker(host, new Map(), undefined, (line) => lines.push(line), [60_000]);
    const timers = jest.spyOn(global, 'setTimeout');
    try {
      invoker.invoke(stubFunction('FanOut'), {});
      // The runtime stops while the invocation runs; the host then fails it.
      invoker.stop();
      finish({ ok: false, error: { name: 'Stopped', message: 'runtime is shutting down' }, ms: 0 });
      await new Promise((resolve) => setImmediate(resolve));
      expect(lines).toEqual([expect.stringContaining('attempt 1 failed (runtime is shutting down)')]);
      expect(timers.mock.calls.filter(([, ms]) => ms === 60_000)).toEqual([]);
    } finally {
      timers.mockRestore();
    }
  });

  it('still retries a failed invocation after its delay while running', async () => {
    const outcomes: InvokeResult[] = [
      { ok: false, error: { name: 'Error', message: 'boom' }, ms: 1 },
      { ok: true, result: 'done', ms: 1 },
    ];
    const host = { invoke: async () => outcomes.shift() } as unknown as LambdaHost;
    const lines: string[] = [];
    const invoker = new AsyncInvoker(host, new Map(), undefined, (line) => lines.push(line), [1]);
    invoker.invoke(stubFunction('FanOut'), {});
    await waitUntil('two attempts', () => lines.length >= 2, { describe: () => lines });
    expect(lines).toEqual([
      expect.stringContaining('attempt 1 failed (boom)'),
      expect.stringContaining('attempt 2 ok'),
    ]);
    invoker.stop();
  });
});
