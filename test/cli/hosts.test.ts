import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import {
  AdminCreateUserCommand,
  CognitoIdentityProviderClient,
  UsernameExistsException,
} from '@aws-sdk/client-cognito-identity-provider';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { captureCli } from './capture-cli';

/** `npm run host -- hosts add EMAIL`: an admin makes a host; Cognito mails the temporary password. */
const cloudFormation = mockClient(CloudFormationClient);
const cognito = mockClient(CognitoIdentityProviderClient);
const env = { AWS_REGION: 'eu-west-1', AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE', AWS_SECRET_ACCESS_KEY: 'secret' };
const outputs = (values: Record<string, string>) => ({
  Stacks: [
    {
      StackName: 'Cuecast',
      CreationTime: new Date(),
      StackStatus: 'CREATE_COMPLETE' as const,
      Outputs: Object.entries(values).map(([OutputKey, OutputValue]) => ({ OutputKey, OutputValue })),
    },
  ],
});

beforeEach(() => {
  cloudFormation.reset();
  cognito.reset();
  cloudFormation
    .on(DescribeStacksCommand)
    .resolves(outputs({ HostUserPoolId: 'eu-west-1_AbC123', HostUrl: 'https://d1.cloudfront.net/host/' }));
});

it('creates the host in the stack’s user pool, verified, invited by email, and says what comes next', async () => {
  cognito
    .on(AdminCreateUserCommand)
    .resolves({ User: { Username: 'sam@example.com', UserStatus: 'FORCE_CHANGE_PASSWORD' } });
  const run = await captureCli(['hosts', 'add', 'sam@example.com'], env);
  expect(run.stderr).toBe('');
  expect(run.code).toBe(0);
  expect(cloudFormation).toHaveReceivedCommandWith(DescribeStacksCommand, { StackName: 'Cuecast' });
  expect(cognito).toHaveReceivedCommandTimes(AdminCreateUserCommand, 1);
  expect(cognito).toHaveReceivedCommandWith(AdminCreateUserCommand, {
    UserPoolId: 'eu-west-1_AbC123',
    Username: 'sam@example.com',
    UserAttributes: [
      { Name: 'email', Value: 'sam@example.com' },
      { Name: 'email_verified', Value: 'true' },
    ],
    DesiredDeliveryMediums: ['EMAIL'],
  });
  expect(run.stdout).toBe(
    'Added sam@example.com as a host of Cuecast.\n' +
      'Cognito has mailed them a temporary password. Next: they open the host console, https://d1.cloudfront.net/host/,\n' +
      'sign in with it within 3 days, and choose their own password.\n',
  );
});

it('answers JSON with --json, in the stack and region asked for', async () => {
  cognito.on(AdminCreateUserCommand).resolves({ User: { UserStatus: 'FORCE_CHANGE_PASSWORD' } });
  const run = await captureCli(
    ['hosts', 'add', 'kim@example.com', '--stack', 'Show', '--region', 'us-west-2', '--json'],
    env,
  );
  expect(run.code).toBe(0);
  expect(JSON.parse(run.stdout)).toEqual({
    username: 'kim@example.com',
    status: 'FORCE_CHANGE_PASSWORD',
    hostUrl: 'https://d1.cloudfront.net/host/',
  });
  expect(cloudFormation).toHaveReceivedCommandWith(DescribeStacksCommand, { StackName: 'Show' });
  expect(await cognito.call(0).thisValue.config.region()).toBe('us-west-2');
});

it('says in one line that the host exists already, and exits 1', async () => {
  cognito
    .on(AdminCreateUserCommand)
    .rejects(new UsernameExistsException({ message: 'User account already exists', $metadata: {} }));
  const run = await captureCli(['hosts', 'add', 'sam@example.com'], env);
  expect(run).toEqual({
    code: 1,
    stdout: '',
    stderr: 'error: sam@example.com is already a host of Cuecast\n',
  });
});

it('passes on what else Cognito refuses, named', async () => {
  const refusal = Object.assign(new Error('Invalid email address format.'), {
    name: 'InvalidParameterException',
  });
  cognito.on(AdminCreateUserCommand).rejects(refusal);
  const run = await captureCli(['hosts', 'add', 'x@example.c0m'], env);
  expect(run.code).toBe(1);
  expect(run.stderr).toBe(
    'error: Cognito refused to add x@example.c0m: InvalidParameterException: Invalid email address format.\n',
  );
});

it('refuses a stack without host sign-in, before calling Cognito', async () => {
  cloudFormation
    .on(DescribeStacksCommand)
    .resolves(outputs({ HttpApiUrl: 'https://x.execute-api.eu-west-1.amazonaws.com/' }));
  const run = await captureCli(['hosts', 'add', 'sam@example.com'], env);
  expect(run.code).toBe(1);
  expect(run.stderr).toMatch(/^error: stack Cuecast has no HostUserPoolId output/);
  expect(cognito).toHaveReceivedCommandTimes(AdminCreateUserCommand, 0);
});

it.each([
  [['hosts', 'add'], /^error: `hosts add` needs the new host’s EMAIL address/],
  [['hosts', 'add', 'not-an-email'], /^error: `hosts add` needs an email address, got "not-an-email"/],
  [['hosts', 'remove', 'sam@example.com'], /^error: /],
])('exits 2 on a wrong command line: %j', async (args, message) => {
  const run = await captureCli(args, env);
  expect(run.code).toBe(2);
  expect(run.stderr).toMatch(message);
  expect(cognito).toHaveReceivedCommandTimes(AdminCreateUserCommand, 0);
});

it('explains that the local runtime needs no host to be added', async () => {
  const run = await captureCli(['hosts', 'add', 'sam@example.com', '--local'], env);
  expect(run.code).toBe(1);
  expect(run.stderr).toMatch(/^error: hosts add is for a deployed stack/);
});
