import { spawn } from 'node:child_process';
import * as path from 'node:path';

/** Where a synthesized assembly lives: cdk.out, or its own folder for the viewer-auth variant. */
export function assemblyDirFor(projectDir: string, viewerAuth = false): string {
  return path.join(projectDir, viewerAuth ? 'cdk.out.viewer-auth' : 'cdk.out');
}

/**
 * Runs `cdk synth` and returns its output if it fails, so the caller can say why. With
 * `viewerAuth` it synthesizes the variant with viewer auth on into its own folder.
 */
export function synthesize(
  projectDir: string,
  { viewerAuth = false }: { viewerAuth?: boolean } = {},
): Promise<void> {
  const args = viewerAuth ? ['-c', 'viewerAuth=true', '-o', assemblyDirFor(projectDir, true)] : [];
  // The pinned CLI from our own node_modules: never a download, never another version.
  return runSynth('cdk synth', projectDir, [require.resolve('aws-cdk/bin/cdk'), 'synth', '--quiet', ...args]);
}

/**
 * Both assemblies the tests boot, cdk.out and cdk.out.viewer-auth, in one process that bundles
 * each function once (scripts/synth-variants.ts): what two {@link synthesize} runs write, in
 * half the CPU.
 */
export function synthesizeVariants(projectDir: string): Promise<void> {
  const tsx = path.join(path.dirname(require.resolve('tsx/package.json')), 'dist', 'cli.mjs');
  const script = path.join(__dirname, '..', 'scripts', 'synth-variants.ts');
  return runSynth('synth-variants', projectDir, [tsx, script, projectDir]);
}

function runSynth(what: string, projectDir: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, {
      cwd: projectDir,
      // The local runtime is a region of its own: a developer whose AWS profile points at a
      // region without IVS (which bin/app.ts refuses for a deploy) can still run it. The CDK
      // CLI hands the app this region as CDK_DEFAULT_REGION; synth-variants is told directly.
      env: {
        ...process.env,
        CDK_DISABLE_CLI_TELEMETRY: 'true',
        AWS_REGION: 'us-east-1',
        AWS_DEFAULT_REGION: 'us-east-1',
        CDK_DEFAULT_REGION: 'us-east-1',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    child.on('error', (error) => reject(new Error(`${what} could not start: ${error.message}`)));
    child.on('close', (code) => {
      if (code === 0) return resolve();
      const lines = output.split('\n').filter((l) => l.trim() && !/nodedir|^npm warn/.test(l));
      reject(new Error(`${what} failed (exit ${code}):\n${lines.slice(-15).join('\n')}`));
    });
  });
}
