import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { App } from 'aws-cdk-lib';
import { Match, type Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { ENV } from '../../lambda/env-names';
import {
  actionsOf,
  allStatements,
  appFunctions,
  buildStack,
  buildStackOutdirPrefix,
  isCdkDeployHelper,
  onlyLogicalId,
  resourcesOf,
} from './build-stack';

let app: App;
let template: Template;
let channelId: string;
let streamKeyId: string;

beforeAll(() => {
  ({ app, template } = buildStack());
  channelId = onlyLogicalId(template, 'AWS::IVS::Channel');
  streamKeyId = onlyLogicalId(template, 'AWS::IVS::StreamKey');
});

const tableArns = () =>
  Object.keys(template.findResources('AWS::DynamoDB::Table')).map((id) => ({ 'Fn::GetAtt': [id, 'Arn'] }));

describe('when the stack is synthesized', () => {
  describe('the live channel', () => {
    it('accepts RTMPS only, STANDARD with LOW latency by default', () => {
      template.hasResourceProperties('AWS::IVS::Channel', {
        InsecureIngest: false,
        Type: 'STANDARD',
        LatencyMode: 'LOW',
      });
    });

    it('has a stream key bound to the channel', () => {
      template.hasResourceProperties('AWS::IVS::StreamKey', {
        ChannelArn: { 'Fn::GetAtt': [channelId, 'Arn'] },
      });
    });

    it('outputs the ingest URL on port 443, the playback URL and both ARNs', () => {
      const outputs = template.toJSON().Outputs;
      expect(outputs.IngestUrl.Value).toEqual({
        'Fn::Join': ['', ['rtmps://', { 'Fn::GetAtt': [channelId, 'IngestEndpoint'] }, ':443/app/']],
      });
      expect(outputs.PlaybackUrl.Value).toEqual({ 'Fn::GetAtt': [channelId, 'PlaybackUrl'] });
      expect(outputs.ChannelArn.Value).toEqual({ 'Fn::GetAtt': [channelId, 'Arn'] });
      expect(outputs.StreamKeyArn.Value).toEqual({ 'Fn::GetAtt': [streamKeyId, 'Arn'] });
    });

    it('never puts the stream key value in an output, an environment or anywhere else', () => {
      const json = JSON.stringify(template.toJSON());
      expect(json).not.toContain(JSON.stringify({ 'Fn::GetAtt': [streamKeyId, 'Value'] }));
      expect(json).not.toMatch(new RegExp(`${streamKeyId}\\.Value`));
      for (const output of Object.values(template.toJSON().Outputs)) {
        expect(JSON.stringify(output)).not.toMatch(/"Value"\]/);
      }
    });

    it('records nothing unless asked', () => {
      template.resourceCountIs('AWS::IVS::RecordingConfiguration', 0);
      // The one bucket is the pages' (test/infra/show-pages.test.ts).
      template.resourceCountIs('AWS::S3::Bucket', 1);
      expect(Object.keys(template.findResources('AWS::S3::Bucket'))[0]).toMatch(/^PagesBucket/);
    });
  });

  describe('the host API', () => {
    it.each([
      ['POST /quizzes', 'AWS_IAM'],
      ['POST /quizzes/{quizId}/reveal', 'AWS_IAM'],
      ['GET /quizzes/{quizId}', 'AWS_IAM'],
      ['POST /events', 'AWS_IAM'],
      ['GET /state', 'NONE'],
    ])('routes %s with %s authorization', (routeKey, authorizationType) => {
      template.hasResourceProperties('AWS::ApiGatewayV2::Route', {
        RouteKey: routeKey,
        AuthorizationType: authorizationType,
      });
    });

    it('has no other routes', () => {
      const httpApiId = Object.entries(template.findResources('AWS::ApiGatewayV2::Api')).find(
        ([, api]) => api.Properties.ProtocolType === 'HTTP',
      )?.[0];
      const keys = Object.values(template.findResources('AWS::ApiGatewayV2::Route'))
        .filter((route) => route.Properties.ApiId.Ref === httpApiId)
        .map((route) => route.Properties.RouteKey);
      expect(keys.sort()).toEqual(
        [
          'GET /quizzes/{quizId}',
          'GET /show',
          'GET /state',
          'POST /events',
          'POST /quizzes',
          'POST /quizzes/{quizId}/reveal',
        ].sort(),
      );
    });

    it('throttles the stage and writes access logs', () => {
      template.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
        StageName: '$default',
        AutoDeploy: true,
        DefaultRouteSettings: { ThrottlingBurstLimit: 400, ThrottlingRateLimit: 200 },
        AccessLogSettings: { DestinationArn: Match.anyValue(), Format: Match.stringLikeRegexp('requestId') },
      });
    });

    it('writes its access logs under /aws/vendedlogs/, so a deploy adds nothing to the account’s log policy', () => {
      // HTTP APIs deliver access logs as vended logs: for a group outside /aws/vendedlogs/,
      // CloudWatch Logs adds the group to the account's one resource policy (5,120 characters in
      // all) on every deploy. The group outlives the stack, so its name carries the API's id.
      const stages = template.findResources('AWS::ApiGatewayV2::Stage', {
        Properties: { StageName: '$default' },
      });
      const [stage] = Object.values(stages);
      const groupId = stage.Properties.AccessLogSettings.DestinationArn['Fn::GetAtt'][0];
      const group = template.toJSON().Resources[groupId];
      const httpApiId = Object.entries(template.findResources('AWS::ApiGatewayV2::Api')).find(
        ([, api]) => api.Properties.ProtocolType === 'HTTP',
      )?.[0];
      expect(group.Properties.LogGroupName).toEqual({
        'Fn::Join': ['', ['/aws/vendedlogs/apigateway/http/', { Ref: httpApiId }, '/access']],
      });
      expect(group.DeletionPolicy).toBe('Retain');
    });

    it('runs every function on Node 24, ARM, with its own log group', () => {
      const functions = Object.values(appFunctions(template));
      expect(functions).toHaveLength(14); // 6 HTTP routes, 6 WebSocket routes, fan-out, stream state
      for (const fn of functions) {
        expect(fn.Properties).toMatchObject({
          Runtime: 'nodejs24.x',
          Architectures: ['arm64'],
          Handler: 'index.handler',
          LoggingConfig: { LogFormat: 'JSON', LogGroup: { Ref: expect.any(String) } },
        });
      }
    });

    it('outputs the API URL', () => {
      expect(template.toJSON().Outputs.HttpApiUrl).toBeDefined();
    });
  });

  describe('permissions', () => {
    it('grants ivs:PutMetadata and ivs:GetStream on exactly the channel ARN, and nothing else on IVS', () => {
      const ivsStatements = allStatements(template).filter((s) =>
        actionsOf(s).some((a) => a.startsWith('ivs:')),
      );
      // create quiz, reveal and send event send cues; GET /show reads the stream.
      expect(ivsStatements.map((s) => actionsOf(s).join()).sort()).toEqual([
        'ivs:GetStream',
        'ivs:PutMetadata',
        'ivs:PutMetadata',
        'ivs:PutMetadata',
      ]);
      for (const statement of ivsStatements) {
        expect(statement.Resource).toEqual({ 'Fn::GetAtt': [channelId, 'Arn'] });
      }
    });

    it('grants DynamoDB actions only on our tables', () => {
      const ours = tableArns().map((arn) => JSON.stringify(arn));
      const dynamo = allStatements(template).filter((s) =>
        actionsOf(s).some((a) => a.startsWith('dynamodb:')),
      );
      expect(dynamo.length).toBeGreaterThan(0);
      for (const statement of dynamo) {
        for (const resource of resourcesOf(statement)) {
          if (JSON.stringify(resource) === JSON.stringify({ Ref: 'AWS::NoValue' })) continue;
          expect(ours).toContain(JSON.stringify(resource));
        }
      }
    });

    it('gives the public GET /state function read access only', () => {
      const stateFn = Object.entries(template.findResources('AWS::Lambda::Function')).find(
        ([, fn]) => fn.Properties.Description === 'GET /state',
      );
      expect(stateFn).toBeDefined();
      const roleRef = stateFn?.[1].Properties.Role['Fn::GetAtt'][0];
      const policies = Object.values(template.findResources('AWS::IAM::Policy')).filter((p) =>
        p.Properties.Roles.some((r: { Ref: string }) => r.Ref === roleRef),
      );
      expect(policies).toHaveLength(1);
      const actions: string[] = policies.flatMap((p) =>
        p.Properties.PolicyDocument.Statement.flatMap(actionsOf),
      );
      expect(actions).toContain('dynamodb:GetItem');
      for (const write of [
        'dynamodb:PutItem',
        'dynamodb:UpdateItem',
        'dynamodb:DeleteItem',
        'dynamodb:BatchWriteItem',
      ]) {
        expect(actions).not.toContain(write);
      }
      expect(actions).not.toContain('ivs:PutMetadata');
    });

    it("has no wildcard action or resource anywhere (but in CDK's deploy-time helper, bounded elsewhere)", () => {
      for (const statement of allStatements(template)) {
        expect(actionsOf(statement).filter((a) => a.includes('*'))).toEqual([]);
        expect(resourcesOf(statement)).not.toContain('*');
      }
      template.resourceCountIs('AWS::IAM::ManagedPolicy', 0);
      for (const [id, role] of Object.entries(template.findResources('AWS::IAM::Role'))) {
        if (!isCdkDeployHelper(id)) expect(role.Properties.ManagedPolicyArns).toBeUndefined();
      }
    });
  });

  describe('the tables', () => {
    it.each([
      ['quizzes', [{ AttributeName: 'quizId', KeyType: 'HASH' }], true],
      [
        'answers',
        [
          { AttributeName: 'pk', KeyType: 'HASH' },
          { AttributeName: 'viewerId', KeyType: 'RANGE' },
        ],
        true,
      ],
      ['tally', [{ AttributeName: 'pk', KeyType: 'HASH' }], true],
      ['control', [{ AttributeName: 'pk', KeyType: 'HASH' }], false],
      ['connections', [{ AttributeName: 'connectionId', KeyType: 'HASH' }], true],
    ])('the %s table has its keys, on-demand billing, PITR and the right TTL', (name, keySchema, ttl) => {
      const matches = Object.entries(template.findResources('AWS::DynamoDB::Table')).filter(([id]) =>
        id.toLowerCase().includes(name),
      );
      expect(matches).toHaveLength(1);
      const [, table] = matches[0];
      expect(table.Properties.KeySchema).toEqual(keySchema);
      expect(table.Properties.BillingMode).toBe('PAY_PER_REQUEST');
      expect(table.Properties.PointInTimeRecoverySpecification).toEqual({ PointInTimeRecoveryEnabled: true });
      expect(table.Properties.SSESpecification).toEqual({ SSEEnabled: true });
      if (ttl)
        expect(table.Properties.TimeToLiveSpecification).toEqual({
          AttributeName: 'expiresAt',
          Enabled: true,
        });
      else expect(table.Properties.TimeToLiveSpecification).toBeUndefined();
      expect(table.DeletionPolicy).toBe('Retain');
    });

    it('tells each function the table names and tally shard count', () => {
      template.hasResourceProperties('AWS::Lambda::Function', {
        Description: 'POST /quizzes',
        Environment: {
          Variables: Match.objectLike({
            [ENV.QUIZZES_TABLE]: { Ref: Match.stringLikeRegexp('Quizzes') },
            [ENV.CONTROL_TABLE]: { Ref: Match.stringLikeRegexp('Control') },
            [ENV.CHANNEL_ARN]: { 'Fn::GetAtt': [channelId, 'Arn'] },
            [ENV.TALLY_SHARDS]: '32',
          }),
        },
      });
    });
  });

  describe('the answer grace (docs/protocol.md §3.3)', () => {
    const graceOf = (t: Template) => {
      const fn = Object.values(t.findResources('AWS::Lambda::Function')).find(
        (f) => f.Properties.Description === 'POST /quizzes',
      );
      return fn?.Properties.Environment.Variables[ENV.ANSWER_GRACE_SECONDS];
    };

    it('defaults to 8 s on a LOW-latency channel and 20 s on a NORMAL one', () => {
      expect(graceOf(template)).toBe('8');
      expect(graceOf(buildStack({ channel: { latencyMode: 'NORMAL' } }).template)).toBe('20');
    });

    it('takes the stack prop, from 0 to 60 s, and refuses anything else', () => {
      expect(graceOf(buildStack({ hostApi: { answerGraceSeconds: 0 } }).template)).toBe('0');
      expect(graceOf(buildStack({ hostApi: { answerGraceSeconds: 60 } }).template)).toBe('60');
      for (const bad of [-1, 61, 2.5]) {
        expect(() => buildStack({ hostApi: { answerGraceSeconds: bad } })).toThrow(
          /answerGraceSeconds must be a whole number from 0 to 60/,
        );
      }
    });

    it('is given only to the function that opens quizzes', () => {
      const withGrace = Object.values(template.findResources('AWS::Lambda::Function')).filter(
        (f) => f.Properties.Environment?.Variables?.[ENV.ANSWER_GRACE_SECONDS] !== undefined,
      );
      expect(withGrace.map((f) => f.Properties.Description)).toEqual(['POST /quizzes']);
    });
  });

  describe('cdk-nag AwsSolutions', () => {
    it('reports no unacknowledged finding', () => {
      const report = new AwsSolutionsChecks(app).validateScope(app);
      const findings = report.violations.map(
        (v) => `${v.ruleName}: ${v.violatingResources.map((r) => r.resourceLogicalId).join(', ')}`,
      );
      expect(findings).toEqual([]);
    });
  });
});

