import type { ResourceLimits } from 'node:worker_threads';

/** A function of the template as the local Lambda host runs it, and what one invocation returns. */
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
