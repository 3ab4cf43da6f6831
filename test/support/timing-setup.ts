/**
 * Per test file: how much of its wall time the jest worker spent computing (its process's CPU
 * time, worker threads included) and how much it spent waiting (timers, sockets, child processes
 * such as Chromium and ffmpeg). test/support/timing-reporter.js prints the table.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

const dir = process.env.CUECAST_TIMING_DIR;
if (dir) {
  let wallStart = 0;
  let cpuStart: NodeJS.CpuUsage = { user: 0, system: 0 };
  beforeAll(() => {
    wallStart = performance.now();
    cpuStart = process.cpuUsage();
  });
  afterAll(() => {
    const cpu = process.cpuUsage(cpuStart);
    const record = {
      file: expect.getState().testPath,
      wallMs: Math.round(performance.now() - wallStart),
      cpuMs: Math.round((cpu.user + cpu.system) / 1000),
    };
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(
      path.join(dir, `${process.pid}-${Date.now()}-${Math.random()}.json`),
      JSON.stringify(record),
    );
  });
}
