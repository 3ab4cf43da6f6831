import fc from 'fast-check';
import {
  decideAdmission,
  EMPTY_RATE_WINDOW,
  type RateWindow,
  retryAfterSeconds,
} from '../../lambda/domain/rate-window';
import { assertProperty } from './support';

const WINDOW_MS = 1000;

/** What the store does with an admission: record the call in its slot and move `seq` on. */
function admit(window: RateWindow, slot: number, nextSeq: number, nowMs: number): RateWindow {
  const slots = [...window.slots];
  slots[slot] = nowMs;
  return { seq: nextSeq, slots };
}

/** Gaps between attempts: bursts in the same millisecond, close calls, and pauses past the window. */
const gaps = fc.array(
  fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 60 }), fc.integer({ min: 0, max: 1_500 })),
  { minLength: 1, maxLength: 80 },
);
const start = fc.integer({ min: 0, max: 2 ** 42 });
const limit = fc.integer({ min: 1, max: 5 });

describe('when calls are attempted at non-decreasing times', () => {
  it('admits a call exactly when fewer than `limit` were admitted in the last 1000 ms', () => {
    assertProperty(
      fc.property(limit, start, gaps, (max, t0, deltas) => {
        let window = EMPTY_RATE_WINDOW;
        let now = t0;
        const admitted: number[] = [];
        for (const delta of deltas) {
          now += delta;
          const recent = admitted.filter((t) => now - t < WINDOW_MS).length;
          const decision = decideAdmission(window, now, max);
          expect(decision.admit).toBe(recent < max);
          if (decision.admit) {
            window = admit(window, decision.slot, decision.nextSeq, now);
            admitted.push(now);
          }
        }
        expect(window.seq).toBe(admitted.length);
      }),
      300,
    );
  });

  it('never lets a rolling 1000 ms window hold more than `limit` admitted calls', () => {
    assertProperty(
      fc.property(limit, start, gaps, (max, t0, deltas) => {
        let window = EMPTY_RATE_WINDOW;
        let now = t0;
        const admitted: number[] = [];
        for (const delta of deltas) {
          now += delta;
          const decision = decideAdmission(window, now, max);
          if (decision.admit) {
            window = admit(window, decision.slot, decision.nextSeq, now);
            admitted.push(now);
          }
        }
        for (const from of admitted) {
          expect(admitted.filter((t) => t >= from && t < from + WINDOW_MS).length).toBeLessThanOrEqual(max);
        }
      }),
      300,
    );
  });

  it('tells a refused call the shortest wait after which a retry is admitted', () => {
    let refusals = 0;
    assertProperty(
      fc.property(limit, start, gaps, (max, t0, deltas) => {
        let window = EMPTY_RATE_WINDOW;
        let now = t0;
        for (const delta of deltas) {
          now += delta;
          const decision = decideAdmission(window, now, max);
          if (decision.admit) {
            window = admit(window, decision.slot, decision.nextSeq, now);
            continue;
          }
          refusals++;
          expect(Number.isInteger(decision.retryAfterMs)).toBe(true);
          expect(decision.retryAfterMs).toBeGreaterThan(0);
          expect(decision.retryAfterMs).toBeLessThanOrEqual(WINDOW_MS);
          expect(decideAdmission(window, now + decision.retryAfterMs, max).admit).toBe(true);
          expect(decideAdmission(window, now + decision.retryAfterMs - 1, max).admit).toBe(false);
        }
      }),
      300,
    );
    expect(refusals).toBeGreaterThan(0);
  });

  it('admits a burst of `limit`, refuses the next until the first is 1000 ms old', () => {
    let window = EMPTY_RATE_WINDOW;
    for (let i = 0; i < 5; i++) {
      const decision = decideAdmission(window, 10_000, 5);
      expect(decision).toEqual({ admit: true, slot: i, nextSeq: i + 1 });
      if (decision.admit) window = admit(window, decision.slot, decision.nextSeq, 10_000);
    }
    expect(decideAdmission(window, 10_000, 5)).toEqual({ admit: false, retryAfterMs: 1000 });
    expect(decideAdmission(window, 10_999, 5)).toEqual({ admit: false, retryAfterMs: 1 });
    expect(decideAdmission(window, 11_000, 5)).toEqual({ admit: true, slot: 0, nextSeq: 6 });
  });

  it('uses the window length it is given', () => {
    const window: RateWindow = { seq: 2, slots: [100, 200] };
    expect(decideAdmission(window, 599, 2, 500)).toEqual({ admit: false, retryAfterMs: 1 });
    expect(decideAdmission(window, 600, 2, 500)).toEqual({ admit: true, slot: 0, nextSeq: 3 });
  });

  it('treats a slot never written as free', () => {
    expect(decideAdmission({ seq: 3, slots: [1, 2, 3] }, 3, 5)).toEqual({ admit: true, slot: 3, nextSeq: 4 });
  });

  it.each([0, -1, 1.5, Number.NaN])('refuses the limit %p', (bad) => {
    expect(() => decideAdmission(EMPTY_RATE_WINDOW, 0, bad)).toThrow(RangeError);
    expect(() => decideAdmission(EMPTY_RATE_WINDOW, 0, bad)).toThrow(/^limit must be a positive integer/);
  });
});

describe('when a wait is turned into Retry-After', () => {
  it('is the whole number of seconds that covers the wait, and at least 1', () => {
    assertProperty(
      fc.property(
        fc.oneof(fc.integer({ min: 1, max: 10_000_000 }), fc.double({ min: 0.001, max: 1e7, noNaN: true })),
        (ms) => {
          const seconds = retryAfterSeconds(ms);
          expect(Number.isInteger(seconds)).toBe(true);
          expect(seconds).toBeGreaterThanOrEqual(1);
          expect(seconds).toBe(Math.max(1, Math.ceil(ms / 1000)));
          expect(seconds * 1000).toBeGreaterThanOrEqual(ms);
          expect(seconds === 1 || (seconds - 1) * 1000 < ms).toBe(true);
        },
      ),
    );
  });

  it.each([
    [0, 1],
    [1, 1],
    [999, 1],
    [1000, 1],
    [1001, 2],
    [2500, 3],
  ])('turns %p ms into %p s', (ms, seconds) => {
    expect(retryAfterSeconds(ms)).toBe(seconds);
  });
});
