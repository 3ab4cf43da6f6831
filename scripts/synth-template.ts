/**
 * Writes the app's templates into OUTDIR without bundling the functions or building the pages:
 * for checks that read only the template (cfn-lint), in a few seconds instead of a full
 * `cdk synth`. The template is the one `cdk synth` writes with the same context, but for the
 * asset hashes, which name the unbuilt sources.
 *
 *   npx tsx scripts/synth-template.ts OUTDIR [name=value ...]   # -c name=value, as the CDK CLI takes
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { App } from 'aws-cdk-lib';
import { defineApp } from '../lib/app';

const [outdir, ...pairs] = process.argv.slice(2);
if (!outdir) {
  console.error('usage: npx tsx scripts/synth-template.ts OUTDIR [name=value ...]');
  process.exit(2);
}
const context: Record<string, unknown> = {
  ...JSON.parse(fs.readFileSync(path.join(__dirname, '..', 'cdk.json'), 'utf8')).context,
  'aws:cdk:bundling-stacks': [],
};
for (const pair of pairs) {
  const at = pair.indexOf('=');
  if (at < 1) {
    console.error(`synth-template: "${pair}" is not name=value`);
    process.exit(2);
  }
  context[pair.slice(0, at)] = pair.slice(at + 1);
}
const app = new App({ outdir, context });
defineApp(app);
app.synth();
console.log(`template written: ${path.join(outdir, 'Cuecast.template.json')}`);
