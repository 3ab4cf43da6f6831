import { Duration } from 'aws-cdk-lib';
import { Match } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { ENV } from '../../lambda/env-names';
import { actionsOf, allStatements, buildStack, onlyLogicalId, resourcesOf } from './build-stack';

/** The stack with viewer auth on (docs/protocol.md §5), as `cdk deploy -c viewerAuth=true` builds it. */
const built = buildStack({ viewerAuth: {} });
const { template } = built;
const secretId = onlyLogicalId(template, 'AWS::SecretsManager::Secret');
const authorizerId = onlyLogicalId(template, 'AWS::ApiGatewayV2::Authorizer');
const functionsWith = (name: string) =>
  Object.entries(template.findResources('AWS::Lambda::Function')).filter(
    ([, fn]) => fn.Properties.Environment?.Variables?.[name] !== undefined,
  );

describe('when viewer auth is on', () => {
  it('generates the signing key inside Secrets Manager: no value in the template', () => {
    template.hasResourceProperties('AWS::SecretsManager::Secret', {
      GenerateSecretString: { PasswordLength: 64, ExcludePunctuation: true },
      SecretString: Match.absent(),
    });
  });

  it('puts a Lambda REQUEST authorizer reading ?token= on $connect, and only there', () => {
    template.hasResourceProperties('AWS::ApiGatewayV2::Authorizer', {
      AuthorizerType: 'REQUEST',
      IdentitySource: ['route.request.querystring.token'],
    });
    const routes = Object.values(template.findResources('AWS::ApiGatewayV2::Route')).map(
      (r) => r.Properties as { RouteKey: string; AuthorizationType?: string; AuthorizerId?: unknown },
    );
    const custom = routes.filter((r) => r.AuthorizationType === 'CUSTOM');
    expect(custom.map((r) => r.RouteKey)).toEqual(['$connect']);
    expect(custom[0].AuthorizerId).toEqual({ Ref: authorizerId });
  });

  it('adds a public POST /viewer-token and leaves every host route on IAM', () => {
    const routes = Object.values(template.findResources('AWS::ApiGatewayV2::Route')).map(
      (r) => r.Properties as { RouteKey: string; AuthorizationType?: string },
    );
    const publicHttp = routes
      .filter((r) => / \//.test(r.RouteKey) && (r.AuthorizationType ?? 'NONE') === 'NONE')
      .map((r) => r.RouteKey)
      .sort();
    expect(publicHttp).toEqual(['GET /state', 'POST /viewer-token']);
  });

  it('lets exactly the two viewer-auth functions read exactly this secret, and nothing else', () => {
    const readers = allStatements(template).filter((s) =>
      actionsOf(s).some((a) => a.startsWith('secretsmanager:')),
    );
    expect(readers).toHaveLength(2);
    for (const statement of readers) {
      expect(resourcesOf(statement)).toEqual([{ Ref: secretId }]);
      expect(actionsOf(statement).sort()).toEqual([
        'secretsmanager:DescribeSecret',
        'secretsmanager:GetSecretValue',
      ]);
    }
    const withKey = functionsWith(ENV.VIEWER_TOKEN_SECRET);
    expect(withKey).toHaveLength(2);
    for (const [, fn] of withKey) {
      expect(fn.Properties.Environment.Variables[ENV.VIEWER_TOKEN_SECRET]).toEqual({ Ref: secretId });
      expect(fn.Properties.Environment.Variables[ENV.VIEWER_TOKEN_TTL_SECONDS]).toBe(String(4 * 60 * 60));
    }
  });

  it('alarms on the authorizer’s errors less the viewers it refused: a bad token pages nobody', () => {
    const [authorizerFn] = functionsWith(ENV.VIEWER_TOKEN_SECRET).filter(
      ([id]) => template.toJSON().Resources[id].Properties.Description === 'WebSocket $connect authorizer',
    );
    const [fnId] = authorizerFn;
    const alarms = Object.values(template.findResources('AWS::CloudWatch::Alarm'));
    // No plain Errors alarm on it: each refusal is a thrown Unauthorized, so a Lambda error.
    const plain = alarms.filter((a) =>
      JSON.stringify(a.Properties.Dimensions ?? []).includes(JSON.stringify({ Ref: fnId })),
    );
    expect(plain).toEqual([]);
    const [alarm] = alarms.filter((a) => JSON.stringify(a.Properties.Metrics ?? []).includes(fnId));
    expect(alarm.Properties.Threshold).toBe(1);
    const byId = Object.fromEntries(
      (alarm.Properties.Metrics as Array<{ Id: string; Expression?: string; MetricStat?: any }>).map((m) => [
        m.Id,
        m,
      ]),
    );
    expect(Object.values(byId).find((m) => m.Expression)?.Expression).toBe(
      'FILL(errors, 0) - FILL(refused, 0)',
    );
    expect(byId.errors.MetricStat.Metric).toMatchObject({
      Namespace: 'AWS/Lambda',
      MetricName: 'Errors',
      Dimensions: [{ Name: 'FunctionName', Value: { Ref: fnId } }],
    });
    expect(byId.refused.MetricStat.Metric).toMatchObject({
      Namespace: 'cuecast',
      MetricName: 'ViewersRefused',
    });
  });

  it('reports no unacknowledged cdk-nag AwsSolutions finding', () => {
    const report = new AwsSolutionsChecks(built.app).validateScope(built.app);
    const findings = report.violations.map(
      (v) => `${v.ruleName}: ${v.violatingResources.map((r) => r.resourceLogicalId).join(', ')}`,
    );
    expect(findings).toEqual([]);
  });
});

describe('when viewer auth is off (the default)', () => {
  it('has no secret, no authorizer and no token route', () => {
    const { template: plain } = buildStack();
    plain.resourceCountIs('AWS::SecretsManager::Secret', 0);
    plain.resourceCountIs('AWS::ApiGatewayV2::Authorizer', 0);
    expect(JSON.stringify(plain.toJSON())).not.toContain('/viewer-token');
  });
});

describe('when the token lifetime is wrong', () => {
  it('refuses one under 5 minutes or over 24 hours', () => {
    expect(() => buildStack({ viewerAuth: { tokenTtl: Duration.minutes(4) } })).toThrow(
      /tokenTtl must be a whole number of seconds from 300 to 86400, got 240/,
    );
    expect(() => buildStack({ viewerAuth: { tokenTtl: Duration.hours(25) } })).toThrow(/tokenTtl/);
  });

  it('takes one in range', () => {
    const { template: custom } = buildStack({ viewerAuth: { tokenTtl: Duration.hours(2) } });
    const [[, fn]] = Object.entries(custom.findResources('AWS::Lambda::Function')).filter(
      ([, f]) => f.Properties.Environment?.Variables?.[ENV.VIEWER_TOKEN_TTL_SECONDS] !== undefined,
    );
    expect(fn.Properties.Environment.Variables[ENV.VIEWER_TOKEN_TTL_SECONDS]).toBe('7200');
  });
});
