import { runCli } from '../../scripts/host-cli';

/** What one in-process run of the host CLI printed, and its exit status. */
export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the host CLI in this process, as `npm run host -- ARGS` would, capturing its output. */
export async function captureCli(args: string[], env: NodeJS.ProcessEnv = {}): Promise<CliRun> {
  const run: CliRun = { code: -1, stdout: '', stderr: '' };
  run.code = await runCli(
    args,
    {
      stdout: (text) => {
        run.stdout += text;
      },
      stderr: (text) => {
        run.stderr += text;
      },
    },
    env,
  );
  return run;
}
