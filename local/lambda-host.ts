import type { Worker } from 'node:worker_threads';
import type { ServiceMetrics } from './cloudwatch/service-metrics';
import { FaultPlan } from './faults';
import { type Container, type ContainerInvocation, startContainer } from './lambda-container';
import type { InvokeResult, LocalFunction } from './lambda-function';
import type { UsageMeter } from './usage';

// The function model lives in lambda-function.ts; its users import it from here too.
export { type InvokeResult, type LocalFunction, lambdaHeapLimits } from './lambda-function';

const STOPPED: InvokeResult = {
  ok: false,
  error: { name: 'Stopped', message: 'runtime is shutting down' },
  ms: 0,
};

const CRASHED = 'Runtime exited with error: the container was killed (injected crash)';

/** Outcomes kept per function for `outcomes()`; the oldest are dropped beyond this. */
const OUTCOME_HISTORY = 1000;

/**
 * Containers one function may run at once. Lambda starts another container for each concurrent
 * invocation, up to the account's concurrency (1,000 by default); a laptop cannot run a thousand
 * worker threads, so beyond this an invocation waits for a container to come free
 * (docs/local-runtime.md).
 */
export const DEFAULT_CONTAINERS_PER_FUNCTION = 8;

interface Invocation extends ContainerInvocation {
  readonly fn: LocalFunction;
  readonly started: number;
  timer?: NodeJS.Timeout;
}

/** A function's containers: warm ones waiting, the count that exists, and invocations queued for one. */
interface Pool {
  readonly idle: Container[];
  readonly live: Set<Container>;
  starting: number;
  readonly queue: Array<(container: Container | Error) => void>;
}

/**
 * Runs each function as Lambda does, in containers: a worker thread per container, so
 * `process.env` is exactly the environment the template gives the function, with the V8 heap
 * Lambda's Node.js runtime gives its memory (`lambdaHeapLimits`). A container serves one
 * invocation at a time. A concurrent invocation gets another container (a cold start) up to
 * `containersPerFunction`; a finished container stays warm and is reused, newest first. An
 * invocation that passes the function's timeout fails with `Task timed out`, and its container
 * is terminated, as Lambda kills it: nothing the invocation would still have done happens.
 */
export class LambdaHost {
  /**
   * Injected crashes (tests only; nothing is armed by default): `crash` kills the container an
   * invocation starts on, before the handler runs, as a container that dies mid-invocation fails it.
   */
  readonly faults = new FaultPlan<{ readonly logicalId: string; readonly event: unknown }, 'crash'>();
  private readonly pools = new Map<string, Pool>();
  /** Invocations not finished yet (queued or running), by id. */
  private readonly inFlight = new Map<number, Invocation>();
  private nextId = 1;
  private stopped = false;
  private readonly history = new Map<string, InvokeResult[]>();
  /** Every worker not yet terminated, starting ones included, so stop() leaves none behind. */
  private readonly workers = new Set<Worker>();

  constructor(
    private readonly functions: ReadonlyMap<string, LocalFunction>,
    private readonly log: (line: string) => void,
    /** Counts invocations, billed milliseconds and log lines for `npm run bench` (P7). */
    private readonly meter?: UsageMeter,
    private readonly containersPerFunction = DEFAULT_CONTAINERS_PER_FUNCTION,
    /** AWS/Lambda's metrics of each invocation, and the functions' EMF lines, for the local alarms. */
    private readonly metrics?: ServiceMetrics,
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
    const id = this.nextId++;
    let settle: (outcome: InvokeResult) => void = () => undefined;
    const done = new Promise<InvokeResult>((resolve) => {
      settle = resolve;
    });
    const invocation: Invocation = {
      id,
      fn,
      started: Date.now(),
      finish: (outcome) => {
        if (!this.inFlight.delete(id)) return;
        clearTimeout(invocation.timer);
        this.record(fn.logicalId, outcome);
        settle(outcome);
      },
    };
    this.inFlight.set(id, invocation);
    const container = await this.acquire(fn);
    if (container instanceof Error) {
      invocation.finish({ ok: false, error: { name: 'InitError', message: container.message }, ms: 0 });
      return done;
    }
    // stop() or crash() may have run while it waited: its timeout timer would outlive them.
    if (this.stopped || !this.inFlight.has(id)) {
      this.release(fn, container);
      invocation.finish(STOPPED);
      return done;
    }
    this.run(container, invocation, event);
    return done;
  }

