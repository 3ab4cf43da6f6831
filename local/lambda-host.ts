import * as path from 'node:path';
import * as readline from 'node:readline';
import { type ResourceLimits, Worker } from 'node:worker_threads';
import type { UsageMeter } from './usage';

export interface LocalFunction {
  readonly logicalId: string;
  readonly name: string;
  readonly arn: string;
  readonly entry: string;
  readonly handlerName: string;
  readonly env: Record<string, string>;
  readonly timeoutMs: number;
  readonly memorySize: number;
}

export interface InvokeResult {
  readonly ok: boolean;
  readonly result?: unknown;
  readonly error?: { name: string; message: string; stack?: string };
  readonly ms: number;
}

type Pending = {
  resolve: (r: InvokeResult) => void;
  started: number;
  timer: NodeJS.Timeout;
  readonly logicalId: string;
};

/**
 * V8's heap as Lambda's Node.js runtime sizes it from the function's memory: its bootstrap starts
 * `node --max-semi-space-size=<memory / 20> --max-old-space-size=<memory × 0.9>` (MB). A worker
 * cannot take V8 flags, so the young generation is given whole: three semi-spaces, as V8 counts
 * it (two plus the new large-object space). Without this, every local "container" got V8's
 * defaults whatever its memory: a 16 MB semi-space for the 1,769 MB fan-out function instead of
 * Lambda's 88 MB, so it collected garbage far more often than on AWS (npm run bench, P2).
 */
export function lambdaHeapLimits(memorySize: number): ResourceLimits {
  const newSpace = Math.floor(memorySize / 10);
  const semiSpace = Math.floor(newSpace / 2);
  return { maxYoungGenerationSizeMb: semiSpace * 3, maxOldGenerationSizeMb: memorySize - newSpace };
}

const STOPPED: InvokeResult = {
  ok: false,
  error: { name: 'Stopped', message: 'runtime is shutting down' },
  ms: 0,
};

/** Outcomes kept per function for `outcomes()`; the oldest are dropped beyond this. */
const OUTCOME_HISTORY = 1000;

/**
 * Runs each function in a worker thread of its own: `process.env` is per worker, so every
 * function sees exactly the environment its template gives it. A worker is started on first
 * use and kept warm, as Lambda keeps a container, with the V8 heap Lambda's Node.js runtime
 * gives the function's memory (`lambdaHeapLimits`). Unlike Lambda, one warm worker serves
 * concurrent invocations (interleaved on its event loop) instead of starting more copies.
 */
export class LambdaHost {
  private readonly workers = new Map<string, Promise<Worker>>();
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private stopped = false;
  private readonly history = new Map<string, InvokeResult[]>();

  constructor(
    private readonly functions: ReadonlyMap<string, LocalFunction>,
    private readonly log: (line: string) => void,
    /** Counts invocations, billed milliseconds and log lines for `npm run bench` (P7). */
    private readonly meter?: UsageMeter,
  ) {}

  /** Finds a function by logical id, name or ARN. */
  find(nameOrArn: string): LocalFunction | undefined {
    for (const fn of this.functions.values()) {
      if (fn.logicalId === nameOrArn || fn.name === nameOrArn || fn.arn === nameOrArn) return fn;
    }
    return undefined;
  }

  all(): LocalFunction[] {
    return [...this.functions.values()];
  }

  async invoke(fn: LocalFunction, event: unknown): Promise<InvokeResult> {
    if (this.stopped) return STOPPED;
    const worker = await this.workerFor(fn).catch((error: Error) => error);
    if (worker instanceof Error)
      return { ok: false, error: { name: 'InitError', message: worker.message }, ms: 0 };
    // stop() may have run while the worker started: its timeout timer would outlive the runtime.
    if (this.stopped) return STOPPED;
    const id = this.nextId++;
    return new Promise<InvokeResult>((resolve) => {
      const started = Date.now();
      const finish = (outcome: InvokeResult) => {
        this.record(fn.logicalId, outcome);
        this.meter?.finished(fn.logicalId);
        resolve(outcome);
      };
      const timer = setTimeout(() => {
        this.pending.delete(id);
        finish({
          ok: false,
          error: { name: 'TimeoutError', message: `Task timed out after ${fn.timeoutMs} ms` },
          ms: Date.now() - started,
        });
      }, fn.timeoutMs);
      this.pending.set(id, {
        resolve: finish,
        started,
        timer,
        logicalId: fn.logicalId,
      });
      this.meter?.started(fn.logicalId);
      worker.postMessage({ id, event });
    });
  }

