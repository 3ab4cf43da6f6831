import * as fs from 'node:fs';
import * as path from 'node:path';
import { ANSWER_SECONDS, DEFAULT_SHOW_SHAPE, OTHER_EXECUTIONS, showNeeds } from '../../client/show-scale';

/** client/show-scale.ts: docs/scale.md's arithmetic, which preflight sets the account against. */
const scaleDoc = fs.readFileSync(path.join(__dirname, '..', '..', 'docs', 'scale.md'), 'utf8');
const figure = (n: number) => n.toLocaleString('en-US');

describe('what a show of N viewers needs', () => {
  it('gives a million viewers the figures docs/scale.md reasons with', () => {
    const needs = showNeeds(1_000_000);
    expect(needs).toMatchObject({
      answersPerSecond: 80_000,
      writesPerSecond: 160_000,
      apiRequestsPerSecond: 160_000,
      newConnectionsPerSecond: 1_667,
      concurrentViews: 1_000_000,
    });
    // The answers' share of the concurrency: rate × duration.
    expect(Math.ceil(needs.answersPerSecond * ANSWER_SECONDS)).toBe(3_200);
    // The document quotes each figure as the model computes it: neither can change alone.
    for (const quoted of [
      `**${figure(needs.answersPerSecond)} answers/s**`,
      `**${figure(needs.writesPerSecond)} writes/s**`,
      `${figure(needs.apiRequestsPerSecond)} requests/s`,
      `**${figure(Math.ceil(needs.answersPerSecond * ANSWER_SECONDS))}**`,
      `**${figure(needs.lambdaConcurrency)}** in all`,
      `${figure(needs.newConnectionsPerSecond)} a second`,
    ])
      expect(scaleDoc).toContain(quoted);
  });

  it('counts the busiest phase: the joins, the answer burst or the fan-out, and the other functions', () => {
    // A small show: the reveal's fan-out segments are its busiest moment.
    expect(showNeeds(1).lambdaConcurrency).toBe(DEFAULT_SHOW_SHAPE.fanOutSegments + OTHER_EXECUTIONS);
    expect(showNeeds(1_000, { fanOutSegments: 64 }).lambdaConcurrency).toBe(64 + OTHER_EXECUTIONS);
    // A large one: the answer burst.
    expect(showNeeds(1_000_000).lambdaConcurrency).toBe(3_200 + OTHER_EXECUTIONS);
    const needs = [100, 1_000, 10_000, 100_000].map((n) => showNeeds(n).lambdaConcurrency);
    expect(needs).toEqual([...needs].sort((a, b) => a - b));
  });

  it('fits a new account (10 concurrent executions) only with a couple of thousand viewers', () => {
    // The reason preflight exists: a first show on a new account throttles answers.
    expect(showNeeds(2_000).lambdaConcurrency).toBeLessThanOrEqual(10);
    expect(showNeeds(3_000).lambdaConcurrency).toBeGreaterThan(10);
  });

  it('refuses an audience that is not a whole number of at least 1', () => {
    for (const bad of [0, -5, 1.5, Number.NaN, Number.POSITIVE_INFINITY])
      expect(() => showNeeds(bad)).toThrow(/viewers must be a whole number of at least 1/);
  });
});
