import * as fs from 'node:fs';
import * as path from 'node:path';

/** A CloudFormation resource as it stands in the synthesized template. */
export interface CfnResource {
  readonly Type: string;
  readonly Properties?: Record<string, unknown>;
}

export interface StackArtifact {
  readonly stackName: string;
  readonly templateFile: string;
  readonly template: { Resources: Record<string, CfnResource>; Outputs?: Record<string, { Value: unknown }> };
}

/**
 * Reads the cloud assembly `cdk synth` wrote: the stack's template and where each asset
 * was staged. Nothing here imports the app or a handler: the runtime sees what deploys.
 */
export class CloudAssembly {
  constructor(readonly dir: string) {}

  stack(stackName?: string): StackArtifact {
    const manifestFile = path.join(this.dir, 'manifest.json');
    if (!fs.existsSync(manifestFile))
      throw new Error(`no cloud assembly at ${this.dir}: run \`npx cdk synth\` first`);
    const manifest = JSON.parse(fs.readFileSync(manifestFile, 'utf8')) as {
      artifacts: Record<string, { type: string; properties?: { templateFile?: string } }>;
    };
    const stacks = Object.entries(manifest.artifacts).filter(
      ([, a]) => a.type === 'aws:cloudformation:stack',
    );
    const found = stackName ? stacks.find(([name]) => name === stackName) : stacks[0];
    if (!found) throw new Error(`stack ${stackName ?? '(any)'} not found in ${this.dir}`);
    const [name, artifact] = found;
    const templateFile = path.join(this.dir, artifact.properties?.templateFile ?? `${name}.template.json`);
    return { stackName: name, templateFile, template: JSON.parse(fs.readFileSync(templateFile, 'utf8')) };
  }

  /** The staged bundle of a Lambda function: `asset.<hash>/` beside the template. */
  functionAssetDir(resource: CfnResource): string {
    const code = resource.Properties?.Code as { S3Key?: string } | undefined;
    const hash = typeof code?.S3Key === 'string' ? code.S3Key.replace(/\.zip$/, '') : undefined;
    if (!hash) throw new Error('function has no staged asset (inline code is not supported locally)');
    const dir = path.join(this.dir, `asset.${hash}`);
    if (!fs.existsSync(dir)) throw new Error(`asset folder ${dir} is missing: synthesize again`);
    return dir;
  }
}
