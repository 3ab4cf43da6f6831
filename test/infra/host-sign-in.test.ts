import { AwsSolutionsChecks } from 'cdk-nag';
import { buildStack, executeApiArn, onlyLogicalId } from './build-stack';

/** Issue 16 part 2: hosts sign in with Cognito, and IAM stays the only authorization on host routes. */
const { app, template } = buildStack();
const distributionId = onlyLogicalId(template, 'AWS::CloudFront::Distribution');
const hostUrl = {
  'Fn::Join': ['', ['https://', { 'Fn::GetAtt': [distributionId, 'DomainName'] }, '/host/']],
};
const httpApiId = Object.entries(template.findResources('AWS::ApiGatewayV2::Api')).find(
  ([, api]) => api.Properties.ProtocolType === 'HTTP',
)?.[0];
const routeArn = (route: string) => executeApiArn(httpApiId, `/$default/${route}`);

describe('the host user pool', () => {
  it('is admin-only, with a strong password policy and no MFA unless asked', () => {
    template.hasResourceProperties('AWS::Cognito::UserPool', {
      AdminCreateUserConfig: { AllowAdminCreateUserOnly: true },
      Policies: {
        PasswordPolicy: {
          MinimumLength: 12,
          RequireLowercase: true,
          RequireUppercase: true,
          RequireNumbers: true,
          RequireSymbols: true,
          TemporaryPasswordValidityDays: 3,
        },
      },
      MfaConfiguration: 'OFF',
      UsernameAttributes: ['email'],
    });
  });

  it('offers TOTP, never SMS, with mfa on', () => {
    const { template: withMfa } = buildStack({ hostSignIn: { mfa: true } });
    withMfa.hasResourceProperties('AWS::Cognito::UserPool', {
      MfaConfiguration: 'OPTIONAL',
      EnabledMfas: ['SOFTWARE_TOKEN_MFA'],
    });
  });

  it('has a managed login domain and a console client: no secret, the code flow only, back to the console', () => {
    template.hasResourceProperties('AWS::Cognito::UserPoolDomain', {
      Domain: { 'Fn::Join': ['', ['cuecast-hosts-', { Ref: 'AWS::AccountId' }]] },
    });
    template.hasResourceProperties('AWS::Cognito::UserPoolClient', {
      GenerateSecret: false,
      AllowedOAuthFlows: ['code'],
      AllowedOAuthScopes: ['openid', 'email'],
      CallbackURLs: [hostUrl],
      LogoutURLs: [hostUrl],
      SupportedIdentityProviders: ['COGNITO'],
      PreventUserExistenceErrors: 'ENABLED',
    });
    const client = Object.values(template.findResources('AWS::Cognito::UserPoolClient'))[0].Properties;
    // No password flows: a host signs in through the managed login only.
    expect(client.ExplicitAuthFlows).toBeUndefined();
  });
});

describe('the identity pool', () => {
  it('has no unauthenticated identities and trusts only this pool’s console client', () => {
    template.hasResourceProperties('AWS::Cognito::IdentityPool', {
      AllowUnauthenticatedIdentities: false,
      CognitoIdentityProviders: [
        {
          ClientId: { Ref: onlyLogicalId(template, 'AWS::Cognito::UserPoolClient') },
          ProviderName: { 'Fn::GetAtt': [onlyLogicalId(template, 'AWS::Cognito::UserPool'), 'ProviderName'] },
          // A host deleted or signed out everywhere gets no credentials from a live ID token.
          ServerSideTokenCheck: true,
        },
      ],
    });
    const attachment = Object.values(template.findResources('AWS::Cognito::IdentityPoolRoleAttachment'))[0]
      .Properties;
    expect(Object.keys(attachment.Roles)).toEqual(['authenticated']);
  });

  it('gives signed-in hosts a role that may Invoke the host routes and nothing else', () => {
    const identityPoolId = onlyLogicalId(template, 'AWS::Cognito::IdentityPool');
    const [roleId, role] = Object.entries(template.findResources('AWS::IAM::Role')).find(([, r]) =>
      JSON.stringify(r.Properties.AssumeRolePolicyDocument).includes('cognito-identity.amazonaws.com'),
    ) ?? [undefined, undefined];
    expect(role?.Properties.AssumeRolePolicyDocument.Statement).toEqual([
      {
        Action: 'sts:AssumeRoleWithWebIdentity',
        Effect: 'Allow',
        Principal: { Federated: 'cognito-identity.amazonaws.com' },
        Condition: {
          StringEquals: { 'cognito-identity.amazonaws.com:aud': { Ref: identityPoolId } },
          'ForAnyValue:StringLike': { 'cognito-identity.amazonaws.com:amr': 'authenticated' },
        },
      },
    ]);
    expect(role?.Properties.ManagedPolicyArns).toBeUndefined();
    expect(role?.Properties.Policies).toBeUndefined();
    const policies = Object.values(template.findResources('AWS::IAM::Policy')).filter((p) =>
      JSON.stringify(p.Properties.Roles).includes(roleId as string),
    );
    expect(policies).toHaveLength(1);
    const statements = policies[0].Properties.PolicyDocument.Statement;
    expect(statements).toHaveLength(1);
    expect(statements[0].Action).toBe('execute-api:Invoke');
    // Exactly the four IAM routes; not GET /state (public) and not POST /viewer-token.
    expect(new Set(statements[0].Resource.map((r: unknown) => JSON.stringify(r)))).toEqual(
      new Set(
        ['POST/quizzes', 'POST/quizzes/*/reveal', 'GET/quizzes/*', 'POST/events', 'GET/show'].map((r) =>
          JSON.stringify(routeArn(r)),
        ),
      ),
    );
  });
});

describe('the console and the CLI', () => {
  it('write the sign-in settings into the host console’s config only', () => {
    const props = Object.values(template.findResources('Custom::CDKBucketDeployment'))[0].Properties;
    const viewer = JSON.stringify(props.SourceMarkers[1]);
    const host = JSON.stringify(props.SourceMarkers[2]);
    for (const type of [
      'AWS::Cognito::UserPool',
      'AWS::Cognito::UserPoolClient',
      'AWS::Cognito::IdentityPool',
    ]) {
      const id = onlyLogicalId(template, type);
      expect(host).toContain(`{"Ref":"${id}"}`);
      expect(viewer).not.toContain(id);
    }
  });

  it("lets the pages' CSP reach the managed login and the identity pool, without a cycle", () => {
    const headers = Object.values(template.findResources('AWS::CloudFront::ResponseHeadersPolicy'))[0];
    const csp = JSON.stringify(
      headers.Properties.ResponseHeadersPolicyConfig.SecurityHeadersConfig.ContentSecurityPolicy,
    );
    expect(csp).toContain('https://*.auth.');
    expect(csp).toContain('.amazoncognito.com');
    expect(csp).toContain('https://cognito-identity.');
    // The user pool's invitation names the console's URL: the headers may not name the pool back.
    expect(csp).not.toContain(onlyLogicalId(template, 'AWS::Cognito::UserPoolDomain'));
    expect(csp).not.toContain(onlyLogicalId(template, 'AWS::Cognito::UserPool'));
  });

  it('outputs the user pool for `npm run host -- hosts add`', () => {
    expect(template.toJSON().Outputs.HostUserPoolId.Value).toEqual({
      Ref: onlyLogicalId(template, 'AWS::Cognito::UserPool'),
    });
  });

  it('reports no unacknowledged cdk-nag finding', () => {
    expect(new AwsSolutionsChecks(app).validateScope(app).violations.map((v) => v.ruleName)).toEqual([]);
  });
});
