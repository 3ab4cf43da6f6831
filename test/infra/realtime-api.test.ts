import { Match, type Template } from 'aws-cdk-lib/assertions';
import { ENV } from '../../lambda/env-names';
import {
  actionsOf,
  allStatements,
  buildStack,
  executeApiArn,
  onlyLogicalId,
  type Statement,
} from './build-stack';

let template: Template;
let webSocketApiId: string;
let channelId: string;

const functionIdByDescription = (description: string): string => {
  const found = Object.entries(template.findResources('AWS::Lambda::Function')).find(
    ([, fn]) => fn.Properties.Description === description,
  );
  if (!found) throw new Error(`no function described as ${description}`);
  return found[0];
};

/** Statements of the policies attached to a function's role. */
const statementsOf = (functionId: string): Statement[] => {
  const roleId = template.toJSON().Resources[functionId].Properties.Role['Fn::GetAtt'][0];
  return Object.values(template.findResources('AWS::IAM::Policy'))
    .filter((p) => p.Properties.Roles.some((r: { Ref: string }) => r.Ref === roleId))
    .flatMap((p) => p.Properties.PolicyDocument.Statement);
};

beforeAll(() => {
  ({ template } = buildStack());
  webSocketApiId = Object.entries(template.findResources('AWS::ApiGatewayV2::Api')).find(
    ([, api]) => api.Properties.ProtocolType === 'WEBSOCKET',
  )?.[0] as string;
  channelId = onlyLogicalId(template, 'AWS::IVS::Channel');
});

describe('when the realtime API is synthesized', () => {
  it('selects routes by $request.body.action', () => {
    template.hasResourceProperties('AWS::ApiGatewayV2::Api', {
      ProtocolType: 'WEBSOCKET',
      RouteSelectionExpression: '$request.body.action',
    });
  });

  it('has exactly the six routes of the contract', () => {
    const keys = Object.values(template.findResources('AWS::ApiGatewayV2::Route'))
      .filter((route) => route.Properties.ApiId.Ref === webSocketApiId)
      .map((route) => route.Properties.RouteKey)
      .sort();
    expect(keys).toEqual(['$connect', '$default', '$disconnect', 'answer', 'ping', 'sync']);
  });

  it('auto-deploys a throttled stage with access logs', () => {
    template.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      ApiId: { Ref: webSocketApiId },
      AutoDeploy: true,
      DefaultRouteSettings: { ThrottlingBurstLimit: 5000, ThrottlingRateLimit: 2000 },
      AccessLogSettings: { DestinationArn: Match.anyValue() },
    });
  });

  it('expires connection records a little after the 2 h connection limit', () => {
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      KeySchema: [{ AttributeName: 'connectionId', KeyType: 'HASH' }],
      TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
    });
  });

  it('outputs the WebSocket URL', () => {
    expect(template.toJSON().Outputs.WebSocketUrl).toBeDefined();
  });

  describe('ManageConnections', () => {
    const posters = [
      'WebSocket $default',
      'WebSocket answer',
      'WebSocket sync',
      'WebSocket ping',
      'Pushes result, graded and stream messages',
    ];

    it('is granted only on this API stage @connections/*', () => {
      const grants = allStatements(template).filter((s) =>
        actionsOf(s).includes('execute-api:ManageConnections'),
      );
      expect(grants).toHaveLength(posters.length);
      for (const grant of grants) {
        expect(grant.Resource).toEqual(executeApiArn(webSocketApiId, '/live/*/@connections/*'));
      }
    });

    it.each(posters)('is given to %s, with the stage callback URL in its environment', (description) => {
      const id = functionIdByDescription(description);
      expect(statementsOf(id).some((s) => actionsOf(s).includes('execute-api:ManageConnections'))).toBe(true);
      const callback = template.toJSON().Resources[id].Properties.Environment.Variables[ENV.CALLBACK_URL];
      expect(JSON.stringify(callback)).toContain(webSocketApiId);
      expect(JSON.stringify(callback)).toContain('/live');
    });

    it.each(['WebSocket $connect', 'WebSocket $disconnect', 'IVS Stream State Change', 'POST /quizzes'])(
      'is not given to %s, which never posts',
      (description) => {
        const id = functionIdByDescription(description);
        expect(statementsOf(id).some((s) => actionsOf(s).includes('execute-api:ManageConnections'))).toBe(
          false,
        );
      },
    );
  });

  describe('the fan-out', () => {
    it('may be invoked only by reveal, the stream-state handler and answer (live polls), on its exact ARN', () => {
      const fanOutId = functionIdByDescription('Pushes result, graded and stream messages');
      const invokes = allStatements(template).filter((s) => actionsOf(s).includes('lambda:InvokeFunction'));
      expect(invokes).toHaveLength(3);
      for (const statement of invokes)
        expect(statement.Resource).toEqual({ 'Fn::GetAtt': [fanOutId, 'Arn'] });
      for (const description of [
        'POST /quizzes/{quizId}/reveal',
        'IVS Stream State Change',
        'WebSocket answer',
      ]) {
        const env =
          template.toJSON().Resources[functionIdByDescription(description)].Properties.Environment.Variables;
        expect(env[ENV.FAN_OUT_FUNCTION]).toEqual({ Ref: fanOutId });
        expect(env[ENV.FAN_OUT_SEGMENTS]).toBe('4');
      }
    });

    it('runs with bounded concurrency and a timeout long enough for its segment', () => {
      template.hasResourceProperties('AWS::Lambda::Function', {
        Description: 'Pushes result, graded and stream messages',
        Timeout: 300,
        MemorySize: 1769,
        Environment: { Variables: Match.objectLike({ [ENV.FAN_OUT_CONCURRENCY]: '128' }) },
      });
    });
  });

  describe('the stream state rule', () => {
    it('matches aws.ivs stream state changes of this channel only', () => {
      const streamStateId = functionIdByDescription('IVS Stream State Change');
      template.hasResourceProperties('AWS::Events::Rule', {
        EventPattern: {
          source: ['aws.ivs'],
          'detail-type': ['IVS Stream State Change'],
          resources: [{ 'Fn::GetAtt': [channelId, 'Arn'] }],
        },
        Targets: [Match.objectLike({ Arn: { 'Fn::GetAtt': [streamStateId, 'Arn'] } })],
      });
    });
  });
});

describe('when realtime props are wrong', () => {
  it('refuses a fan-out concurrency outside 1..1000', () => {
    expect(() => buildStack({ realtimeApi: { fanOutConcurrency: 0 } })).toThrow(/fanOutConcurrency/);
  });

  it('refuses fan-out segments outside 1..64', () => {
    expect(() => buildStack({ realtimeApi: { fanOutSegments: 65 } })).toThrow(/fanOutSegments/);
  });
});
