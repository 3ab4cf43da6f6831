/**
 * The one way a test waits: for a condition, with a deadline. When the deadline passes, the
 * error says what was awaited and what was last seen (`describe` returns it: the last frames,
 * the runtime's recent log lines, whatever tells the story).
 */
export interface WaitOptions {
  /** @default 20_000 */
  readonly timeoutMs?: number;
  /** How often the condition is checked, in ms. @default 25 */
  readonly intervalMs?: number;
  /** What was seen, for the timeout's message. @default the condition's last value */
  readonly describe?: () => unknown;
}

/**
 * Resolves with the condition's first truthy value. `condition` may be async; a condition that
 * throws is treated as not yet true, and its last error is reported at the deadline.
 */
export async function waitUntil<T>(
  what: string,
  condition: () => T | Promise<T>,
  { timeoutMs = 20_000, intervalMs = 25, describe }: WaitOptions = {},
): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await condition();
      if (value) return value as NonNullable<T>;
      last = value;
    } catch (error) {
      last = error instanceof Error ? `${error.name}: ${error.message}` : error;
    }
    if (Date.now() >= deadline) {
      const seen = describe ? describe() : last;
      const text = typeof seen === 'string' ? seen : JSON.stringify(seen, null, 1);
      throw new Error(
        `timed out after ${timeoutMs} ms waiting for ${what}; last seen: ${text?.slice(-4000)}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/**
 * A bounded log that keeps the last `size` lines, for a runtime's `log` option: a timeout can
 * then show what the runtime did just before.
 */
export class RecentLines {
  private readonly lines: string[] = [];
  constructor(private readonly size = 40) {}
  readonly push = (line: string): void => {
    this.lines.push(line);
    if (this.lines.length > this.size) this.lines.shift();
  };
  toString(): string {
    return this.lines.join('\n');
  }
}
