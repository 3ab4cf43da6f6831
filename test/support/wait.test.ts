import { RecentLines, waitUntil } from './wait';

describe('waitUntil', () => {
  it('resolves with the first truthy value of the condition', async () => {
    let calls = 0;
    await expect(
      waitUntil('the third call', () => (++calls >= 3 ? calls : 0), { intervalMs: 1 }),
    ).resolves.toBe(3);
  });

  it('names what it waited for and what it saw when the deadline passes', async () => {
    const log = new RecentLines(2);
    for (const line of ['one', 'two', 'three']) log.push(line);
    await expect(
      waitUntil('a frame that never comes', () => false, { timeoutMs: 30, describe: () => log.toString() }),
    ).rejects.toThrow(/timed out after 30 ms waiting for a frame that never comes; last seen: two\nthree$/);
  });

  it('reports the last error of a condition that throws', async () => {
    await expect(
      waitUntil(
        'a server',
        () => {
          throw new Error('ECONNREFUSED');
        },
        { timeoutMs: 30 },
      ),
    ).rejects.toThrow(/last seen: Error: ECONNREFUSED$/);
  });
});
