import { synthesizeVariants } from '../local/synth';

/**
 * Synthesizes once before any test file runs, so the local-runtime tests (which boot cdk.out)
 * never race a synth writing the folder they read: the default stack into cdk.out and the
 * viewer-auth variant (`-c viewerAuth=true`) into cdk.out.viewer-auth, in one process that
 * bundles each function once (scripts/synth-variants.ts). Each assembly holds the web pages
 * (Vite) in the stack's own deployment asset, which the runtime serves. Set
 * CUECAST_TEST_SKIP_SYNTH=1 to reuse existing assemblies when iterating on tests that do not
 * need fresh ones.
 */
export default async function globalSetup(): Promise<void> {
  if (process.env.CUECAST_TEST_SKIP_SYNTH === '1') return;
  await synthesizeVariants(process.cwd());
}
