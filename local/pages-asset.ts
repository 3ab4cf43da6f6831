import * as fs from 'node:fs';
import * as path from 'node:path';
import { type CfnResource, CloudAssembly } from './assembly';
import type { IntrinsicResolver } from './intrinsics';

/** The pages as the stack deploys them, read from the cloud assembly. */
export interface PagesDeployment {
  /** The staged build: the asset folder with `index.html` that the deployment copies to the bucket. */
  readonly dir: string;
  /** `config.json` as the deployment writes it, its tokens resolved locally. */
  readonly config: Record<string, unknown>;
  /** `host/config.json` likewise: the console's, with its sign-in settings. */
  readonly hostConfig: Record<string, unknown>;
  /** The security headers of the distribution's response headers policy, resolved. */
  readonly headers: Record<string, string>;
  /** The code of the distribution's viewer-request CloudFront Function, when it has one. */
  readonly viewerRequestCode?: string;
}

/**
 * Finds the stack's `Custom::CDKBucketDeployment` of the pages and reads what it would put in the
 * bucket: its source assets (`asset.<hash>` beside the template, one per `SourceObjectKeys` entry)
 * and the markers `Source.jsonData` leaves in `config.json`, which CloudFormation fills at deploy
 * time and the resolver fills here. Undefined when the stack hosts no pages.
 */
export function readPagesDeployment(
  assemblyDir: string,
  resources: Record<string, CfnResource>,
  resolver: IntrinsicResolver,
  /** Maps an AWS endpoint in a resolved value to its local stand-in. */
  toLocal: (value: string) => string,
): PagesDeployment | undefined {
  const sources = deploymentSources(assemblyDir, resources);
  if (!sources) return undefined;
  const { dirs, markers } = sources;
  const site = dirs.find((dir) => fs.existsSync(path.join(dir, 'index.html')));
  if (!site) throw new Error('the pages deployment has no index.html');
  /** A deployed JSON file, its markers filled by the resolver. */
  const configFile = (file: string): Record<string, unknown> => {
    const index = dirs.findIndex((dir) => fs.existsSync(path.join(dir, file)));
    if (index < 0) throw new Error(`the pages deployment has no ${file}`);
    let text = fs.readFileSync(path.join(dirs[index], file), 'utf8');
    for (const [marker, value] of Object.entries(markers[index] ?? {})) {
      text = text.split(marker).join(resolver.resolveString(value));
    }
    // The URLs are assembled from literal text and markers, so they are whole only now.
    return JSON.parse(toLocal(text));
  };
  return {
    dir: site,
    config: configFile('config.json'),
    hostConfig: configFile(path.join('host', 'config.json')),
    headers: securityHeaders(resources, resolver, toLocal),
    viewerRequestCode: viewerRequestCode(resources),
  };
}

/** The code of the CloudFront Function the distribution's default behavior runs on viewer requests. */
function viewerRequestCode(resources: Record<string, CfnResource>): string | undefined {
  const distribution = Object.values(resources).find((r) => r.Type === 'AWS::CloudFront::Distribution');
  const associations = (
    distribution?.Properties?.DistributionConfig as {
      DefaultCacheBehavior?: { FunctionAssociations?: Array<{ EventType: string; FunctionARN: unknown }> };
    }
  )?.DefaultCacheBehavior?.FunctionAssociations;
  const viewerRequest = associations?.find((a) => a.EventType === 'viewer-request');
  const functionId = (viewerRequest?.FunctionARN as { 'Fn::GetAtt'?: [string, string] } | undefined)?.[
    'Fn::GetAtt'
  ]?.[0];
  const code = functionId ? resources[functionId]?.Properties?.FunctionCode : undefined;
  return typeof code === 'string' ? code : undefined;
}

/** The staged source folders of the stack's pages deployment, and the markers of each. */
function deploymentSources(
  assemblyDir: string,
  resources: Record<string, CfnResource>,
): { dirs: string[]; markers: Array<Record<string, unknown>> } | undefined {
  const deployment = Object.values(resources).find((r) => r.Type === 'Custom::CDKBucketDeployment');
  if (!deployment) return undefined;
  const props = deployment.Properties ?? {};
  const keys = (props.SourceObjectKeys as string[] | undefined) ?? [];
  const dirs = keys.map((key) => {
    const dir = path.join(assemblyDir, `asset.${key.replace(/\.zip$/, '')}`);
    if (!fs.existsSync(dir)) throw new Error(`the pages' asset ${dir} is missing: synthesize again`);
    return dir;
  });
  return { dirs, markers: (props.SourceMarkers as Array<Record<string, unknown>> | undefined) ?? [] };
}

/** The built pages the stack deploys (the asset with `index.html`), from a synthesized assembly. */
export function deployedPagesDir(assemblyDir: string): string | undefined {
  const sources = deploymentSources(assemblyDir, new CloudAssembly(assemblyDir).stack().template.Resources);
  return sources?.dirs.find((dir) => fs.existsSync(path.join(dir, 'index.html')));
}

/** The distribution's response headers, as the browser receives them (HSTS left out: loopback is HTTP). */
function securityHeaders(
  resources: Record<string, CfnResource>,
  resolver: IntrinsicResolver,
  toLocal: (value: string) => string,
): Record<string, string> {
  const policy = Object.values(resources).find((r) => r.Type === 'AWS::CloudFront::ResponseHeadersPolicy');
  const security = (
    policy?.Properties?.ResponseHeadersPolicyConfig as {
      SecurityHeadersConfig?: Record<string, Record<string, unknown>>;
    }
  )?.SecurityHeadersConfig;
  if (!security) return {};
  const headers: Record<string, string> = {};
  const csp = security.ContentSecurityPolicy?.ContentSecurityPolicy;
  if (csp) headers['content-security-policy'] = toLocal(resolver.resolveString(csp));
  if (security.ContentTypeOptions) headers['x-content-type-options'] = 'nosniff';
  const frame = security.FrameOptions?.FrameOption;
  if (typeof frame === 'string') headers['x-frame-options'] = frame;
  const referrer = security.ReferrerPolicy?.ReferrerPolicy;
  if (typeof referrer === 'string') headers['referrer-policy'] = referrer;
  return headers;
}

/**
 * A deployed CSP with the local endpoints added where the deployed ones are named: loopback
 * stands in for `*.execute-api` and `*.live-video.net`, so the pages run under the same policy
 * otherwise.
 */
export function localContentSecurityPolicy(
  csp: string,
  local: { connect: readonly string[]; media: readonly string[] },
): string {
  return csp
    .split(';')
    .map((directive) => directive.trim())
    .filter(Boolean)
    .map((directive) => {
      const [name] = directive.split(/\s+/);
      if (name === 'connect-src') return [directive, ...local.connect].join(' ');
      if (name === 'media-src') return [directive, ...local.media].join(' ');
      return directive;
    })
    .join('; ');
}