  /** Hands the event to a container, and fails the invocation (killing the container) at its timeout. */
  private run(container: Container, invocation: Invocation, event: unknown): void {
    const { fn } = invocation;
    const started = Date.now();
    container.current = invocation;
    this.meter?.started(fn.logicalId);
    const finish = invocation.finish;
    (invocation as { finish: Invocation['finish'] }).finish = (outcome) => {
      if (!this.inFlight.has(invocation.id)) return;
      this.meter?.finished(fn.logicalId);
      const finished = { ...outcome, ms: Date.now() - started };
      this.metrics?.invoked(fn.name, finished);
      finish(finished);
    };
    if (this.faults.active && this.faults.take({ logicalId: fn.logicalId, event }) === 'crash') {
      this.log(`  ${fn.logicalId} | container killed (injected crash)`);
      invocation.finish({ ok: false, error: { name: 'Runtime.ExitError', message: CRASHED }, ms: 0 });
      void this.discard(fn, container);
      return;
    }
    invocation.timer = setTimeout(() => {
      invocation.finish({
        ok: false,
        error: {
          name: 'TimeoutError',
          message: `Task timed out after ${(fn.timeoutMs / 1000).toFixed(2)} seconds`,
        },
        ms: 0,
      });
      this.log(`  ${fn.logicalId} | Task timed out: its container is terminated`);
      this.discard(fn, container);
    }, fn.timeoutMs);
    container.worker.postMessage({ id: invocation.id, event });
  }

  /** Counts an invocation that failed outside a container (an injected asynchronous failure) in the metrics. */
  failedOutside(fn: LocalFunction, outcome: InvokeResult): void {
    this.metrics?.invoked(fn.name, outcome);
  }

  /**
   * Every finished invocation of a function (by logical id, name or ARN), oldest first: its
   * result or error. Tests read fan-out reports here.
   */
  outcomes(nameOrArn: string): readonly InvokeResult[] {
    const fn = this.find(nameOrArn);
    return (fn && this.history.get(fn.logicalId)) ?? [];
  }

  /** Invocations of a function (by logical id, name or ARN) that have not finished yet, queued ones included. */
  running(nameOrArn: string): number {
    const fn = this.find(nameOrArn);
    return [...this.inFlight.values()].filter((i) => i.fn.logicalId === fn?.logicalId).length;
  }

  /** Containers a function has now (warm or busy), by logical id, name or ARN. */
  containers(nameOrArn: string): number {
    const fn = this.find(nameOrArn);
    return (fn && this.pools.get(fn.logicalId)?.live.size) ?? 0;
  }

  /**
   * Kills a function's containers at once, as crashed Lambda containers die: every invocation
   * they run fails with `Runtime.ExitError` and their open sockets close. The next invocation
   * starts a fresh container (a cold start). Resolves with how many invocations were lost.
   */
  async crash(nameOrArn: string): Promise<number> {
    const fn = this.find(nameOrArn);
    const pool = fn && this.pools.get(fn.logicalId);
    if (!fn || !pool) return 0;
    const victims = [...pool.live];
    let lost = 0;
    for (const container of victims) {
      if (container.current) lost++;
      container.current?.finish({
        ok: false,
        error: { name: 'Runtime.ExitError', message: 'the container was killed (injected crash)' },
        ms: 0,
      });
      container.current = undefined;
    }
    await Promise.all(victims.map((container) => this.discard(fn, container)));
    this.log(
      `  ${fn.logicalId} | ${victims.length} container(s) killed (injected crash), ${lost} invocation(s) lost`,
    );
    return lost;
  }

