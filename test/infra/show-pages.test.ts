import { Match } from 'aws-cdk-lib/assertions';
import { cloudFrontQuerystring, viewerRequestFunction } from '../../local/cloudfront-function';
import { actionsOf, buildStack, isCdkDeployHelper, onlyLogicalId, resourcesOf } from './build-stack';

/** Issue 16 part 1: the viewer page and the host console are part of the stack. */
const { template } = buildStack();
const bucketId = onlyLogicalId(template, 'AWS::S3::Bucket');
const distributionId = onlyLogicalId(template, 'AWS::CloudFront::Distribution');
const distribution = () =>
  template.findResources('AWS::CloudFront::Distribution')[distributionId].Properties.DistributionConfig;
const csp = (): string =>
  JSON.stringify(
    Object.values(template.findResources('AWS::CloudFront::ResponseHeadersPolicy'))[0].Properties
      .ResponseHeadersPolicyConfig.SecurityHeadersConfig.ContentSecurityPolicy.ContentSecurityPolicy,
  );

describe('the pages bucket', () => {
  it('is private, encrypted and refuses plain HTTP', () => {
    template.hasResourceProperties('AWS::S3::Bucket', {
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      },
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }],
      },
    });
    template.hasResourceProperties('AWS::S3::BucketPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Effect: 'Deny',
            Action: 's3:*',
            Condition: { Bool: { 'aws:SecureTransport': 'false' } },
          }),
        ]),
      },
    });
  });

  it('lets only this distribution read it, through Origin Access Control', () => {
    const policy = Object.values(template.findResources('AWS::S3::BucketPolicy'))[0].Properties
      .PolicyDocument;
    const allows = policy.Statement.filter((s: { Effect: string }) => s.Effect === 'Allow');
    expect(allows).toEqual([
      {
        Action: 's3:GetObject',
        Effect: 'Allow',
        Principal: { Service: 'cloudfront.amazonaws.com' },
        Resource: { 'Fn::Join': ['', [{ 'Fn::GetAtt': [bucketId, 'Arn'] }, '/*']] },
        Condition: {
          StringEquals: {
            'AWS:SourceArn': {
              'Fn::Join': [
                '',
                [
                  'arn:',
                  { Ref: 'AWS::Partition' },
                  ':cloudfront::',
                  { Ref: 'AWS::AccountId' },
                  ':distribution/',
                  { Ref: distributionId },
                ],
              ],
            },
          },
        },
      },
    ]);
    template.hasResourceProperties('AWS::CloudFront::OriginAccessControl', {
      OriginAccessControlConfig: {
        OriginAccessControlOriginType: 's3',
        SigningBehavior: 'always',
        SigningProtocol: 'sigv4',
      },
    });
    const [origin] = distribution().Origins;
    expect(origin.OriginAccessControlId).toEqual({
      'Fn::GetAtt': [expect.stringMatching(/OriginAccessControl/), 'Id'],
    });
    expect(origin.S3OriginConfig).toEqual({ OriginAccessIdentity: '' });
  });
});

describe('the distribution', () => {
  it('serves HTTPS only, compressed, with the same security headers on every path', () => {
    const config = distribution();
    const behaviors = [config.DefaultCacheBehavior, ...config.CacheBehaviors];
    expect(behaviors.map((b: { PathPattern?: string }) => b.PathPattern ?? 'default')).toEqual([
      'default',
      'assets/*',
    ]);
    for (const behavior of behaviors) {
      expect(behavior).toMatchObject({
        ViewerProtocolPolicy: 'redirect-to-https',
        Compress: true,
        AllowedMethods: ['GET', 'HEAD'],
      });
      expect(behavior.ResponseHeadersPolicyId).toEqual({
        Ref: onlyLogicalId(template, 'AWS::CloudFront::ResponseHeadersPolicy'),
      });
    }
    expect(config.DefaultRootObject).toBe('index.html');
  });

  it('redirects /host to /host/ (with its query) and serves a directory by its own index.html', () => {
    const fnId = onlyLogicalId(template, 'AWS::CloudFront::Function');
    const code = template.findResources('AWS::CloudFront::Function')[fnId].Properties.FunctionCode;
    expect(distribution().DefaultCacheBehavior.FunctionAssociations).toEqual([
      { EventType: 'viewer-request', FunctionARN: { 'Fn::GetAtt': [fnId, 'FunctionARN'] } },
    ]);
    // The function's own code, run as CloudFront runs it (local/cloudfront-function.ts).
    const run = viewerRequestFunction(code);
    const request = (uri: string, query = '') =>
      run({ uri, querystring: cloudFrontQuerystring(new URLSearchParams(query)) });
    // Without the slash, the console's ./config.json would be the viewer's (no sign-in settings).
    expect(request('/host')).toEqual({ response: { statusCode: 301, headers: { location: '/host/' } } });
    expect(request('/host', 'code=a b&state=x&state=y')).toEqual({
      response: { statusCode: 301, headers: { location: '/host/?code=a%20b&state=x&state=y' } },
    });
    expect(request('/host/')).toEqual({ request: expect.objectContaining({ uri: '/host/index.html' }) });
    expect(request('/')).toEqual({ request: expect.objectContaining({ uri: '/index.html' }) });
    expect(request('/host/config.json')).toEqual({
      request: expect.objectContaining({ uri: '/host/config.json' }),
    });
    expect(request('/assets/index-abc.js')).toEqual({
      request: expect.objectContaining({ uri: '/assets/index-abc.js' }),
    });
  });

  it('sends a CSP that allows the pages, the IVS player and the APIs, and nothing else; HSTS; nosniff; no framing', () => {
    const headers = Object.values(template.findResources('AWS::CloudFront::ResponseHeadersPolicy'))[0]
      .Properties.ResponseHeadersPolicyConfig.SecurityHeadersConfig;
    expect(headers.StrictTransportSecurity).toEqual({
      AccessControlMaxAgeSec: 31536000,
      IncludeSubdomains: true,
      Override: true,
    });
    expect(headers.ContentTypeOptions).toEqual({ Override: true });
    expect(headers.FrameOptions).toEqual({ FrameOption: 'DENY', Override: true });
    const policy = csp();
    for (const directive of [
      "default-src 'self'",
      "script-src 'self' 'wasm-unsafe-eval'",
      "worker-src 'self'",
      "style-src 'self'",
      "object-src 'none'",
      "frame-ancestors 'none'",
      "media-src 'self' blob: https://*.live-video.net",
    ]) {
      expect(policy).toContain(directive);
    }
    expect(policy).not.toContain('unsafe-inline');
    // The WebSocket API by name.
    expect(policy).toContain(`connect-src 'self' wss://`);
    const wsApiId = Object.entries(template.findResources('AWS::ApiGatewayV2::Api')).find(
      ([, api]) => api.Properties.ProtocolType === 'WEBSOCKET',
    )?.[0];
    expect(policy).toContain(`{"Ref":"${wsApiId}"}`);
  });
});

