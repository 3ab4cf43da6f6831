import {
  CloudFormationClient,
  DescribeStacksCommand,
  ListStackResourcesCommand,
} from '@aws-sdk/client-cloudformation';
import { CognitoIdentityProviderClient, ListUsersCommand } from '@aws-sdk/client-cognito-identity-provider';
import {
  GetChannelCommand,
  IvsClient,
  ListStreamKeysCommand,
  ResourceNotFoundException,
} from '@aws-sdk/client-ivs';
import { GetAccountSettingsCommand, LambdaClient } from '@aws-sdk/client-lambda';
import {
  ListAWSDefaultServiceQuotasCommand,
  ListServiceQuotasCommand,
  type ServiceQuota,
  ServiceQuotasClient,
} from '@aws-sdk/client-service-quotas';
import { ListSubscriptionsByTopicCommand, SNSClient } from '@aws-sdk/client-sns';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { showNeeds } from '../../client/show-scale';
import { SHORT_USAGE } from '../../scripts/host-cli/usage';
import { captureCli } from './capture-cli';

/**
 * `npm run host -- preflight --viewers N` against a deployed stack, with the SDK clients mocked:
 * Lambda's account settings and the Service Quotas quotas against `showNeeds(N)`, then the stream,
 * the host pool and the alarm mail. The local path runs against a runtime in
 * test/local/preflight.test.ts.
 */
const cloudFormation = mockClient(CloudFormationClient);
const lambda = mockClient(LambdaClient);
const quotas = mockClient(ServiceQuotasClient);
const ivs = mockClient(IvsClient);
const cognito = mockClient(CognitoIdentityProviderClient);
const sns = mockClient(SNSClient);

