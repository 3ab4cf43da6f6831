import * as path from 'node:path';
import * as readline from 'node:readline';
import { Worker } from 'node:worker_threads';
import { type InvokeResult, type LocalFunction, lambdaHeapLimits } from './lambda-function';

/** What a container serves: an invocation, told its outcome once. */
export interface ContainerInvocation {
  readonly id: number;
  readonly finish: (outcome: InvokeResult) => void;
}

/** One Lambda "container": a worker thread that serves one invocation at a time. */
export interface Container {
  readonly worker: Worker;
  /** The invocation it serves now, if any. */
  current?: ContainerInvocation;
}

/** What the host hears of a container's life. */
export interface ContainerEvents {
  /** Its worker exists (before its init ran): the host terminates every such worker on stop. */
  spawned(worker: Worker): void;
  /** A line the function printed (its CloudWatch log event). */
  line(line: string): void;
  /** Its invocation returned or threw: the outcome has been handed to the invocation. */
  served(container: Container): void;
  /** The worker died after its init (an exit, an uncaught error): `reason` says how. */
  died(container: Container, reason: string): void;
}

/**
 * Starts a container for `fn`: a worker thread with exactly the function's environment and the
 * heap Lambda's Node.js runtime gives its memory, which loads the bundle and builds its clients
 * (the init). Resolves once the init is done; rejects, leaving nothing running, if it failed.
 */
export function startContainer(fn: LocalFunction, events: ContainerEvents): Promise<Container> {
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
    const container: Container = { worker };
    events.spawned(worker);
    for (const stream of [worker.stdout, worker.stderr])
      readline.createInterface({ input: stream }).on('line', events.line);
    let ready = false;
    worker.on('message', (message: { type: string; id?: number } & Partial<InvokeResult>) => {
      if (message.type === 'ready') {
        ready = true;
        resolve(container);
      } else if (message.type === 'init-error') {
        // Lambda discards a container whose init failed; a worker left running would keep the process alive.
        void worker.terminate().catch(() => undefined);
        reject(new Error(`${fn.logicalId} failed to start: ${message.error?.message}`));
      } else if (message.type === 'result' && container.current && message.id === container.current.id) {
        container.current.finish({
          ok: Boolean(message.ok),
          result: message.result,
          error: message.error,
          ms: 0,
        });
        events.served(container);
      }
    });
    const died = (reason: string) => {
      if (!ready) return reject(new Error(`${fn.logicalId} failed to start: ${reason}`));
      events.died(container, reason);
    };
    worker.on('error', (error) => died(error.message));
    worker.on('exit', (code) => died(`exit status ${code}`));
  });
}
