import { execFileSync } from 'node:child_process';
import * as path from 'node:path';
import {
  AssetHashType,
  Aws,
  CfnOutput,
  DockerImage,
  Duration,
  Lazy,
  Names,
  RemovalPolicy,
  Stack,
  Validations,
} from 'aws-cdk-lib';
import * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import * as origins from 'aws-cdk-lib/aws-cloudfront-origins';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as s3deploy from 'aws-cdk-lib/aws-s3-deployment';
import { Construct } from 'constructs';
import type { HostPageConfig, PageConfig } from '../../web/src/config';

const ROOT = path.join(__dirname, '..', '..');

/** What the pages' `config.json` carries, from the stack's own values (tokens until deploy). */
export type DeployedPageConfig = Omit<PageConfig, 'mode' | 'cueEventsUrl'>;

/** The host console's: the same, with how it signs a host in. */
export type DeployedHostPageConfig = DeployedPageConfig & Pick<HostPageConfig, 'signIn'>;

export interface ShowPagesProps {
  /** The viewers' WebSocket API, `wss://<id>.execute-api.<region>.amazonaws.com`: the CSP names it. */
  readonly webSocketOrigin: string;
  /** @default PriceClass.PRICE_CLASS_100 (North America and Europe edges) */
  readonly priceClass?: cloudfront.PriceClass;
  /** Emit `ViewerUrl` and `HostUrl` as stack outputs. @default true */
  readonly outputs?: boolean;
}

/**
 * The viewer page and the host console as part of the stack: built by Vite at synth (no Docker),
 * kept in a private, encrypted, SSL-only bucket, and served by CloudFront through Origin Access
 * Control over HTTPS only, with a Content-Security-Policy that allows what the pages use and
 * nothing more, HSTS, `nosniff` and no framing. `config.json` is written at deploy time.
 */
export class ShowPages extends Construct {
  readonly bucket: s3.Bucket;
  readonly distribution: cloudfront.Distribution;
  /** CDK's deploy-time copy of the built pages and `config.json` into the bucket ({@link deploy}). */
  deployment?: s3deploy.BucketDeployment;
  /** `https://<distribution domain>`: what the HTTP API's CORS allows. */
  readonly origin: string;
  readonly viewerUrl: string;
  readonly hostUrl: string;
  private readonly connectOrigins: string[] = [];

  constructor(scope: Construct, id: string, props: ShowPagesProps) {
    super(scope, id);
    this.bucket = new s3.Bucket(this, 'Bucket', {
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      // Build output, rebuilt at every deploy: the deployment empties it when the stack goes
      // (retainOnDelete: false below), so CloudFormation can then delete it.
      removalPolicy: RemovalPolicy.DESTROY,
    });
    const headers = new cloudfront.ResponseHeadersPolicy(this, 'Headers', {
      responseHeadersPolicyName: accountWideName(this, 'Headers'),
      comment: 'cuecast pages: CSP, HSTS, nosniff, no framing',
      securityHeadersBehavior: {
        contentSecurityPolicy: {
          // Lazy: the host sign-in's origins are added once it exists (allowConnect).
          contentSecurityPolicy: Lazy.string({
            produce: () => contentSecurityPolicy(props.webSocketOrigin, this.connectOrigins),
          }),
          override: true,
        },
        strictTransportSecurity: {
          accessControlMaxAge: Duration.days(365),
          includeSubdomains: true,
          override: true,
        },
        contentTypeOptions: { override: true },
        frameOptions: { frameOption: cloudfront.HeadersFrameOption.DENY, override: true },
        referrerPolicy: { referrerPolicy: cloudfront.HeadersReferrerPolicy.SAME_ORIGIN, override: true },
      },
    });
    const origin = origins.S3BucketOrigin.withOriginAccessControl(this.bucket, {
      originAccessControl: new cloudfront.S3OriginAccessControl(this, 'OriginAccessControl', {
        originAccessControlName: accountWideName(this, 'OAC'),
        description: 'cuecast pages: the distribution reads the pages bucket',
      }),
    });
    this.distribution = new cloudfront.Distribution(this, 'Distribution', {
      comment: 'cuecast pages: the viewer page and the host console',
      defaultRootObject: 'index.html',
      priceClass: props.priceClass ?? cloudfront.PriceClass.PRICE_CLASS_100,
      // The pages and config.json are fetched fresh (a deploy needs no invalidation); the
      // built assets carry content hashes in their names, so edges keep them.
      defaultBehavior: {
        origin,
        viewerProtocolPolicy: cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
        allowedMethods: cloudfront.AllowedMethods.ALLOW_GET_HEAD,
        compress: true,
        cachePolicy: cloudfront.CachePolicy.CACHING_DISABLED,
        responseHeadersPolicy: headers,
        functionAssociations: [
          {
            eventType: cloudfront.FunctionEventType.VIEWER_REQUEST,
            function: new cloudfront.Function(this, 'DirectoryIndex', {
              comment: 'Redirects /host to /host/; serves a directory by its own index.html',
              runtime: cloudfront.FunctionRuntime.JS_2_0,
              code: cloudfront.FunctionCode.fromInline(DIRECTORY_INDEX),
            }),
          },
        ],
      },
      additionalBehaviors: {
        'assets/*': {
          origin,
          viewerProtocolPolicy: cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
          allowedMethods: cloudfront.AllowedMethods.ALLOW_GET_HEAD,
          compress: true,
          cachePolicy: cloudfront.CachePolicy.CACHING_OPTIMIZED,
          responseHeadersPolicy: headers,
        },
      },
    });
    this.origin = `https://${this.distribution.distributionDomainName}`;
    this.viewerUrl = `${this.origin}/`;
    this.hostUrl = `${this.origin}/host/`;

    if (props.outputs ?? true) {
      new CfnOutput(Stack.of(this), 'ViewerUrl', { value: this.viewerUrl, description: 'The viewer page' });
      new CfnOutput(Stack.of(this), 'HostUrl', { value: this.hostUrl, description: 'The host console' });
    }
    this.acknowledge();
  }

