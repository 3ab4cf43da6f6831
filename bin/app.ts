import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { CuecastStack } from '../lib/cuecast-stack';
import { ivsRegionProblem } from '../lib/ivs-regions';

const app = new App();
// `cdk deploy -c viewerAuth=true` turns viewer auth on (docs/protocol.md §5; README, "Viewer auth").
// `-c tracing=true` turns X-Ray active tracing on for every function.
const flag = (name: string, byDefault = false): boolean => {
  const value = String(app.node.tryGetContext(name) ?? byDefault);
  if (!['true', 'false'].includes(value))
    throw new Error(`context ${name} must be true or false, got "${value}"`);
  return value === 'true';
};
// The stack is environment-agnostic, but the CLI says where a deploy would go (AWS_REGION or the
// profile's region): refuse a region without IVS now rather than halfway through a deploy.
const deployRegion = process.env.CDK_DEFAULT_REGION;
const regionProblem = deployRegion ? ivsRegionProblem(deployRegion) : undefined;
if (regionProblem) throw new Error(regionProblem);
new CuecastStack(app, 'Cuecast', {
  description: 'cuecast: interactive live video (IVS + API Gateway + Lambda)',
  viewerAuth: flag('viewerAuth') ? {} : undefined,
  tracing: flag('tracing'),
  // `-c alarmEmail=you@example.com` mails the alarms (confirm the subscription AWS sends).
  alarmEmail: app.node.tryGetContext('alarmEmail'),
  // `-c recording=true` records every broadcast to a new encrypted bucket.
  channel: flag('recording') ? { recording: true } : undefined,
  // `-c apiGatewayCloudWatchRole=false` when the account already sets API Gateway's logging role.
  apiGatewayCloudWatchRole: flag('apiGatewayCloudWatchRole', true),
});
Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
