import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { CuecastStack, type CuecastStackProps } from '../../lib/cuecast-stack';

/**
 * Builds the stack without bundling: template tests check wiring, not esbuild output
 * (test/infra/bundling.test.ts bundles for real).
 */
export function buildStack(props: CuecastStackProps = {}) {
  // A fresh folder per build, named for this process, so a test can tell its own leftovers from
  // those of test files building stacks at the same moment in other workers. The template is in
  // memory once read (or the props were refused), so the folder goes at once.
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), buildStackOutdirPrefix()));
  const app = new App({ outdir, context: { 'aws:cdk:bundling-stacks': [] } });
  try {
    const stack = new CuecastStack(app, 'Cuecast', props);
    return { app, stack, template: Template.fromStack(stack) };
  } finally {
    fs.rmSync(app.outdir, { recursive: true, force: true });
  }
}

/** The name every outdir {@link buildStack} makes in this process starts with. */
export const buildStackOutdirPrefix = () => `cuecast-test-cdk.out-${process.pid}-`;

/**
 * CDK's own deploy-time helper: the handler of the pages' BucketDeployment, which copies the built
 * pages into their bucket while CloudFormation deploys. It is not one of cuecast's functions.
 */
export const isCdkDeployHelper = (logicalId: string): boolean =>
  logicalId.startsWith('CustomCDKBucketDeployment');

/** cuecast's own functions (every `AWS::Lambda::Function` but CDK's deploy-time helper), by logical id. */
export function appFunctions(template: Template): Record<string, any> {
  return Object.fromEntries(
    Object.entries(template.findResources('AWS::Lambda::Function')).filter(([id]) => !isCdkDeployHelper(id)),
  );
}

export type Statement = { Effect: string; Action: string | string[]; Resource: unknown };

/**
 * Every statement of every IAM policy in the template, but those of CDK's deploy-time helper
 * (see {@link isCdkDeployHelper}; test/infra/show-pages.test.ts bounds its grants).
 */
export function allStatements(template: Template): Statement[] {
  return Object.entries(template.findResources('AWS::IAM::Policy'))
    .filter(([id]) => !isCdkDeployHelper(id))
    .flatMap(([, policy]) => policy.Properties.PolicyDocument.Statement as Statement[]);
}

export const actionsOf = (statement: Statement): string[] =>
  Array.isArray(statement.Action) ? statement.Action : [statement.Action];

export const resourcesOf = (statement: Statement): unknown[] =>
  Array.isArray(statement.Resource) ? statement.Resource : [statement.Resource];

/** An `execute-api` ARN as CDK renders it: `arn:<partition>:execute-api:<region>:<account>:<api>/<rest>`. */
export const executeApiArn = (apiLogicalId: string | undefined, rest: string) => ({
  'Fn::Join': [
    '',
    [
      'arn:',
      { Ref: 'AWS::Partition' },
      ':execute-api:',
      { Ref: 'AWS::Region' },
      ':',
      { Ref: 'AWS::AccountId' },
      ':',
      { Ref: apiLogicalId },
      rest,
    ],
  ],
});

/** The single logical id of a resource type (fails if there is not exactly one). */
export function onlyLogicalId(template: Template, type: string): string {
  const ids = Object.keys(template.findResources(type));
  if (ids.length !== 1) throw new Error(`expected one ${type}, found ${ids.length}`);
  return ids[0];
}