  /** Lets the pages fetch from `origin` (`https://host`), as the console does for sign-in. */
  allowConnect(origin: string): void {
    this.connectOrigins.push(origin);
  }

  /**
   * Puts the built pages in the bucket at deploy time, with `config.json` and `host/config.json`
   * written from the stack's own values. Separate from the constructor: host sign-in needs the
   * distribution's URL before its own values exist for the console's config.
   */
  deploy(config: DeployedPageConfig, hostConfig: DeployedHostPageConfig = config): void {
    this.deployment = new s3deploy.BucketDeployment(this, 'Deploy', {
      sources: [
        pagesAsset(),
        // `aws` mode: the pages take cues from the IVS Player (docs/protocol.md §6.4).
        s3deploy.Source.jsonData('config.json', { mode: 'aws', ...config }),
        s3deploy.Source.jsonData('host/config.json', { mode: 'aws', ...hostConfig }),
      ],
      destinationBucket: this.bucket,
      retainOnDelete: false,
      memoryLimit: 512,
    });
    this.acknowledgeDeployment(this.deployment);
  }

  private acknowledgeDeployment(deployment: s3deploy.BucketDeployment): void {
    // CDK's own deploy-time handler (one per stack), which copies the pages at deploy time only.
    const why = "CDK's BucketDeployment handler, which runs only while CloudFormation deploys: ";
    Validations.of(deployment.handlerRole).acknowledge(
      {
        id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
        reason: `${why}its logging policy is the one CDK attaches.`,
      },
      ...['s3:GetObject*', 's3:GetBucket*', 's3:List*', 's3:DeleteObject*', 's3:Abort*'].map((action) => ({
        id: `AwsSolutions-IAM5[Action::${action}]`,
        reason: `${why}CDK's read grant on the staging bucket and write grant on the pages bucket.`,
      })),
      {
        id: `AwsSolutions-IAM5[Resource::<${Stack.of(this).getLogicalId(this.bucket.node.defaultChild as s3.CfnBucket)}.Arn>/*]`,
        reason: `${why}it writes the pages' objects, whose keys the build decides.`,
      },
      {
        id: 'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:s3:::cdk-hnb659fds-assets-<AWS::AccountId>-<AWS::Region>/*]',
        reason: `${why}it reads the pages' asset from CDK's staging bucket.`,
      },
    );
    const handler = Stack.of(this).node.children.find((c) =>
      c.node.id.startsWith('Custom::CDKBucketDeployment'),
    );
    if (handler)
      Validations.of(handler).acknowledge({
        id: 'AwsSolutions-L1',
        reason: `${why}its Python runtime is the one CDK ships it for.`,
      });
  }

