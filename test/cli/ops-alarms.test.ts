import {
  CloudFormationClient,
  ListStackResourcesCommand,
  type StackResourceSummary,
} from '@aws-sdk/client-cloudformation';
import { CloudWatchClient, DescribeAlarmsCommand, type MetricAlarm } from '@aws-sdk/client-cloudwatch';
import { mockClient } from 'aws-sdk-client-mock';
import { captureCli } from './capture-cli';

/**
 * `npm run host -- ops alarms` against a deployed stack: the stack's alarms are its
 * `AWS::CloudWatch::Alarm` resources (CloudFormation ListStackResources, every page), described by
 * CloudWatch DescribeAlarms (100 names a call, every page). The SDK clients are mocked; the local
 * path is tested against a runtime in test/local/alarms.test.ts.
 */
const cloudFormation = mockClient(CloudFormationClient);
const cloudWatch = mockClient(CloudWatchClient);

beforeEach(() => {
  cloudFormation.reset();
  cloudWatch.reset();
});

const AWS_ENV = { AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE', AWS_SECRET_ACCESS_KEY: 'secret' };
const alarmName = (i: number) => `Show-Operations${String(i).padStart(3, '0')}Errors-ABC`;
const summary = (type: string, id: string): StackResourceSummary => ({
  ResourceType: type,
  LogicalResourceId: id,
  PhysicalResourceId: id,
  ResourceStatus: 'CREATE_COMPLETE',
  LastUpdatedTimestamp: new Date(0),
});
const alarm = (name: string, state: MetricAlarm['StateValue']): MetricAlarm => ({
  AlarmName: name,
  StateValue: state,
  StateReason:
    state === 'ALARM'
      ? 'Threshold Crossed: 1 datapoint [3.0] was >= 1.0'
      : 'Threshold Crossed: no datapoints',
  StateUpdatedTimestamp: new Date('2026-01-01T00:00:00Z'),
});

/** 150 alarms over two pages of resources, with a queue in between that is not one. */
function stackWith150Alarms(): string[] {
  const names = Array.from({ length: 150 }, (_, i) => alarmName(i));
  cloudFormation
    .on(ListStackResourcesCommand, { StackName: 'Show', NextToken: undefined })
    .resolves({
      StackResourceSummaries: [
        ...names.slice(0, 90).map((n) => summary('AWS::CloudWatch::Alarm', n)),
        summary('AWS::SQS::Queue', 'https://sqs/Show-Queue'),
      ],
      NextToken: 'resources-2',
    })
    .on(ListStackResourcesCommand, { StackName: 'Show', NextToken: 'resources-2' })
    .resolves({ StackResourceSummaries: names.slice(90).map((n) => summary('AWS::CloudWatch::Alarm', n)) });
  // Each call answers its names over two pages.
  cloudWatch.on(DescribeAlarmsCommand).callsFake((input: { AlarmNames: string[]; NextToken?: string }) => {
    const half = Math.ceil(input.AlarmNames.length / 2);
    const page = input.NextToken ? input.AlarmNames.slice(half) : input.AlarmNames.slice(0, half);
    return {
      MetricAlarms: page.map((n) => alarm(n, n === alarmName(7) ? 'ALARM' : 'OK')),
      NextToken: input.NextToken ? undefined : 'alarms-2',
    };
  });
  return names;
}

describe('when the host lists the alarms of a deployed stack', () => {
  it('describes every alarm resource of the stack, 100 names a call, following every page', async () => {
    const names = stackWith150Alarms();
    const run = await captureCli(
      ['ops', 'alarms', '--stack', 'Show', '--region', 'eu-west-1', '--json'],
      AWS_ENV,
    );
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const { alarms } = JSON.parse(run.stdout);
    expect(alarms.map((a: { AlarmName: string }) => a.AlarmName)).toEqual(names);
    expect(alarms.find((a: { AlarmName: string }) => a.AlarmName === alarmName(7))).toMatchObject({
      StateValue: 'ALARM',
      StateReason: expect.stringMatching(/^Threshold Crossed/),
      StateUpdatedTimestamp: '2026-01-01T00:00:00.000Z',
    });
    const calls = cloudWatch.commandCalls(DescribeAlarmsCommand).map((c) => c.args[0].input);
    // Two chunks (100 and 50 names), each read over two pages; only the stack's alarms asked for.
    expect(calls.map((c) => [c.AlarmNames?.length, c.NextToken])).toEqual([
      [100, undefined],
      [100, 'alarms-2'],
      [50, undefined],
      [50, 'alarms-2'],
    ]);
    expect(calls.flatMap((c) => c.AlarmNames ?? [])).not.toContain('https://sqs/Show-Queue');
    expect(cloudFormation.commandCalls(ListStackResourcesCommand)).toHaveLength(2);
  });

  it('prints one line per alarm, those in ALARM first', async () => {
    stackWith150Alarms();
    const run = await captureCli(['ops', 'alarms', '--stack', 'Show', '--region', 'eu-west-1'], AWS_ENV);
    expect(run.code).toBe(0);
    const lines = run.stdout.trimEnd().split('\n');
    expect(lines[0]).toBe('150 alarms, 1 in ALARM:');
    expect(lines[1]).toBe(`  ALARM  ${alarmName(7)}: Threshold Crossed: 1 datapoint [3.0] was >= 1.0`);
    expect(lines).toHaveLength(151);
  });

  it('names a stack it cannot read in one line, and exits 1', async () => {
    cloudFormation
      .on(ListStackResourcesCommand)
      .rejects(Object.assign(new Error('Stack with id Nope does not exist'), { name: 'ValidationError' }));
    const run = await captureCli(['ops', 'alarms', '--stack', 'Nope', '--region', 'eu-west-3'], AWS_ENV);
    expect(run.code).toBe(1);
    expect(run.stderr).toBe(
      'error: cannot list the resources of stack Nope in eu-west-3: ValidationError: Stack with id Nope does not exist\n',
    );
    expect(cloudWatch.commandCalls(DescribeAlarmsCommand)).toHaveLength(0);
  });

  it('refuses --stack with --local as a usage error', async () => {
    const run = await captureCli(['ops', 'alarms', '--local', '--stack', 'Show']);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/^error: --stack and --region are for a deployed stack/);
  });
});
