import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { AwsSolutionsChecks } from 'cdk-nag';
import { IVS_REGIONS, ivsRegionProblem } from '../../lib/ivs-regions';
import { buildStack, onlyLogicalId } from './build-stack';

/** What a first deploy into a fresh account needs: API Gateway's logging role, and a region with IVS. */
describe("API Gateway's account-level CloudWatch Logs role", () => {
  const { app, template } = buildStack();

  it('is set by default, through a role only API Gateway assumes, writing only log groups of this account', () => {
    const [roleId, role] = Object.entries(template.findResources('AWS::IAM::Role')).find(([, r]) =>
      JSON.stringify(r.Properties.AssumeRolePolicyDocument).includes('apigateway.amazonaws.com'),
    ) ?? [undefined, undefined];
    expect(role?.Properties.AssumeRolePolicyDocument.Statement).toEqual([
      { Action: 'sts:AssumeRole', Effect: 'Allow', Principal: { Service: 'apigateway.amazonaws.com' } },
    ]);
    expect(role?.Properties.ManagedPolicyArns).toBeUndefined();
    const [statement] = role?.Properties.Policies[0].PolicyDocument.Statement ?? [];
    expect(statement.Action).toEqual([
      'logs:CreateLogGroup',
      'logs:CreateLogStream',
      'logs:DescribeLogGroups',
      'logs:DescribeLogStreams',
      'logs:PutLogEvents',
      'logs:GetLogEvents',
      'logs:FilterLogEvents',
    ]);
    expect(statement.Resource).toEqual({
      'Fn::Join': [
        '',
        [
          'arn:',
          { Ref: 'AWS::Partition' },
          ':logs:',
          { Ref: 'AWS::Region' },
          ':',
          { Ref: 'AWS::AccountId' },
          ':log-group:*',
        ],
      ],
    });
    template.hasResource('AWS::ApiGateway::Account', {
      Properties: { CloudWatchRoleArn: { 'Fn::GetAtt': [roleId, 'Arn'] } },
      // An account-wide setting other APIs rely on: deleting the stack must not take it away.
      DeletionPolicy: 'Retain',
    });
    expect(role?.DeletionPolicy).toBe('Retain');
  });

  it('exists before the WebSocket stage that writes access logs', () => {
    const accountId = onlyLogicalId(template, 'AWS::ApiGateway::Account');
    const webSocketStage = Object.values(template.findResources('AWS::ApiGatewayV2::Stage')).find(
      (s) => s.Properties.StageName === 'live',
    );
    expect(webSocketStage?.Properties.AccessLogSettings).toBeDefined();
    expect(webSocketStage?.DependsOn).toContain(accountId);
  });

  it('reports no unacknowledged cdk-nag finding (the account-wide log groups are acknowledged with their reason)', () => {
    expect(new AwsSolutionsChecks(app).validateScope(app).violations.map((v) => v.ruleName)).toEqual([]);
  });

  it('is left alone when the account already has one', () => {
    const { template: without } = buildStack({ apiGatewayCloudWatchRole: false });
    expect(Object.keys(without.findResources('AWS::ApiGateway::Account'))).toEqual([]);
  });
});

describe('the IVS region check', () => {
  it('refuses at synth a stack whose region has no IVS, naming the regions that do', () => {
    expect(() => buildStack({ env: { region: 'sa-east-1' } })).toThrow(
      /IVS low-latency streaming exists only in us-east-1, us-west-2, eu-west-1, eu-central-1, ap-northeast-1, ap-northeast-2, ap-south-1; sa-east-1 has no IVS/,
    );
  });

  it('accepts every IVS region', () => {
    for (const region of IVS_REGIONS) expect(ivsRegionProblem(region)).toBeUndefined();
    const { template } = buildStack({ env: { region: 'eu-central-1' } });
    expect(template.toJSON().Rules?.IvsRegion).toBeUndefined();
  });

  it('makes an environment-agnostic template refuse a region without IVS before creating anything', () => {
    const { template } = buildStack();
    const rule = template.toJSON().Rules.IvsRegion;
    expect(rule.Assertions).toEqual([
      {
        Assert: { 'Fn::Contains': [[...IVS_REGIONS], { Ref: 'AWS::Region' }] },
        AssertDescription: expect.stringMatching(
          /^Amazon IVS low-latency streaming exists only in us-east-1, /,
        ),
      },
    ]);
  });
});

describe('bin/app.ts', () => {
  it('refuses to synthesize for a deploy to a region without IVS, before building anything', () => {
    const tsx = path.join(__dirname, '..', '..', 'node_modules', '.bin', 'tsx');
    const run = spawnSync(tsx, ['bin/app.ts'], {
      cwd: path.join(__dirname, '..', '..'),
      // What the CDK CLI passes when AWS_REGION or the profile says sa-east-1.
      env: {
        ...process.env,
        CDK_DEFAULT_REGION: 'sa-east-1',
        CDK_OUTDIR: fs.mkdtempSync(path.join(os.tmpdir(), 'cuecast-region-')),
      },
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(run.status).not.toBe(0);
    expect(run.stderr).toMatch(
      /IVS low-latency streaming exists only in us-east-1, .*; sa-east-1 has no IVS\. Deploy to one of them/,
    );
  }, 60_000);
});