  private acknowledge(): void {
    Validations.of(this.bucket).acknowledge({
      id: 'AwsSolutions-S1',
      reason:
        'The bucket holds the built pages and is read only through CloudFront; its requests are CloudFront origin fetches.',
    });
    Validations.of(this.distribution).acknowledge(
      {
        id: 'AwsSolutions-CFR1',
        reason: 'A live show is for whoever its team invites, anywhere: no country is refused.',
      },
      {
        id: 'AwsSolutions-CFR2',
        reason:
          'The distribution serves static pages only (GET and HEAD); the APIs have their own throttling. A WAF costs per month whether or not a show runs.',
      },
      {
        id: 'AwsSolutions-CFR3',
        reason: 'Access logs of static page loads carry nothing the show needs; the APIs log every request.',
      },
      {
        id: 'AwsSolutions-CFR4',
        reason:
          'Without a custom domain CloudFront serves its default certificate, whose TLS policy CloudFront fixes; browsers negotiate TLS 1.2 or 1.3 with it.',
      },
    );
  }
}

/**
 * The policy the pages need: their own files; the IVS player's WebAssembly (`wasm-unsafe-eval`)
 * and its worker; its playlists and segments from `*.live-video.net` as MediaSource blobs; the
 * WebSocket API by name; and the host API. The HTTP API is allowed as this region's
 * `execute-api` hosts rather than by name: its CORS must name this distribution, and
 * CloudFormation cannot have each refer to the other. `connectOrigins` are named exactly (the
 * host sign-in's token and identity endpoints). Drop images may come from any HTTPS host.
 */
export function contentSecurityPolicy(
  webSocketOrigin: string,
  connectOrigins: readonly string[] = [],
): string {
  return [
    "default-src 'self'",
    "script-src 'self' 'wasm-unsafe-eval'",
    "worker-src 'self'",
    [
      "connect-src 'self'",
      webSocketOrigin,
      `https://*.execute-api.${Aws.REGION}.amazonaws.com`,
      'https://*.live-video.net',
      ...connectOrigins,
    ].join(' '),
    "media-src 'self' blob: https://*.live-video.net",
    "img-src 'self' data: https:",
    "style-src 'self'",
    "font-src 'self'",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join('; ');
}

/**
 * A name for a CloudFront resource, whose names are global to the account: this construct's
 * unique path (stack included) and the region, so a second region's stack is apart. At most
 * 40 + 1 + 14 characters, within the OAC's 64.
 */
function accountWideName(scope: Construct, id: string): string {
  return `${Names.uniqueResourceName(scope, { maxLength: 40 - id.length, separator: '-' })}-${id}-${Stack.of(scope).region}`;
}

/**
 * CloudFront Function (viewer request): `/host` answers 301 to `/host/`, so the console's relative
 * `./config.json` is its own (not the viewer's); a directory (`/host/`) is served by its own
 * `index.html`, as `/` is the viewer's. The query string goes along with the redirect.
 */
const DIRECTORY_INDEX = `function handler(event) {
  var request = event.request;
  if (request.uri.endsWith('/')) {
    request.uri += 'index.html';
    return request;
  }
  if (request.uri.indexOf('.') === -1) {
    var query = Object.keys(request.querystring).map(function (name) {
      var entry = request.querystring[name];
      var values = entry.multiValue ? entry.multiValue : [entry];
      return values.map(function (v) {
        return encodeURIComponent(name) + (v.value === '' ? '' : '=' + encodeURIComponent(v.value));
      }).join('&');
    }).join('&');
    return {
      statusCode: 301,
      statusDescription: 'Moved Permanently',
      headers: { location: { value: request.uri + '/' + (query ? '?' + query : '') } },
    };
  }
  return request;
}`;

/**
 * The pages, built by Vite into the asset's folder at synth, on this machine (no Docker). The
 * hash is the output's: the build also depends on `client/` and the lockfile, not only on `web/`.
 */
function pagesAsset(): s3deploy.ISource {
  return s3deploy.Source.asset(path.join(ROOT, 'web'), {
    assetHashType: AssetHashType.OUTPUT,
    exclude: ['dist'],
    bundling: {
      // Never used: local bundling always succeeds or throws.
      image: DockerImage.fromRegistry('public.ecr.aws/docker/library/node:20'),
      local: {
        tryBundle(outputDir: string): boolean {
          const vite = path.join(
            path.dirname(require.resolve('vite/package.json', { paths: [ROOT] })),
            'bin',
            'vite.js',
          );
          execFileSync(
            process.execPath,
            [vite, 'build', '--outDir', outputDir, '--emptyOutDir', '--logLevel', 'warn'],
            {
              cwd: ROOT,
              stdio: ['ignore', 'inherit', 'inherit'],
            },
          );
          return true;
        },
      },
    },
  });
}
