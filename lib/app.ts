import { type App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { CuecastStack } from './cuecast-stack';
import { ivsRegionProblem } from './ivs-regions';

/**
 * The cuecast app: one `Cuecast` stack in `app`, shaped by the app's context (`-c name=value` on
 * the CDK CLI), with cdk-nag's AwsSolutions checks on every synth. `bin/app.ts` (what `cdk synth`
 * and `cdk deploy` run) and the template tests build the same app through this one function.
 *
 * `deployRegion` is where the CLI says a deploy would go (`CDK_DEFAULT_REGION`); a region without
 * IVS is refused here rather than halfway through a deploy. `checks: false` leaves cdk-nag out,
 * for a test that reads only names from the template (cdk-nag's own tests read its findings).
 */
export function defineApp(
  app: App,
  deployRegion = process.env.CDK_DEFAULT_REGION,
  { checks = true }: { readonly checks?: boolean } = {},
): CuecastStack {
  // `-c viewerAuth=true` turns viewer auth on (docs/protocol.md §5; README, "Viewer auth").
  // `-c tracing=true` turns X-Ray active tracing on for every function.
  const flag = (name: string, byDefault = false): boolean => {
    const value = String(app.node.tryGetContext(name) ?? byDefault);
    if (!['true', 'false'].includes(value))
      throw new Error(`context ${name} must be true or false, got "${value}"`);
    return value === 'true';
  };
  const regionProblem = deployRegion ? ivsRegionProblem(deployRegion) : undefined;
  if (regionProblem) throw new Error(regionProblem);
  const stack = new CuecastStack(app, 'Cuecast', {
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
  if (checks) Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  return stack;
}
