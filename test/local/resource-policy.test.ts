import { evaluateResourcePolicy, type PolicyRequest } from '../../local/resource-policy';

const TOPIC = 'arn:aws:sns:us-east-1:000000000000:Cuecast-Alarms';
const ALARM = 'arn:aws:cloudwatch:us-east-1:000000000000:alarm:Cuecast-CreateQuizErrors';
const publish = (context: PolicyRequest['context'], service = 'cloudwatch.amazonaws.com'): PolicyRequest => ({
  principal: { service },
  action: 'SNS:Publish',
  resource: TOPIC,
  context: { 'aws:SecureTransport': 'true', ...context },
});
const TLS_ONLY = {
  Sid: 'AllowPublishThroughSSLOnly',
  Effect: 'Deny',
  Principal: '*',
  Action: 'sns:Publish',
  Resource: TOPIC,
  Condition: { Bool: { 'aws:SecureTransport': 'false' } },
};
const CLOUDWATCH = {
  Effect: 'Allow',
  Principal: { Service: 'cloudwatch.amazonaws.com' },
  Action: 'sns:Publish',
  Resource: TOPIC,
  Condition: {
    StringEquals: { 'aws:SourceAccount': '000000000000' },
    ArnEquals: { 'aws:SourceArn': [ALARM] },
  },
};

describe('a topic policy, evaluated for a publish', () => {
  it('refuses CloudWatch when the policy holds only the TLS rule: what enforceSSL alone left', () => {
    const policy = { Statement: [TLS_ONLY] };
    expect(
      evaluateResourcePolicy(
        policy,
        publish({ 'aws:SourceAccount': '000000000000', 'aws:SourceArn': ALARM }),
      ),
    ).toBe('ImplicitlyDenied');
  });

  it('lets CloudWatch publish for this account’s alarm, and nothing else', () => {
    const policy = { Statement: [TLS_ONLY, CLOUDWATCH] };
    const own = { 'aws:SourceAccount': '000000000000', 'aws:SourceArn': ALARM };
    expect(evaluateResourcePolicy(policy, publish(own))).toBe('Allowed');
    // Another account's alarm, or another of this account's: a confused deputy, refused.
    expect(evaluateResourcePolicy(policy, publish({ ...own, 'aws:SourceAccount': '111122223333' }))).toBe(
      'ImplicitlyDenied',
    );
    expect(evaluateResourcePolicy(policy, publish({ ...own, 'aws:SourceArn': `${ALARM}-other` }))).toBe(
      'ImplicitlyDenied',
    );
    expect(evaluateResourcePolicy(policy, publish({ 'aws:SourceAccount': '000000000000' }))).toBe(
      'ImplicitlyDenied',
    );
    // Another service with the same conditions.
    expect(evaluateResourcePolicy(policy, publish(own, 'events.amazonaws.com'))).toBe('ImplicitlyDenied');
    // Over plain HTTP, the Deny wins.
    expect(evaluateResourcePolicy(policy, publish({ ...own, 'aws:SecureTransport': 'false' }))).toBe(
      'ExplicitlyDenied',
    );
  });

  it('matches actions case-insensitively with wildcards, resources case-sensitively', () => {
    const policy = {
      Statement: [
        {
          ...CLOUDWATCH,
          Action: 'sns:Pub*',
          Resource: 'arn:aws:sns:*:000000000000:Cuecast-*',
          Condition: undefined,
        },
      ],
    };
    expect(evaluateResourcePolicy(policy, publish({}))).toBe('Allowed');
    expect(
      evaluateResourcePolicy(policy, { ...publish({}), resource: TOPIC.replace('Cuecast', 'cuecast') }),
    ).toBe('ImplicitlyDenied');
    expect(evaluateResourcePolicy(policy, { ...publish({}), action: 'sns:Subscribe' })).toBe(
      'ImplicitlyDenied',
    );
  });

  it('holds an IfExists condition when the key is absent, and a negated one only when no value matches', () => {
    const ifExists = {
      Statement: [
        { ...CLOUDWATCH, Condition: { StringEqualsIfExists: { 'aws:SourceAccount': '000000000000' } } },
      ],
    };
    expect(evaluateResourcePolicy(ifExists, publish({}))).toBe('Allowed');
    const not = {
      Statement: [{ ...CLOUDWATCH, Condition: { StringNotEquals: { 'aws:SourceAccount': ['1', '2'] } } }],
    };
    expect(evaluateResourcePolicy(not, publish({ 'aws:SourceAccount': '3' }))).toBe('Allowed');
    expect(evaluateResourcePolicy(not, publish({ 'aws:SourceAccount': '2' }))).toBe('ImplicitlyDenied');
  });

  it('refuses to guess at what it does not model', () => {
    expect(() =>
      evaluateResourcePolicy({ Statement: [{ ...CLOUDWATCH, NotPrincipal: { AWS: '1' } }] }, publish({})),
    ).toThrow('NotPrincipal is not supported locally');
    expect(() =>
      evaluateResourcePolicy(
        { Statement: [{ ...CLOUDWATCH, Condition: { DateGreaterThan: { 'aws:CurrentTime': 'x' } } }] },
        publish({}),
      ),
    ).toThrow('the condition operator DateGreaterThan is not supported locally');
    expect(evaluateResourcePolicy(undefined, publish({}))).toBe('ImplicitlyDenied');
  });
});