  private record(logicalId: string, outcome: InvokeResult): void {
    const list = this.history.get(logicalId) ?? [];
    list.push(outcome);
    if (list.length > OUTCOME_HISTORY) list.shift();
    this.history.set(logicalId, list);
  }

  private poolOf(fn: LocalFunction): Pool {
    let pool = this.pools.get(fn.logicalId);
    if (!pool) {
      pool = { idle: [], live: new Set(), starting: 0, queue: [] };
      this.pools.set(fn.logicalId, pool);
    }
    return pool;
  }

  /** A warm container, a new one (a cold start) while the pool has room, or the next one freed. */
  private acquire(fn: LocalFunction): Promise<Container | Error> {
    const pool = this.poolOf(fn);
    const warm = pool.idle.pop();
    if (warm) return Promise.resolve(warm);
    if (pool.live.size + pool.starting < this.containersPerFunction) return this.coldStart(fn, pool);
    return new Promise((resolve) => pool.queue.push(resolve));
  }

  private async coldStart(fn: LocalFunction, pool: Pool): Promise<Container | Error> {
    pool.starting++;
    try {
      if (this.stopped) throw new Error('runtime is shutting down');
      const container = await this.start(fn, pool);
      if (this.stopped) {
        await container.worker.terminate().catch(() => undefined);
        throw new Error('runtime is shutting down');
      }
      pool.live.add(container);
      return container;
    } catch (error) {
      return error as Error;
    } finally {
      pool.starting--;
    }
  }

  /** A container whose invocation finished: to the first queued invocation, or warm in the pool. */
  private release(fn: LocalFunction, container: Container): void {
    const pool = this.poolOf(fn);
    container.current = undefined;
    if (!pool.live.has(container)) return;
    const next = pool.queue.shift();
    if (next) next(container);
    else pool.idle.push(container);
  }

  /** Terminates a container; a queued invocation then gets a fresh one in its place. */
  private discard(fn: LocalFunction, container: Container): Promise<unknown> {
    const pool = this.poolOf(fn);
    const wasLive = pool.live.delete(container);
    const idleAt = pool.idle.indexOf(container);
    if (idleAt >= 0) pool.idle.splice(idleAt, 1);
    const next = wasLive && !this.stopped ? pool.queue.shift() : undefined;
    if (next) void this.coldStart(fn, pool).then(next);
    return container.worker.terminate().catch(() => undefined);
  }

  private start(fn: LocalFunction, pool: Pool): Promise<Container> {
    return startContainer(fn, {
      spawned: (worker) => {
        this.workers.add(worker);
        worker.once('exit', () => this.workers.delete(worker));
      },
      line: (line) => {
        this.meter?.logLine(fn.logicalId, line);
        this.metrics?.logLine(line);
        this.log(`  ${fn.logicalId} | ${line}`);
      },
      served: (container) => this.release(fn, container),
      died: (container, reason) => {
        if (!pool.live.has(container)) return;
        this.log(`  ${fn.logicalId} | container exited: ${reason}`);
        container.current?.finish({
          ok: false,
          error: { name: 'Runtime.ExitError', message: `Runtime exited with error: ${reason}` },
          ms: 0,
        });
        container.current = undefined;
        void this.discard(fn, container);
      },
    });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const invocation of [...this.inFlight.values()]) invocation.finish(STOPPED);
    for (const pool of this.pools.values())
      for (const waiter of pool.queue.splice(0)) waiter(new Error('stopped'));
    // Every worker, starting ones too: a container still booting would otherwise outlive stop().
    await Promise.all([...this.workers].map((worker) => worker.terminate().catch(() => 0)));
    this.pools.clear();
  }
}