  /**
   * Every finished invocation of a function (by logical id, name or ARN), oldest first: its
   * result or error. Tests read fan-out reports here.
   */
  outcomes(nameOrArn: string): readonly InvokeResult[] {
    const fn = this.find(nameOrArn);
    return (fn && this.history.get(fn.logicalId)) ?? [];
  }

  /** Invocations of a function (by logical id, name or ARN) that have not finished yet. */
  running(nameOrArn: string): number {
    const fn = this.find(nameOrArn);
    return [...this.pending.values()].filter((p) => p.logicalId === fn?.logicalId).length;
  }

  /**
   * Kills a function's warm worker at once, as a crashed or timed-out Lambda container dies:
   * every invocation in flight fails with `Runtime.ExitError` and its open sockets close. The
   * next invocation starts a fresh worker (a cold start). Resolves with how many were in flight.
   */
  async crash(nameOrArn: string): Promise<number> {
    const fn = this.find(nameOrArn);
    const ready = fn && this.workers.get(fn.logicalId);
    if (!fn || !ready) return 0;
    this.workers.delete(fn.logicalId);
    const victims = [...this.pending.entries()].filter(([, p]) => p.logicalId === fn.logicalId);
    for (const [id, pending] of victims) {
      this.pending.delete(id);
      clearTimeout(pending.timer);
      pending.resolve({
        ok: false,
        error: { name: 'Runtime.ExitError', message: 'the worker was killed (injected crash)' },
        ms: Date.now() - pending.started,
      });
    }
    const worker = await ready.catch(() => undefined);
    await worker?.terminate();
    this.log(`  ${fn.logicalId} | worker killed (injected crash), ${victims.length} invocation(s) lost`);
    return victims.length;
  }

  private record(logicalId: string, outcome: InvokeResult): void {
    const list = this.history.get(logicalId) ?? [];
    list.push(outcome);
    if (list.length > OUTCOME_HISTORY) list.shift();
    this.history.set(logicalId, list);
  }

  private workerFor(fn: LocalFunction): Promise<Worker> {
    let ready = this.workers.get(fn.logicalId);
    if (!ready) {
      ready = this.start(fn);
      this.workers.set(fn.logicalId, ready);
      ready.catch(() => this.workers.delete(fn.logicalId));
    }
    return ready;
  }

  private start(fn: LocalFunction): Promise<Worker> {
    return new Promise((resolve, reject) => {
      const worker = new Worker(path.join(__dirname, 'lambda-worker.mjs'), {
        env: fn.env,
        workerData: {
          entry: fn.entry,
          handlerName: fn.handlerName,
          functionName: fn.name,
          functionArn: fn.arn,
          memorySize: fn.memorySize,
          timeoutMs: fn.timeoutMs,
        },
        stdout: true,
        stderr: true,
        resourceLimits: lambdaHeapLimits(fn.memorySize),
      });
      for (const stream of [worker.stdout, worker.stderr]) {
        readline.createInterface({ input: stream }).on('line', (line) => {
          this.meter?.logLine(fn.logicalId, line);
          this.log(`  ${fn.logicalId} | ${line}`);
        });
      }
      worker.on('message', (message: { type: string; id?: number } & Partial<InvokeResult>) => {
        if (message.type === 'ready') resolve(worker);
        else if (message.type === 'init-error')
          reject(new Error(`${fn.logicalId} failed to start: ${message.error?.message}`));
        else if (message.type === 'result' && message.id !== undefined) {
          const pending = this.pending.get(message.id);
          if (!pending) return;
          this.pending.delete(message.id);
          clearTimeout(pending.timer);
          pending.resolve({
            ok: Boolean(message.ok),
            result: message.result,
            error: message.error,
            ms: Date.now() - pending.started,
          });
        }
      });
      worker.on('error', (error) => {
        this.log(`  ${fn.logicalId} | worker crashed: ${error.message}`);
        this.workers.delete(fn.logicalId);
        reject(error);
      });
    });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const pending of this.pending.values()) clearTimeout(pending.timer);
    const workers = await Promise.allSettled(this.workers.values());
    await Promise.all(
      workers.map((w) => (w.status === 'fulfilled' ? w.value.terminate() : Promise.resolve(0))),
    );
    this.workers.clear();
  }
}
