import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import { LambdaHost, type LocalFunction, lambdaHeapLimits } from '../../local/lambda-host';
import { waitUntil } from '../support/wait';

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

describe('LambdaHost containers', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cuecast-lambda-host-'));
  const entry = path.join(dir, 'index.mjs');
  fs.writeFileSync(
    entry,
    [
      "import { threadId } from 'node:worker_threads';",
      "import * as fs from 'node:fs';",
      'export const handler = async (event) => {',
      '  if (event.waitMs) await new Promise((resolve) => setTimeout(resolve, event.waitMs));',
      "  if (event.writeFile) fs.writeFileSync(event.writeFile, 'written');",
      '  if (event.exit) process.exit(3);',
      '  return { threadId };',
      '};',
    ].join('\n'),
  );
  const fn = (timeoutMs = 10_000): LocalFunction => ({
    logicalId: 'Probe',
    name: 'probe',
    arn: 'arn:aws:lambda:us-east-1:000000000000:function:probe',
    entry,
    handlerName: 'handler',
    env: {},
    timeoutMs,
    memorySize: 128,
  });
  let host: LambdaHost;
  const lines: string[] = [];
  const boot = (timeoutMs?: number, containers = 2) => {
    host = new LambdaHost(
      new Map([['Probe', fn(timeoutMs)]]),
      (line) => lines.push(line),
      undefined,
      containers,
    );
    return host.find('Probe') as LocalFunction;
  };
  afterEach(() => host?.stop());
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('keeps a container warm and reuses it for the next invocation', async () => {
    const probe = boot();
    const first = await host.invoke(probe, {});
    const second = await host.invoke(probe, {});
    expect(first.ok && second.ok).toBe(true);
    expect((second.result as { threadId: number }).threadId).toBe(
      (first.result as { threadId: number }).threadId,
    );
    expect(host.containers('Probe')).toBe(1);
  });

  it('serves concurrent invocations in containers of their own, up to the pool size', async () => {
    const probe = boot(10_000, 2);
    const outcomes = await Promise.all([0, 1, 2].map(() => host.invoke(probe, { waitMs: 150 })));
    const threads = new Set(outcomes.map((o) => (o.result as { threadId: number }).threadId));
    expect(outcomes.every((o) => o.ok)).toBe(true);
    // Two containers at once; the third invocation waited for one of them and reused it.
    expect(threads.size).toBe(2);
    expect(host.containers('Probe')).toBe(2);
    expect(host.running('Probe')).toBe(0);
  });

  it('terminates a container whose invocation passes its timeout, so its later writes never happen', async () => {
    // A second of timeout: room for a loaded machine to run the 100 ms invocation below in time.
    const probe = boot(1_000, 2);
    const late = path.join(dir, 'late-write');
    const t0 = Date.now();
    const timedOut = await host.invoke(probe, { waitMs: 2_000, writeFile: late });
    expect(timedOut.error).toEqual({ name: 'TimeoutError', message: 'Task timed out after 1.00 seconds' });
    expect(host.containers('Probe')).toBe(0);
    // A fresh container (a cold start) serves the next one; it outlives the moment the killed
    // invocation would have written its file.
    const after = await host.invoke(probe, {});
    expect(after.ok).toBe(true);
    const outlived = path.join(dir, 'outlived');
    const slow = await host.invoke(probe, { waitMs: 100, writeFile: outlived });
    expect(slow.ok).toBe(true);
    expect(fs.existsSync(outlived)).toBe(true);
    // The subject under test is a write that must never come: wait past the moment it was due.
    while (Date.now() < t0 + 2_500) await new Promise((resolve) => setTimeout(resolve, 50));
    expect(fs.existsSync(late)).toBe(false);
    expect(lines.some((line) => line.includes('Task timed out: its container is terminated'))).toBe(true);
  });

  it('fails the invocation of a container that exits, and replaces the container', async () => {
    const probe = boot();
    const exited = await host.invoke(probe, { exit: true });
    expect(exited.error?.name).toBe('Runtime.ExitError');
    expect((await host.invoke(probe, {})).ok).toBe(true);
  });

  it('kills every container of a function on crash(), failing what they ran', async () => {
    const probe = boot(10_000, 2);
    const inFlight = [host.invoke(probe, { waitMs: 5_000 }), host.invoke(probe, { waitMs: 5_000 })];
    await waitUntil('both invocations to have a container', () => host.containers('Probe') === 2, {
      timeoutMs: 10_000,
      describe: () => `${host.containers('Probe')} containers`,
    });
    expect(await host.crash('Probe')).toBe(2);
    expect((await Promise.all(inFlight)).map((o) => o.error?.name)).toEqual([
      'Runtime.ExitError',
      'Runtime.ExitError',
    ]);
    expect(host.containers('Probe')).toBe(0);
  });

  it('fails with InitError when the bundle does not load', async () => {
    host = new LambdaHost(
      new Map([['Probe', { ...fn(), entry: path.join(dir, 'missing.mjs') }]]),
      () => undefined,
    );
    const outcome = await host.invoke(host.find('Probe') as LocalFunction, {});
    expect(outcome.error?.name).toBe('InitError');
  });
});
