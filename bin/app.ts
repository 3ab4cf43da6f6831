import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { CuecastStack } from '../lib/cuecast-stack';

const app = new App();
// `cdk deploy -c viewerAuth=true` turns viewer auth on (docs/protocol.md §5; README, "Viewer auth").
const viewerAuth = String(app.node.tryGetContext('viewerAuth') ?? 'false');
if (!['true', 'false'].includes(viewerAuth)) {
  throw new Error(`context viewerAuth must be true or false, got "${viewerAuth}"`);
}
new CuecastStack(app, 'Cuecast', {
  description: 'cuecast: interactive live video (IVS + API Gateway + Lambda)',
  viewerAuth: viewerAuth === 'true' ? {} : undefined,
});
Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
