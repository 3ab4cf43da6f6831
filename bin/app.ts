import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { CuecastStack } from '../lib/cuecast-stack';

const app = new App();
// `cdk deploy -c viewerAuth=true` turns viewer auth on (docs/protocol.md §5; README, "Viewer auth").
// `-c tracing=true` turns X-Ray active tracing on for every function.
const flag = (name: string): boolean => {
  const value = String(app.node.tryGetContext(name) ?? 'false');
  if (!['true', 'false'].includes(value))
    throw new Error(`context ${name} must be true or false, got "${value}"`);
  return value === 'true';
};
new CuecastStack(app, 'Cuecast', {
  description: 'cuecast: interactive live video (IVS + API Gateway + Lambda)',
  viewerAuth: flag('viewerAuth') ? {} : undefined,
  tracing: flag('tracing'),
  // `-c alarmEmail=you@example.com` mails the alarms (confirm the subscription AWS sends).
  alarmEmail: app.node.tryGetContext('alarmEmail'),
});
Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
