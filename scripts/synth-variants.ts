/**
 * Synthesizes the stack as `cdk synth` does into cdk.out, and its viewer-auth variant
 * (`-c viewerAuth=true`) into cdk.out.viewer-auth, in one process that bundles each function and
 * builds the pages once. Two `cdk synth` runs bundled everything twice (40 s and 77 s of CPU on
 * two cores, against about 25 s and 35 s here): the variants differ in their templates, not in
 * their bundles (one more function with viewer auth).
 *
 * CDK reuses a staged asset within a process only for the same assembly folder, so the variant is
 * synthesized first into cdk.out; its assembly files then move to cdk.out.viewer-auth, with a
 * link there to each asset folder it names, and the default stack is synthesized into cdk.out,
 * reusing every bundle. The context is what the CDK CLI passes a synth: cdk.json's, asset and path
 * metadata on, every stack bundled; the region is the local runtime's (local/synth.ts).
 *
 *   npx tsx scripts/synth-variants.ts [PROJECT_DIR]
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { App } from 'aws-cdk-lib';
import { defineApp } from '../lib/app';

const root = path.resolve(process.argv[2] ?? path.join(__dirname, '..'));
const outdir = path.join(root, 'cdk.out');
const variantDir = path.join(root, 'cdk.out.viewer-auth');

const cliContext = {
  ...JSON.parse(fs.readFileSync(path.join(root, 'cdk.json'), 'utf8')).context,
  ...(fs.existsSync(path.join(root, 'cdk.context.json'))
    ? JSON.parse(fs.readFileSync(path.join(root, 'cdk.context.json'), 'utf8'))
    : {}),
  'aws:cdk:enable-path-metadata': true,
  'aws:cdk:enable-asset-metadata': true,
  'aws:cdk:version-reporting': true,
  'aws:cdk:bundling-stacks': ['**'],
};

function synth(context: Record<string, unknown>): void {
  const app = new App({ outdir, context: { ...cliContext, ...context } });
  defineApp(app, process.env.CDK_DEFAULT_REGION);
  app.synth();
}

fs.mkdirSync(outdir, { recursive: true });
synth({ viewerAuth: 'true' });

// The variant's assembly: every file of cdk.out but the assets, which stay shared.
fs.rmSync(variantDir, { recursive: true, force: true });
fs.mkdirSync(variantDir);
const assembly = JSON.parse(fs.readFileSync(path.join(outdir, 'manifest.json'), 'utf8')) as {
  artifacts: Record<string, { type: string; properties?: { templateFile?: string } }>;
};
const ownFiles = new Set(['manifest.json', 'tree.json']);
for (const [name, artifact] of Object.entries(assembly.artifacts)) {
  if (artifact.type !== 'aws:cloudformation:stack') continue;
  ownFiles.add(artifact.properties?.templateFile ?? `${name}.template.json`);
  ownFiles.add(`${name}.assets.json`);
  ownFiles.add(`${name}.metadata.json`);
}
for (const file of ownFiles)
  if (fs.existsSync(path.join(outdir, file)))
    fs.renameSync(path.join(outdir, file), path.join(variantDir, file));
for (const file of ownFiles) {
  if (!file.endsWith('.assets.json') || !fs.existsSync(path.join(variantDir, file))) continue;
  const { files = {} } = JSON.parse(fs.readFileSync(path.join(variantDir, file), 'utf8')) as {
    files?: Record<string, { source: { path?: string } }>;
  };
  for (const { source } of Object.values(files))
    if (source.path?.startsWith('asset.'))
      fs.symlinkSync(path.join('..', 'cdk.out', source.path), path.join(variantDir, source.path));
}

synth({});
