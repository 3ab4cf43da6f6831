/** `npm run host -- …`: see scripts/host-cli.ts and the README. */
import { runCli } from './host-cli';

runCli(process.argv.slice(2), {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  interactive: process.stderr.isTTY === true,
}).then((code) => process.exit(code));
