import { Aws, CfnRule, Fn, Stack, Token } from 'aws-cdk-lib';
import type { Construct } from 'constructs';

/**
 * The commercial regions where Amazon IVS low-latency streaming exists (its service endpoints,
 * and cfn-lint's region data for `AWS::IVS::Channel`). The stack deploys only to these.
 */
export const IVS_REGIONS = [
  'us-east-1',
  'us-west-2',
  'eu-west-1',
  'eu-central-1',
  'ap-northeast-1',
  'ap-northeast-2',
  'ap-south-1',
] as const;

const WHY = `Amazon IVS low-latency streaming exists only in ${IVS_REGIONS.join(', ')}`;

/** Why a region cannot host the stack, or undefined when it can. */
export function ivsRegionProblem(region: string): string | undefined {
  if ((IVS_REGIONS as readonly string[]).includes(region)) return undefined;
  return `${WHY}; ${region} has no IVS. Deploy to one of them (set AWS_REGION, or the region of your AWS profile).`;
}

/**
 * Refuses a region without IVS: at synth when the stack's region is known, and otherwise (an
 * environment-agnostic stack, as `bin/app.ts` makes) with a template rule that CloudFormation
 * checks before it creates anything, so a deploy fails at once with the same message.
 */
export function requireIvsRegion(scope: Construct): void {
  const { region } = Stack.of(scope);
  if (!Token.isUnresolved(region)) {
    const problem = ivsRegionProblem(region);
    if (problem) throw new Error(problem);
    return;
  }
  new CfnRule(scope, 'IvsRegion', {
    assertions: [
      {
        assert: Fn.conditionContains([...IVS_REGIONS], Aws.REGION),
        assertDescription: `${WHY}: deploy the stack to one of them.`,
      },
    ],
  });
}