describe('when recording is enabled', () => {
  it('creates a private, encrypted bucket and points the channel at it', () => {
    const { template: recorded, app: recordedApp } = buildStack({ channel: { recording: true } });
    const recordingId = onlyLogicalId(recorded, 'AWS::IVS::RecordingConfiguration');
    recorded.hasResourceProperties('AWS::IVS::Channel', {
      RecordingConfigurationArn: { 'Fn::GetAtt': [recordingId, 'Arn'] },
    });
    recorded.hasResourceProperties('AWS::S3::Bucket', {
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      },
      BucketEncryption: Match.anyValue(),
    });
    expect(new AwsSolutionsChecks(recordedApp).validateScope(recordedApp).violations).toEqual([]);
  });
});

describe('when props are wrong', () => {
  it('refuses a tally shard count outside 1..100', () => {
    expect(() => buildStack({ data: { tallyShards: 0 } })).toThrow(
      /tallyShards must be an integer from 1 to 100/,
    );
    expect(() => buildStack({ data: { tallyShards: 101 } })).toThrow(/tallyShards/);
  });

  it('refuses a zero throttle', () => {
    expect(() => buildStack({ hostApi: { throttle: { rateLimit: 0, burstLimit: 10 } } })).toThrow(
      /throttle limits/,
    );
  });
});

describe('when a test builds the stack', () => {
  // Only this process's folders: other workers build stacks at the same moment.
  const leftovers = () =>
    fs.readdirSync(os.tmpdir()).filter((name) => name.startsWith(buildStackOutdirPrefix()));

  it('leaves no cdk.out folder behind in the system temp dir, even when the props are refused', () => {
    const { app } = buildStack();
    expect(app.outdir.startsWith(path.join(os.tmpdir(), buildStackOutdirPrefix()))).toBe(true);
    expect(() => buildStack({ data: { tallyShards: 0 } })).toThrow(/tallyShards/);

    expect(fs.existsSync(app.outdir)).toBe(false);
    expect(leftovers()).toEqual([]);
  });
});
