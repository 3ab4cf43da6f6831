import { App } from 'aws-cdk-lib';
import { defineApp } from '../../lib/app';
import { IVS_REGIONS } from '../../lib/ivs-regions';

/**
 * Names that are global to an AWS account (not to a region) must carry the region, or the same
 * stack deployed to a second region of the account fails with AlreadyExists. The app is
 * environment-agnostic, so each name is resolved here as CloudFormation would for a region.
 */
const GLOBAL_NAMES: Record<string, (props: Record<string, any>) => unknown> = {
  'AWS::CloudFront::ResponseHeadersPolicy': (p) => p.ResponseHeadersPolicyConfig?.Name,
  'AWS::CloudFront::OriginAccessControl': (p) => p.OriginAccessControlConfig?.Name,
  'AWS::CloudFront::Function': (p) => p.Name,
  'AWS::CloudFront::CachePolicy': (p) => p.CachePolicyConfig?.Name,
  'AWS::CloudFront::OriginRequestPolicy': (p) => p.OriginRequestPolicyConfig?.Name,
  'AWS::CloudFront::KeyValueStore': (p) => p.Name,
  'AWS::CloudWatch::Dashboard': (p) => p.DashboardName,
  'AWS::IAM::Role': (p) => p.RoleName,
  'AWS::IAM::ManagedPolicy': (p) => p.ManagedPolicyName,
  'AWS::IAM::User': (p) => p.UserName,
  'AWS::IAM::Group': (p) => p.GroupName,
  'AWS::IAM::InstanceProfile': (p) => p.InstanceProfileName,
  'AWS::S3::Bucket': (p) => p.BucketName,
};

/** A name that depends on a resource of the deployment itself (an API id): unique to it. */
const DEPLOYMENT_UNIQUE = Symbol('deployment-unique');

/** Evaluates the intrinsics a name may hold, for a deploy of stack `Cuecast` to `region`. */
function resolve(value: unknown, region: string): string | typeof DEPLOYMENT_UNIQUE {
  if (typeof value === 'string') return value;
  const token = value as Record<string, any>;
  if (token.Ref !== undefined) {
    const pseudo: Record<string, string> = {
      'AWS::Region': region,
      'AWS::StackName': 'Cuecast',
      'AWS::AccountId': '123456789012',
      'AWS::Partition': 'aws',
      'AWS::URLSuffix': 'amazonaws.com',
    };
    return pseudo[token.Ref] ?? DEPLOYMENT_UNIQUE;
  }
  if (token['Fn::GetAtt']) return DEPLOYMENT_UNIQUE;
  if (token['Fn::Join']) {
    const [separator, parts] = token['Fn::Join'];
    const resolved = (parts as unknown[]).map((part) => resolve(part, region));
    return resolved.includes(DEPLOYMENT_UNIQUE) ? DEPLOYMENT_UNIQUE : resolved.join(separator);
  }
  throw new Error(`a name with an intrinsic this test does not evaluate: ${JSON.stringify(value)}`);
}

type Resources = Record<string, { Type: string; Properties?: Record<string, any> }>;

/** The resources of one variant of the app, as `cdk synth` writes them (functions not bundled). */
function appResources(context: Record<string, string>): Resources {
  const app = new App({ context: { ...context, 'aws:cdk:bundling-stacks': [] } });
  const stack = defineApp(app, undefined, { checks: false });
  return app.synth().getStackByName(stack.stackName).template.Resources;
}

/** Every account-global name among `resources`, resolved for `region`, as `type name (id)`. */
function accountGlobalNames(resources: Resources, region: string): string[] {
  const names: string[] = [];
  for (const [id, resource] of Object.entries(resources)) {
    const nameOf = GLOBAL_NAMES[resource.Type];
    if (!nameOf) continue;
    const name = nameOf(resource.Properties ?? {});
    // No name: CloudFormation makes one from the stack, the logical id and a random suffix.
    if (name === undefined) continue;
    const resolved = resolve(name, region);
    if (resolved !== DEPLOYMENT_UNIQUE) names.push(`${resource.Type} ${resolved} (${id})`);
  }
  return names;
}

const VARIANTS: Array<[string, Record<string, string>]> = [
  ['the default stack', {}],
  ['viewer auth', { viewerAuth: 'true' }],
  ['recording', { recording: 'true' }],
];

describe.each(VARIANTS)('when %s is deployed to two regions of one account', (_name, context) => {
  it('repeats no name that is global to the account (CloudFront policies, OAC, functions, dashboards, IAM)', () => {
    const [first, second] = [IVS_REGIONS[0], IVS_REGIONS[1]];
    const resources = appResources(context);
    const inFirst = accountGlobalNames(resources, first);
    const repeated = accountGlobalNames(resources, second).filter((name) => inFirst.includes(name));
    expect(repeated).toEqual([]);
    // The check reads real names: the pages' headers policy, OAC and function, and the dashboard.
    expect(inFirst.length).toBeGreaterThanOrEqual(4);
  });
});
