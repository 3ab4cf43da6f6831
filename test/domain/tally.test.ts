import fc from 'fast-check';
import {
  compareRecordsWithTally,
  countAttribute,
  DEFAULT_TALLY_SHARDS,
  LIVE_TALLY_INTERVAL_MS,
  liveTallyWindow,
  MAX_TALLY_SHARDS,
  shardOf,
  sumShards,
} from '../../lambda/domain/tally';
import { anyString, assertProperty } from './support';

const shardCount = fc.integer({ min: 1, max: MAX_TALLY_SHARDS });
const viewerId = fc.oneof(fc.uuid(), anyString(40));

describe('when a viewer is put on a shard', () => {
  it('always lands on the same shard, within [0, shards)', () => {
    assertProperty(
      fc.property(viewerId, shardCount, (viewer, shards) => {
        const shard = shardOf(viewer, shards);
        expect(Number.isInteger(shard)).toBe(true);
        expect(shard).toBeGreaterThanOrEqual(0);
        expect(shard).toBeLessThan(shards);
        expect(shardOf(viewer, shards)).toBe(shard);
      }),
      300,
    );
  });

  it('uses 32-bit FNV-1a, so every runtime agrees', () => {
    // Reference vectors of FNV-1a 32: "" → 0x811c9dc5, "a" → 0xe40c292c, "foobar" → 0xbf9cf968.
    expect(shardOf('', 97)).toBe(0x811c9dc5 % 97);
    expect(shardOf('a', 97)).toBe(0xe40c292c % 97);
    expect(shardOf('foobar', 97)).toBe(0xbf9cf968 % 97);
    // Over UTF-16 code units, as JavaScript strings hold them: 'é' is 0x00e9, '😀' is 0xd83d 0xde00.
    expect(shardOf('\u00e9', 97)).toBe(0x6c0b6c44 % 97);
    expect(shardOf('😀', 97)).toBe(0xcb31c4b8 % 97);
    expect(shardOf('foobar', 1)).toBe(0);
  });

  it('spreads many viewers over every shard', () => {
    const hits = new Set(
      Array.from({ length: 2_000 }, (_, i) => shardOf(`viewer-${i}`, DEFAULT_TALLY_SHARDS)),
    );
    expect(hits.size).toBe(DEFAULT_TALLY_SHARDS);
  });
});

describe('when shard items are summed', () => {
  it('gives the same counts as counting the answers directly, and a total equal to both', () => {
    assertProperty(
      fc.property(
        fc.integer({ min: 2, max: 4 }).chain((choices) =>
          fc.tuple(
            fc.constant(choices),
            shardCount,
            fc.uniqueArray(fc.tuple(viewerId, fc.nat(choices - 1)), {
              selector: ([viewer]) => viewer,
              maxLength: 200,
            }),
          ),
        ),
        ([choices, shards, answers]) => {
          const items: Array<Record<string, number | string>> = Array.from(
            { length: shards },
            (_, shard) => ({
              pk: `quiz-1#${shard}`,
            }),
          );
          const direct = Array.from({ length: choices }, () => 0);
          for (const [viewer, choice] of answers) {
            const item = items[shardOf(viewer, shards)];
            const key = countAttribute(choice);
            item[key] = (typeof item[key] === 'number' ? item[key] : 0) + 1;
            direct[choice]++;
          }
          const tally = sumShards(items, choices);
          expect(tally.counts).toEqual(direct);
          expect(tally.total).toBe(answers.length);
          expect(tally.total).toBe(tally.counts.reduce((a, b) => a + b, 0));
        },
      ),
      300,
    );
  });

  it('names count attributes c0, c1, ...', () => {
    expect([0, 1, 3].map(countAttribute)).toEqual(['c0', 'c1', 'c3']);
  });

  it('treats missing shards and attributes as zero and ignores non-numeric ones', () => {
    expect(sumShards([], 3)).toEqual({ counts: [0, 0, 0], total: 0 });
    expect(
      sumShards([{ pk: 'q#0', c0: 2, c2: 1 }, { pk: 'q#1' }, { pk: 'q#2', c0: '5', c1: 4, c9: 100 }], 3),
    ).toEqual({ counts: [2, 4, 1], total: 7 });
  });
});

describe('when the answer records of a revealed quiz are compared with its sealed counts', () => {
  const choiceCount = fc.integer({ min: 2, max: 4 });

  it('is settled exactly when every choice has as many records as counts', () => {
    assertProperty(
      fc.property(
        choiceCount.chain((n) =>
          fc.tuple(
            fc.array(fc.nat({ max: n - 1 }), { maxLength: 50 }),
            fc.array(fc.nat({ max: 20 }), { minLength: n, maxLength: n }),
          ),
        ),
        ([records, counts]) => {
          const against = compareRecordsWithTally(records, counts);
          const perChoice = counts.map((_, i) => records.filter((r) => r === i).length);
          expect(against.settled).toBe(perChoice.every((n, i) => n === counts[i]));
          expect(against.excess).toEqual(perChoice.map((n, i) => Math.max(0, n - counts[i])));
          expect(against.missing).toEqual(perChoice.map((n, i) => Math.max(0, counts[i] - n)));
        },
      ),
    );
  });

  it('names a record left by an answer refused at the seal as excess', () => {
    expect(compareRecordsWithTally([0, 1, 1], [1, 1])).toEqual({
      settled: false,
      excess: [0, 1],
      missing: [0, 0],
    });
    expect(compareRecordsWithTally([0, 1], [1, 1])).toEqual({
      settled: true,
      excess: [0, 0],
      missing: [0, 0],
    });
  });
});

describe('when an answer to a live poll is counted', () => {
  const live = { liveResults: true as const };

  it('opens a one-second window when none runs, and none while one runs', () => {
    expect(liveTallyWindow(live, 10_000)).toBe(10_000 + LIVE_TALLY_INTERVAL_MS);
    expect(liveTallyWindow({ ...live, liveTallyUntil: 10_500 }, 10_000)).toBeUndefined();
    expect(liveTallyWindow({ ...live, liveTallyUntil: 10_000 }, 10_000)).toBe(11_000);
  });

  it('opens nothing for a quiz or a poll without live results', () => {
    expect(liveTallyWindow({}, 10_000)).toBeUndefined();
  });
});
