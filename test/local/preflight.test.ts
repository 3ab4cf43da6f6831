import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { CognitoIdentityProviderClient, ListUsersCommand } from '@aws-sdk/client-cognito-identity-provider';
import { IvsClient, ListStreamKeysCommand } from '@aws-sdk/client-ivs';
import { ListServiceQuotasCommand, ServiceQuotasClient } from '@aws-sdk/client-service-quotas';
import { ListSubscriptionsByTopicCommand, SNSClient } from '@aws-sdk/client-sns';
import { showNeeds } from '../../client/show-scale';
import type { LocalRuntime } from '../../local/runtime';
import { captureCli } from '../cli/capture-cli';
import { bootTestRuntime } from './harness';

/**
 * `npm run host -- preflight --viewers N --local` against the runtime's stand-ins, which answer
 * as AWS does for an account with AWS's default quotas (docs/local-runtime.md): Lambda's
 * GetAccountSettings, Service Quotas, IVS ListStreamKeys, Cognito ListUsers and SNS
 * ListSubscriptionsByTopic, each signed with SigV4 for its own service.
 */
let runtime: LocalRuntime;
const configFile = path.join(os.tmpdir(), `cuecast-preflight-${process.pid}.json`);

beforeAll(async () => {
  runtime = await bootTestRuntime();
  fs.writeFileSync(configFile, JSON.stringify(runtime.config));
}, 120_000);

afterAll(async () => {
  await runtime?.stop();
  fs.rmSync(configFile, { force: true });
});

describe('when a small show meets the default quotas', () => {
  it('passes every check and exits 0', async () => {
    const run = await captureCli(['preflight', '--viewers', '50', '--config', configFile]);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const lines = run.stdout.trimEnd().split('\n');
    expect(lines[0]).toBe('Preflight of the local runtime for 50 viewers:');
    expect(lines.slice(1, -1)).toEqual([
      `  ok    Lambda concurrent executions: 1,000 available, 50 viewers need ${showNeeds(50).lambdaConcurrency}`,
      '  ok    IVS concurrent views: 100 (AWS default), 50 viewers need 50',
      `  ok    API Gateway requests per second (account, region): 10,000 (AWS default), 50 viewers need ${showNeeds(50).apiRequestsPerSecond}`,
      '  ok    WebSocket new connections per second: 500 (AWS default), 50 viewers need 1',
      '  ok    Stream: the channel exists and has a stream key',
      '  ok    Hosts: 1 in the host pool',
      '  ok    Alarm mail: 1 confirmed subscription',
    ]);
    expect(lines.at(-1)).toBe('Ready for 50 viewers.');
  });
});

describe('when the show is too big for the default quotas', () => {
  it('fails what it exceeds, says what to ask for, and exits 3', async () => {
    const needs = showNeeds(400_000);
    expect(needs.lambdaConcurrency).toBeGreaterThan(1000);
    const run = await captureCli(['preflight', '--viewers', '400000', '--config', configFile, '--json']);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(3);
    const report = JSON.parse(run.stdout);
    expect(report.ready).toBe(false);
    const byName = Object.fromEntries(
      report.checks.map((c: { name: string; ok: boolean; advice?: string }) => [c.name, c]),
    );
    const n = (value: number) => value.toLocaleString('en-US');
    expect(byName['Lambda concurrent executions']).toEqual({
      name: 'Lambda concurrent executions',
      ok: false,
      detail: `1,000 available, 400,000 viewers need ${n(needs.lambdaConcurrency)}`,
      advice: `ask for at least ${n(needs.lambdaConcurrency)} in Service Quotas (AWS Lambda, "Concurrent executions")`,
    });
    expect(byName['IVS concurrent views'].ok).toBe(false);
    expect(byName['WebSocket new connections per second'].advice).toBe(
      `ask for at least ${n(needs.newConnectionsPerSecond)} in Service Quotas (Amazon API Gateway, L-9ED1E49A)`,
    );
    expect(['Stream', 'Hosts', 'Alarm mail'].map((name) => byName[name].ok)).toEqual([true, true, true]);
  });
});

describe('when a call to a new stand-in is not what AWS takes', () => {
  const wrongKey = () => ({
    region: runtime.config.region,
    credentials: { ...runtime.config.credentials, secretAccessKey: 'not-the-secret' },
  });

  it('refuses a wrong signature in each service’s own error shape', async () => {
    const { config } = runtime;
    const quotas = new ServiceQuotasClient({ ...wrongKey(), endpoint: config.serviceQuotasEndpoint });
    const sns = new SNSClient({ ...wrongKey(), endpoint: config.snsEndpoint });
    const cognito = new CognitoIdentityProviderClient({ ...wrongKey(), endpoint: config.cognitoEndpoint });
    try {
      await expect(quotas.send(new ListServiceQuotasCommand({ ServiceCode: 'ivs' }))).rejects.toMatchObject({
        name: 'InvalidSignatureException',
      });
      await expect(
        sns.send(new ListSubscriptionsByTopicCommand({ TopicArn: String(config.alarmTopicArn) })),
      ).rejects.toMatchObject({ name: 'SignatureDoesNotMatch', $metadata: { httpStatusCode: 403 } });
      await expect(
        cognito.send(new ListUsersCommand({ UserPoolId: String(config.hostUserPoolId) })),
      ).rejects.toMatchObject({ name: 'InvalidSignatureException' });
    } finally {
      for (const client of [quotas, sns, cognito]) client.destroy();
    }
  });

  it('answers a topic, a service or a channel it does not have as AWS does', async () => {
    const { config } = runtime;
    const aws = { region: config.region, credentials: config.credentials };
    const quotas = new ServiceQuotasClient({ ...aws, endpoint: config.serviceQuotasEndpoint });
    const sns = new SNSClient({ ...aws, endpoint: config.snsEndpoint });
    const ivs = new IvsClient({ ...aws, endpoint: config.ivsEndpoint });
    try {
      await expect(quotas.send(new ListServiceQuotasCommand({ ServiceCode: 'nope' }))).rejects.toMatchObject({
        name: 'NoSuchResourceException',
      });
      // SNS's query error code NotFound, which the SDK maps to its NotFoundException.
      await expect(
        sns.send(new ListSubscriptionsByTopicCommand({ TopicArn: `${config.alarmTopicArn}-gone` })),
      ).rejects.toMatchObject({ name: 'NotFoundException', message: 'Topic does not exist' });
      await expect(
        ivs.send(new ListStreamKeysCommand({ channelArn: `${config.channelArn}-gone` })),
      ).rejects.toMatchObject({ name: 'ResourceNotFoundException' });
    } finally {
      for (const client of [quotas, sns, ivs]) client.destroy();
    }
  });
});
