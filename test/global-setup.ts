import { build } from 'vite';
import { synthesize } from '../local/runtime';

/**
 * Synthesizes once before any test file runs, so the local-runtime tests (which boot cdk.out)
 * never race two `cdk synth` runs writing the same folder, and builds the web pages. Set CUECAST_TEST_SKIP_SYNTH=1 to
 * reuse an existing cdk.out when iterating on tests that do not need a fresh one.
 */
export default async function globalSetup(): Promise<void> {
  if (process.env.CUECAST_TEST_SKIP_SYNTH === '1') return;
  await synthesize(process.cwd());
  // The browser tests load the built viewer and host console from the local runtime.
  await build({ configFile: 'vite.config.mts', logLevel: 'warn' });
}
