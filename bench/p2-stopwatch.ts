import * as fs from 'node:fs';
import type { Audience } from './p2-audience';

/** One timed variant of P2, as the table prints it. */
export interface FanOutRow {
  variant: string;
  posts: number;
  seconds: number;
  /** From the request (or the start of the loop) to the first message received. */
  firstDeliveryMs: number;
  /** CPU of every process involved (bench and runtime, all threads) per delivery. */
  cpuMsPerDelivery: number;
  /** CPU of the busiest thread, the one that posts, per delivery. */
  postingThreadMsPerDelivery: number;
  /** That thread's CPU over the run's wall time: near 1, the run was bound by that one thread. */
  postingThreadBusy: number;
  note?: string;
}

const ticksPerSecond = 100;
const statFields = (path: string): string[] => fs.readFileSync(path, 'utf8').split(') ')[1].split(' ');
/** User + system CPU, in ms, from a /proc stat file (of a process, or of one of its threads). */
const cpuMsOf = (fields: string[]) => ((Number(fields[11]) + Number(fields[12])) * 1000) / ticksPerSecond;

/** A process and every process under it (tsx runs the script in a child of its own). */
function processTree(root: number): number[] {
  const parentOf = new Map<number, number>();
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      parentOf.set(Number(entry), Number(statFields(`/proc/${entry}/stat`)[1]));
    } catch {
      // the process ended while we looked
    }
  }
  const tree = new Set([root]);
  for (let grew = true; grew; ) {
    grew = false;
    for (const [pid, parent] of parentOf)
      if (tree.has(parent) && !tree.has(pid)) {
        tree.add(pid);
        grew = true;
      }
  }
  return [...tree];
}

/**
 * CPU so far, in ms, of every thread of the given processes, by `pid/tid` (Linux /proc): a
 * Lambda worker, the runtime's main thread and V8's helper threads each count on their own.
 */
function threadCpus(pids: readonly number[]): Map<string, number> {
  const threads = new Map<string, number>();
  for (const pid of pids) {
    let tids: string[] = [];
    try {
      tids = fs.readdirSync(`/proc/${pid}/task`);
    } catch {
      continue; // ended
    }
    for (const tid of tids) {
      try {
        threads.set(`${pid}/${tid}`, cpuMsOf(statFields(`/proc/${pid}/task/${tid}/stat`)));
      } catch {
        // ended
      }
    }
  }
  return threads;
}

/** Something timed: resolves once started, with a promise of its whole run (awaited untimed). */
export type Start = () => Promise<{ done?: Promise<unknown> }>;

/**
 * Times P2's variants alike, and keeps a row for each: wall time to the last delivery at the
 * audience, and CPU of the bench and the runtime process tree, in total and for the busiest
 * thread (the one that posts).
 */
export class Stopwatch {
  readonly rows: FanOutRow[] = [];

  constructor(
    private readonly audience: Audience,
    private readonly runtimePid: number,
  ) {}

  /** CPU so far of the bench (its poster workers included) and of the runtime, in total and by thread. */
  private cpu() {
    const pids = [process.pid, ...processTree(this.runtimePid)];
    let total = 0;
    for (const pid of pids) {
      try {
        total += cpuMsOf(statFields(`/proc/${pid}/stat`));
      } catch {
        // ended
      }
    }
    return { total, threads: threadCpus(pids) };
  }

  /**
   * Times `start` to the last of `deliveries` messages tagged `tag`, for every variant alike: a
   * reveal's request returns before its fan-out runs, and a baseline's run (`done`) is awaited
   * only after the clock stopped, so the 410s and deletes after the last delivery are untimed in
   * both. CPU is read at the same point.
   */
  async clock(tag: string, deliveries: number, start: Start) {
    const cpu0 = this.cpu();
    const t0 = Date.now();
    const { done = Promise.resolve() } = await start();
    const settled = done.then(
      () => undefined,
      (error: unknown) => error ?? new Error(`${tag} failed`),
    );
    let failure: unknown;
    void settled.then((error) => {
      failure = error;
    });
    const last = await this.audience.waitFor(tag, deliveries, 600_000, () => failure);
    const cpu1 = this.cpu();
    const cpuMs = cpu1.total - cpu0.total;
    let busiestMs = 0;
    for (const [thread, ms] of cpu1.threads)
      busiestMs = Math.max(busiestMs, ms - (cpu0.threads.get(thread) ?? 0));
    const error = await settled;
    if (error) throw error;
    const seconds = (last - t0) / 1000;
    return { seconds, firstDeliveryMs: (this.audience.firstArrival(tag) ?? t0) - t0, cpuMs, busiestMs };
  }

  /** `clock`, with the variant's row kept; returns its seconds. */
  async timed(variant: string, deliveries: number, start: Start, note?: string): Promise<number> {
    const { seconds, firstDeliveryMs, cpuMs, busiestMs } = await this.clock(variant, deliveries, start);
    this.rows.push({
      variant,
      posts: deliveries,
      seconds: Math.round(seconds * 100) / 100,
      firstDeliveryMs,
      cpuMsPerDelivery: Math.round((cpuMs / deliveries) * 1000) / 1000,
      postingThreadMsPerDelivery: Math.round((busiestMs / deliveries) * 1000) / 1000,
      postingThreadBusy: Math.round(busiestMs / (seconds * 10)) / 100,
      note,
    });
    return seconds;
  }
}
