import { answerDeadline, isOlderQuestion, openedAt, secondsLeftUntil } from '../../web/src/viewer/countdown';

/** The viewer page's countdown (web/src/viewer/countdown.ts): video time, capped by the server. */
const OPENS = Date.parse('2030-01-01T00:00:00.000Z');
const WINDOW = { closesAt: '2030-01-01T00:00:20.000Z', durationSeconds: 20, graceSeconds: 8 };

describe('when a question shows on a viewer screen', () => {
  it('gives the whole duration to a viewer who sees it late, up to the grace', () => {
    for (const lateMs of [0, 2_000, 5_000, 8_000]) {
      expect(answerDeadline(WINDOW, OPENS + lateMs, 0)).toBe(OPENS + lateMs + 20_000);
    }
  });

  it('stops at closesAt plus the grace for a viewer further behind than the grace', () => {
    expect(answerDeadline(WINDOW, OPENS + 10_000, 0)).toBe(OPENS + 28_000);
    expect(secondsLeftUntil(answerDeadline(WINDOW, OPENS + 10_000, 0), OPENS + 10_000)).toBe(18);
  });

  it("reads the server's closing time through the clock offset", () => {
    // This device's clock is 3 s behind the server's: the server closes at local 25 s.
    expect(answerDeadline(WINDOW, OPENS + 9_000, 3_000)).toBe(OPENS + 25_000);
  });

  it('falls back on closesAt alone for a cue without a duration (sent before this rule)', () => {
    expect(answerDeadline({ closesAt: WINDOW.closesAt }, OPENS + 5_000, 0)).toBe(OPENS + 20_000);
  });

  it('counts whole seconds up and never below zero', () => {
    expect(secondsLeftUntil(OPENS + 1_500, OPENS)).toBe(2);
    expect(secondsLeftUntil(OPENS, OPENS + 10)).toBe(0);
  });
});

describe('when the sync and the cues race', () => {
  const shown = { closesAt: '2030-01-01T00:01:00.000Z', durationSeconds: 30 };
  const opened = openedAt(shown);

  it('dates a question by when it opened: its close less its duration', () => {
    expect(opened).toBe(Date.parse('2030-01-01T00:00:30.000Z'));
    expect(openedAt({ closesAt: shown.closesAt })).toBeNaN();
  });

  it('takes a question opened before the one shown as late: a stale sync, a cue behind in the video', () => {
    // Opened 10 s earlier, though it closes later (a longer duration): still the older one.
    expect(isOlderQuestion(opened, { closesAt: '2030-01-01T00:01:20.000Z', durationSeconds: 60 })).toBe(true);
    expect(isOlderQuestion(opened, { closesAt: '2030-01-01T00:00:59.000Z', durationSeconds: 30 })).toBe(true);
  });

  it('takes a question opened at or after the one shown as current', () => {
    expect(isOlderQuestion(opened, { closesAt: '2030-01-01T00:01:10.000Z', durationSeconds: 5 })).toBe(false);
    expect(isOlderQuestion(opened, shown)).toBe(false);
  });

  it('does not refuse when either time is unknown (nothing shown, or a cue without a duration)', () => {
    expect(isOlderQuestion(undefined, shown)).toBe(false);
    expect(isOlderQuestion(Number.NaN, shown)).toBe(false);
    expect(isOlderQuestion(opened, { closesAt: '2030-01-01T00:00:10.000Z' })).toBe(false);
  });
});
