import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { CuecastStack } from '../lib/cuecast-stack';

const app = new App();
new CuecastStack(app, 'Cuecast', {
  description: 'cuecast: interactive live video (IVS + API Gateway + Lambda)',
});
Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
