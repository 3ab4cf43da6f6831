/**
 * What `preflight` reads, and where: one SDK client per service and the stack's own resources
 * (its channel, its host pool and its alarm topic). For a deployed stack, the default credential
 * chain in its region, with the ids from its outputs (CloudFormation DescribeStacks) and the alarm
 * topic from its resources (ListStackResources); for the local runtime, the stand-ins named in
 * `.cuecast/local.json` (docs/protocol.md §6), which speak the same APIs.
 */
import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { CognitoIdentityProviderClient } from '@aws-sdk/client-cognito-identity-provider';
import { IvsClient } from '@aws-sdk/client-ivs';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { ServiceQuotasClient } from '@aws-sdk/client-service-quotas';
import { SNSClient } from '@aws-sdk/client-sns';
import type { Invocation } from './args';
import { CliError, deployedAws, readLocalJson, stackOutputs, stackResourceIds } from './target';

/** The clients and the stack's resources a preflight reads. */
export interface PreflightTarget {
  /** What was checked, for the heading: `stack Cuecast in eu-west-1`, or the local runtime. */
  readonly where: string;
  readonly lambda: LambdaClient;
  readonly quotas: ServiceQuotasClient;
  readonly ivs: IvsClient;
  readonly cognito: CognitoIdentityProviderClient;
  readonly sns: SNSClient;
  readonly channelArn?: string;
  readonly userPoolId?: string;
  readonly topicArn?: string;
  /** Destroys every client. */
  close(): void;
}

/** The clients and ids for the invocation's target (a deployed stack or the local runtime). */
export async function preflightTarget(
  { target }: Invocation,
  env: NodeJS.ProcessEnv,
): Promise<PreflightTarget> {
  if (target.mode === 'local') return localTarget(target);
  const aws = deployedAws(target, env);
  const outputs = await stackOutputs(target.stack, aws.region, aws.credentials);
  const topics = await stackResourceIds(
    new CloudFormationClient(aws),
    target.stack,
    aws.region,
    'AWS::SNS::Topic',
  );
  return withClients(
    `stack ${target.stack} in ${aws.region}`,
    aws,
    {},
    {
      channelArn: outputs.ChannelArn,
      userPoolId: outputs.HostUserPoolId,
      topicArn: topics[0],
    },
  );
}

function localTarget(target: Extract<Invocation['target'], { mode: 'local' }>): PreflightTarget {
  const { file, json } = readLocalJson(target);
  const config = json as {
    region?: string;
    credentials?: { accessKeyId: string; secretAccessKey: string };
    lambdaEndpoint?: string;
    ivsEndpoint?: string;
    cognitoEndpoint?: string;
    serviceQuotasEndpoint?: string;
    snsEndpoint?: string;
    channelArn?: string;
    hostUserPoolId?: string;
    alarmTopicArn?: string;
  };
  if (!config.serviceQuotasEndpoint || !config.snsEndpoint || !config.credentials || !config.region)
    throw new CliError(
      `${file} names no Service Quotas or SNS stand-in: restart \`npm run dev\` with this version`,
    );
  return withClients(
    'the local runtime',
    { region: config.region, credentials: config.credentials },
    {
      lambda: config.lambdaEndpoint,
      quotas: config.serviceQuotasEndpoint,
      ivs: config.ivsEndpoint,
      cognito: config.cognitoEndpoint,
      sns: config.snsEndpoint,
    },
    { channelArn: config.channelArn, userPoolId: config.hostUserPoolId, topicArn: config.alarmTopicArn },
  );
}

type Aws = ConstructorParameters<typeof LambdaClient>[0] & {};
type Endpoints = Partial<Record<'lambda' | 'quotas' | 'ivs' | 'cognito' | 'sns', string>>;

function withClients(
  where: string,
  aws: Aws,
  endpoints: Endpoints,
  ids: Pick<PreflightTarget, 'channelArn' | 'userPoolId' | 'topicArn'>,
): PreflightTarget {
  const at = (endpoint: string | undefined) => (endpoint ? { ...aws, endpoint } : aws);
  const clients = {
    lambda: new LambdaClient(at(endpoints.lambda)),
    quotas: new ServiceQuotasClient(at(endpoints.quotas)),
    ivs: new IvsClient(at(endpoints.ivs)),
    cognito: new CognitoIdentityProviderClient(at(endpoints.cognito)),
    sns: new SNSClient(at(endpoints.sns)),
  };
  return {
    where,
    ...clients,
    ...ids,
    close: () => {
      for (const client of Object.values(clients)) client.destroy();
    },
  };
}
