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

export type Statement = { Effect: string; Action: string | string[]; Resource: unknown };

/** Every statement of every IAM policy in the template. */
export function allStatements(template: Template): Statement[] {
  return Object.values(template.findResources('AWS::IAM::Policy')).flatMap(
    (policy) => policy.Properties.PolicyDocument.Statement as Statement[],
  );
}

export const actionsOf = (statement: Statement): string[] =>
  Array.isArray(statement.Action) ? statement.Action : [statement.Action];

export const resourcesOf = (statement: Statement): unknown[] =>
  Array.isArray(statement.Resource) ? statement.Resource : [statement.Resource];

/** The single logical id of a resource type (fails if there is not exactly one). */
export function onlyLogicalId(template: Template, type: string): string {
  const ids = Object.keys(template.findResources(type));
  if (ids.length !== 1) throw new Error(`expected one ${type}, found ${ids.length}`);
  return ids[0];
}