describe('the deployment', () => {
  const deployment = () => Object.values(template.findResources('Custom::CDKBucketDeployment'))[0].Properties;

  it('copies the built pages and writes config.json and host/config.json from the stack’s own values', () => {
    const props = deployment();
    expect(props.SourceObjectKeys).toHaveLength(3);
    expect(props.DestinationBucketName).toEqual({ Ref: bucketId });
    expect(props.RetainOnDelete).toBe(false);
    const markers = JSON.stringify(props.SourceMarkers);
    const apis = Object.entries(template.findResources('AWS::ApiGatewayV2::Api'));
    for (const [id] of apis) expect(markers).toContain(`{"Ref":"${id}"}`);
    const channelId = onlyLogicalId(template, 'AWS::IVS::Channel');
    expect(markers).toContain(`{"Fn::GetAtt":["${channelId}","PlaybackUrl"]}`);
    // The console's config has the viewer's values, and more (its sign-in settings).
    expect(props.SourceMarkers[2]).toMatchObject(props.SourceMarkers[1]);
  });

  it("runs CDK's helper with grants bounded to reading the staging bucket and writing the pages bucket", () => {
    const policies = Object.entries(template.findResources('AWS::IAM::Policy')).filter(([id]) =>
      isCdkDeployHelper(id),
    );
    expect(policies).toHaveLength(1);
    for (const statement of policies[0][1].Properties.PolicyDocument.Statement) {
      for (const action of actionsOf(statement)) expect(action).toMatch(/^s3:/);
      for (const resource of resourcesOf(statement)) {
        expect(JSON.stringify(resource)).toMatch(new RegExp(`cdk-hnb659fds-assets|${bucketId}`));
      }
    }
  });
});

describe('the stack around the pages', () => {
  it('outputs ViewerUrl and HostUrl on the distribution', () => {
    const domain = { 'Fn::GetAtt': [distributionId, 'DomainName'] };
    expect(template.toJSON().Outputs.ViewerUrl.Value).toEqual({
      'Fn::Join': ['', ['https://', domain, '/']],
    });
    expect(template.toJSON().Outputs.HostUrl.Value).toEqual({
      'Fn::Join': ['', ['https://', domain, '/host/']],
    });
  });

  it("lets the distribution's origin call the HTTP API (CORS), and no other", () => {
    const httpApi = Object.values(template.findResources('AWS::ApiGatewayV2::Api')).find(
      (api) => api.Properties.ProtocolType === 'HTTP',
    );
    expect(httpApi?.Properties.CorsConfiguration.AllowOrigins).toEqual([
      { 'Fn::Join': ['', ['https://', { 'Fn::GetAtt': [distributionId, 'DomainName'] }]] },
    ]);
  });

  it('writes the viewer-token URL (on the HTTP API) into the config when viewer auth is on', () => {
    // config.json's text is in the asset; its tokens are the markers: one HTTP API URL without
    // viewer auth, two (httpApiUrl and viewerTokenUrl) with it.
    const httpApiRefs = (t: typeof template) => {
      const props = Object.values(t.findResources('Custom::CDKBucketDeployment'))[0].Properties;
      const httpApiId = Object.entries(t.findResources('AWS::ApiGatewayV2::Api')).find(
        ([, api]) => api.Properties.ProtocolType === 'HTTP',
      )?.[0];
      return Object.values(props.SourceMarkers[1]).filter(
        (v) => JSON.stringify(v) === `{"Ref":"${httpApiId}"}`,
      ).length;
    };
    expect(httpApiRefs(template)).toBe(1);
    expect(httpApiRefs(buildStack({ viewerAuth: {} }).template)).toBe(2);
  });

  it('hosts nothing, and allows no origin, with pages off', () => {
    const { template: bare } = buildStack({ pages: false });
    bare.resourceCountIs('AWS::CloudFront::Distribution', 0);
    bare.resourceCountIs('AWS::S3::Bucket', 0);
    expect(bare.toJSON().Outputs.ViewerUrl).toBeUndefined();
    const httpApi = Object.values(bare.findResources('AWS::ApiGatewayV2::Api')).find(
      (api) => api.Properties.ProtocolType === 'HTTP',
    );
    expect(httpApi?.Properties.CorsConfiguration).toBeUndefined();
  });
});