const env = { AWS_REGION: 'eu-west-1', AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE', AWS_SECRET_ACCESS_KEY: 'secret' };
const CHANNEL = 'arn:aws:ivs:eu-west-1:123456789012:channel/AbCd';
const POOL = 'eu-west-1_AbC123';
const TOPIC = 'arn:aws:sns:eu-west-1:123456789012:Cuecast-OperationsAlarms-XYZ';
const quota = (ServiceCode: string, QuotaCode: string, QuotaName: string, Value: number): ServiceQuota => ({
  ServiceCode,
  QuotaCode,
  QuotaName,
  Value,
});
/** An account that has raised every quota far enough for a million viewers. */
const APPLIED: Record<string, ServiceQuota[]> = {
  ivs: [quota('ivs', 'L-VIEWS', 'Concurrent views', 2_000_000)],
  apigateway: [
    quota('apigateway', 'L-8A5B8E43', 'Throttle rate', 200_000),
    quota('apigateway', 'L-9ED1E49A', 'New connections per second', 5_000),
  ],
};

beforeEach(() => {
  for (const mock of [cloudFormation, lambda, quotas, ivs, cognito, sns]) mock.reset();
  cloudFormation.on(DescribeStacksCommand).resolves({
    Stacks: [
      {
        StackName: 'Cuecast',
        CreationTime: new Date(),
        StackStatus: 'CREATE_COMPLETE',
        Outputs: [
          { OutputKey: 'ChannelArn', OutputValue: CHANNEL },
          { OutputKey: 'HostUserPoolId', OutputValue: POOL },
        ],
      },
    ],
  });
  cloudFormation.on(ListStackResourcesCommand).resolves({
    StackResourceSummaries: [
      {
        ResourceType: 'AWS::SNS::Topic',
        LogicalResourceId: 'OperationsAlarms',
        PhysicalResourceId: TOPIC,
        ResourceStatus: 'CREATE_COMPLETE',
        LastUpdatedTimestamp: new Date(0),
      },
    ],
  });
  lambda
    .on(GetAccountSettingsCommand)
    .resolves({ AccountLimit: { ConcurrentExecutions: 10_000, UnreservedConcurrentExecutions: 10_000 } });
  quotas
    .on(ListServiceQuotasCommand)
    .callsFake((input: { ServiceCode: string }) => ({ Quotas: APPLIED[input.ServiceCode] ?? [] }));
  quotas.on(ListAWSDefaultServiceQuotasCommand).resolves({ Quotas: [] });
  ivs.on(GetChannelCommand).resolves({ channel: { arn: CHANNEL } });
  ivs.on(ListStreamKeysCommand).resolves({ streamKeys: [{ arn: `${CHANNEL}/key`, channelArn: CHANNEL }] });
  cognito.on(ListUsersCommand).resolves({ Users: [{ Username: 'sam@example.com', Enabled: true }] });
  sns.on(ListSubscriptionsByTopicCommand).resolves({
    Subscriptions: [
      { TopicArn: TOPIC, Protocol: 'email', SubscriptionArn: `${TOPIC}:0f1e`, Endpoint: 'ops@example.com' },
    ],
  });
});

const lineOf = (stdout: string, name: string) => stdout.split('\n').find((l) => l.includes(` ${name}: `));

describe('when the account is ready for the show', () => {
  it('passes every check, exits 0, and reads the stack’s own channel, pool and topic', async () => {
    const run = await captureCli(['preflight', '--viewers', '1000000'], env);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const lines = run.stdout.trimEnd().split('\n');
    expect(lines[0]).toBe('Preflight of stack Cuecast in eu-west-1 for 1,000,000 viewers:');
    expect(lines.slice(1, -1)).toHaveLength(7);
    for (const line of lines.slice(1, -1)) expect(line).toMatch(/^ {2}ok {4}/);
    expect(lines.at(-1)).toBe('Ready for 1,000,000 viewers.');
    const need = showNeeds(1_000_000);
    expect(lineOf(run.stdout, 'Lambda concurrent executions')).toContain(
      `10,000 available, 1,000,000 viewers need ${need.lambdaConcurrency.toLocaleString('en-US')}`,
    );
    expect(lineOf(run.stdout, 'IVS concurrent views')).toContain(
      '2,000,000, 1,000,000 viewers need 1,000,000',
    );
    expect(cloudFormation).toHaveReceivedCommandWith(DescribeStacksCommand, { StackName: 'Cuecast' });
    expect(ivs).toHaveReceivedCommandWith(GetChannelCommand, { arn: CHANNEL });
    expect(ivs).toHaveReceivedCommandWith(ListStreamKeysCommand, { channelArn: CHANNEL });
    expect(cognito).toHaveReceivedCommandWith(ListUsersCommand, { UserPoolId: POOL });
    expect(sns).toHaveReceivedCommandWith(ListSubscriptionsByTopicCommand, { TopicArn: TOPIC });
    // Applied values were found: AWS's defaults were never asked for.
    expect(quotas).toHaveReceivedCommandTimes(ListAWSDefaultServiceQuotasCommand, 0);
  });

  it('answers the needs and each check as JSON with --json', async () => {
    const run = await captureCli(['preflight', '--viewers', '2017', '--json', '--region', 'us-west-2'], env);
    expect(run.code).toBe(0);
    const report = JSON.parse(run.stdout);
    expect(report).toMatchObject({
      where: 'stack Cuecast in us-west-2',
      ready: true,
      needs: showNeeds(2017),
    });
    expect(report.checks.map((c: { name: string }) => c.name)).toEqual([
      'Lambda concurrent executions',
      'IVS concurrent views',
      'API Gateway requests per second (account, region)',
      'WebSocket new connections per second',
      'Stream',
      'Hosts',
      'Alarm mail',
    ]);
  });
});

describe('when a new account has 10 concurrent executions', () => {
  it('fails the check with what to ask for, and exits 3', async () => {
    lambda
      .on(GetAccountSettingsCommand)
      .resolves({ AccountLimit: { ConcurrentExecutions: 10, UnreservedConcurrentExecutions: 10 } });
    const need = showNeeds(5000).lambdaConcurrency;
    expect(need).toBeGreaterThan(10);
    const run = await captureCli(['preflight', '--viewers', '5000'], env);
    expect(run.code).toBe(3);
    expect(lineOf(run.stdout, 'Lambda concurrent executions')).toBe(
      `  FAIL  Lambda concurrent executions: 10 available, 5,000 viewers need ${need}: ` +
        `ask for at least ${need} in Service Quotas (AWS Lambda, "Concurrent executions")`,
    );
    expect(run.stdout.trimEnd().split('\n').at(-1)).toMatch(/^Not ready for 5,000 viewers: 1 check failed\./);
  });

  it('asks for enough to cover what other functions reserve', async () => {
    lambda
      .on(GetAccountSettingsCommand)
      .resolves({ AccountLimit: { ConcurrentExecutions: 1000, UnreservedConcurrentExecutions: 100 } });
    const need = showNeeds(200_000).lambdaConcurrency;
    const run = await captureCli(['preflight', '--viewers', '200000', '--json'], env);
    expect(run.code).toBe(3);
    const lambdaCheck = JSON.parse(run.stdout).checks[0];
    expect(lambdaCheck).toEqual({
      name: 'Lambda concurrent executions',
      ok: false,
      detail: `100 available (of 1,000: other functions reserve 900), 200,000 viewers need ${need}`,
      advice: `ask for at least ${(900 + need).toLocaleString('en-US')} in Service Quotas (AWS Lambda, "Concurrent executions")`,
    });
  });
});

describe('when the account has no applied value for a quota', () => {
  it('uses AWS’s default, says so, and names the quota code to raise', async () => {
    quotas.on(ListServiceQuotasCommand, { ServiceCode: 'apigateway' }).resolves({ Quotas: [] });
    quotas.on(ListAWSDefaultServiceQuotasCommand, { ServiceCode: 'apigateway' }).resolves({
      Quotas: [
        quota('apigateway', 'L-8A5B8E43', 'Throttle rate', 10_000),
        quota('apigateway', 'L-9ED1E49A', 'New connections per second', 500),
      ],
    });
    const need = showNeeds(1_000_000);
    const run = await captureCli(['preflight', '--viewers', '1000000'], env);
    expect(run.code).toBe(3);
    expect(lineOf(run.stdout, 'API Gateway requests per second (account, region)')).toBe(
      `  FAIL  API Gateway requests per second (account, region): 10,000 (AWS default), 1,000,000 viewers need ${need.apiRequestsPerSecond.toLocaleString('en-US')}: ` +
        `ask for at least ${need.apiRequestsPerSecond.toLocaleString('en-US')} in Service Quotas (Amazon API Gateway, L-8A5B8E43)`,
    );
    expect(lineOf(run.stdout, 'WebSocket new connections per second')).toContain(
      `500 (AWS default), 1,000,000 viewers need ${need.newConnectionsPerSecond.toLocaleString('en-US')}: ask for at least`,
    );
    expect(quotas).toHaveReceivedCommandWith(ListAWSDefaultServiceQuotasCommand, {
      ServiceCode: 'apigateway',
    });
    expect(lineOf(run.stdout, 'IVS concurrent views')).toMatch(/^ {2}ok /);
  });
});

describe('when the show is not set up', () => {
  it('fails alarm mail whose only subscription waits for confirmation', async () => {
    sns.on(ListSubscriptionsByTopicCommand).resolves({
      Subscriptions: [{ TopicArn: TOPIC, Protocol: 'email', SubscriptionArn: 'PendingConfirmation' }],
    });
    const run = await captureCli(['preflight', '--viewers', '100'], env);
    expect(run.code).toBe(3);
    expect(lineOf(run.stdout, 'Alarm mail')).toBe(
      '  FAIL  Alarm mail: 1 subscription waiting for confirmation: open the confirmation link AWS mailed to the address',
    );
  });

  it('fails alarm mail with no subscription, and says how to subscribe', async () => {
    sns.on(ListSubscriptionsByTopicCommand).resolves({ Subscriptions: [] });
    const run = await captureCli(['preflight', '--viewers', '100'], env);
    expect(run.code).toBe(3);
    expect(lineOf(run.stdout, 'Alarm mail')).toContain(
      'no one is subscribed to the alarm topic: deploy with -c alarmEmail=',
    );
  });

  it('fails with no host in the pool, and says how to add one', async () => {
    cognito.on(ListUsersCommand).resolves({ Users: [] });
    const run = await captureCli(['preflight', '--viewers', '100'], env);
    expect(run.code).toBe(3);
    expect(lineOf(run.stdout, 'Hosts')).toBe(
      '  FAIL  Hosts: the host pool has no host: add one: npm run host -- hosts add you@example.com',
    );
  });

  it('fails a channel with no stream key', async () => {
    ivs.on(ListStreamKeysCommand).resolves({ streamKeys: [] });
    const run = await captureCli(['preflight', '--viewers', '100'], env);
    expect(run.code).toBe(3);
    expect(lineOf(run.stdout, 'Stream')).toMatch(
      /^ {2}FAIL {2}Stream: the channel has no stream key: deploy the stack again/,
    );
  });

  it('fails a channel IVS does not have, in one line, and still runs every other check', async () => {
    ivs
      .on(GetChannelCommand)
      .rejects(new ResourceNotFoundException({ message: 'ResourceNotFoundException', $metadata: {} }));
    const run = await captureCli(['preflight', '--viewers', '100'], env);
    expect(run.code).toBe(3);
    expect(lineOf(run.stdout, 'Stream')).toContain(
      `cannot read the channel ${CHANNEL}: ResourceNotFoundException`,
    );
    expect(run.stdout.match(/^ {2}ok /gm)).toHaveLength(6);
  });
});

describe('when --viewers is not a whole number of at least 1', () => {
  it.each([
    ['0', '--viewers must be at least 1'],
    ['2.5', "--viewers must be a whole number, not '2.5'"],
    ['abc', "--viewers must be a whole number, not 'abc'"],
    ['1e6', "--viewers must be a whole number, not '1e6'"],
    ['1,000', "--viewers must be a whole number, not '1,000'"],
    ['-5', "--viewers must be a whole number, not '-5'"],
  ])('refuses --viewers %s as a usage error, and asks AWS nothing', async (value, message) => {
    const run = await captureCli(['preflight', `--viewers=${value}`], env);
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toBe(`error: ${message}\n${SHORT_USAGE}`);
    expect(lambda).toHaveReceivedCommandTimes(GetAccountSettingsCommand, 0);
  });

  it('asks for --viewers when it is missing', async () => {
    const run = await captureCli(['preflight'], env);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/^error: `preflight` needs --viewers N \(the audience you expect\)\nusage:/);
  });
});
