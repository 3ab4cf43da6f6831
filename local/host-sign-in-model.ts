import type { CfnResource } from './assembly';
import type { IntrinsicResolver } from './intrinsics';

/**
 * The template's host sign-in, as the Cognito stand-in needs it: the user pool and its console
 * client (callback and sign-out URLs, token lifetimes), the identity pool, and what its
 * authenticated role may do, as the resolved resource patterns of its `execute-api:Invoke`
 * allows. Nothing else in the role's policies is honoured, so nothing else is allowed.
 */
export interface HostSignInSpec {
  readonly userPoolId: string;
  /** `cognito-idp.<region>.amazonaws.com/<pool id>`: the issuer, and the key of `Logins`. */
  readonly providerName: string;
  readonly clientId: string;
  readonly callbackUrls: readonly string[];
  readonly logoutUrls: readonly string[];
  readonly idTokenSeconds: number;
  readonly refreshTokenSeconds: number;
  readonly identityPoolId: string;
  readonly allowUnauthenticated: boolean;
  readonly roleArn: string;
  /** The role's session length: how long the credentials it mints last. */
  readonly sessionSeconds: number;
  /** `execute-api:Invoke` resources the role is allowed (IAM wildcards `*` and `?`). */
  readonly invokeArns: readonly string[];
}

type Entry = [string, CfnResource];

const VALIDITY_UNIT_SECONDS: Record<string, number> = { seconds: 1, minutes: 60, hours: 3600, days: 86_400 };

/** Reads the host sign-in of a template; undefined when it has none. */
export function readHostSignIn(
  resources: Record<string, CfnResource>,
  resolver: IntrinsicResolver,
  toLocal: (value: string) => string,
): HostSignInSpec | undefined {
  const ofType = (type: string): Entry[] => Object.entries(resources).filter(([, r]) => r.Type === type);
  const [identityPool] = ofType('AWS::Cognito::IdentityPool');
  if (!identityPool) return undefined;
  const [poolLogicalId, pool] = identityPool;
  const poolProps = pool.Properties ?? {};
  const [provider] = (poolProps.CognitoIdentityProviders as Array<Record<string, unknown>> | undefined) ?? [];
  if (!provider) throw new Error(`identity pool ${poolLogicalId} names no user pool client`);
  const clientId = resolver.resolveString(provider.ClientId);
  const client = ofType('AWS::Cognito::UserPoolClient').find(
    ([id]) => resolver.resolveString({ Ref: id }) === clientId,
  );
  if (!client)
    throw new Error(`identity pool ${poolLogicalId}: its client ${clientId} is not in the template`);
  const clientProps = client[1].Properties ?? {};
  const userPoolId = resolver.resolveString(clientProps.UserPoolId);
  const urls = (key: string) =>
    ((clientProps[key] as unknown[] | undefined) ?? []).map((url) => toLocal(resolver.resolveString(url)));
  const units = (clientProps.TokenValidityUnits as Record<string, string> | undefined) ?? {};
  const validity = (key: string, unitKey: string, fallbackSeconds: number) =>
    clientProps[key] === undefined
      ? fallbackSeconds
      : Number(clientProps[key]) * (VALIDITY_UNIT_SECONDS[units[unitKey] ?? 'hours'] ?? 3600);

  const attachment = ofType('AWS::Cognito::IdentityPoolRoleAttachment').find(
    ([, r]) =>
      resolver.resolveString(r.Properties?.IdentityPoolId) === resolver.resolveString({ Ref: poolLogicalId }),
  );
  const roles = attachment?.[1].Properties?.Roles as Record<string, unknown> | undefined;
  if (!roles?.authenticated) throw new Error(`identity pool ${poolLogicalId} has no authenticated role`);
  const roleArn = resolver.resolveString(roles.authenticated);
  const role = ofType('AWS::IAM::Role').find(
    ([id]) => resolver.resolveString({ 'Fn::GetAtt': [id, 'Arn'] }) === roleArn,
  );
  if (!role) throw new Error(`the identity pool's role ${roleArn} is not in the template`);
  return {
    userPoolId,
    providerName: resolver.resolveString(provider.ProviderName),
    clientId,
    callbackUrls: urls('CallbackURLs'),
    logoutUrls: urls('LogoutURLs'),
    idTokenSeconds: validity('IdTokenValidity', 'IdToken', 3600),
    refreshTokenSeconds: validity('RefreshTokenValidity', 'RefreshToken', 30 * 86_400),
    identityPoolId: resolver.resolveString({ Ref: poolLogicalId }),
    allowUnauthenticated: poolProps.AllowUnauthenticatedIdentities === true,
    roleArn,
    sessionSeconds: Number(role[1].Properties?.MaxSessionDuration ?? 3600),
    invokeArns: invokeAllows(role[0], role[1], resources, resolver),
  };
}

interface Statement {
  Effect?: string;
  Action?: string | string[];
  Resource?: unknown;
}

/** The resources of every statement allowing `execute-api:Invoke`, in the role's own and attached policies. */
function invokeAllows(
  roleId: string,
  role: CfnResource,
  resources: Record<string, CfnResource>,
  resolver: IntrinsicResolver,
): string[] {
  const documents: unknown[] = [
    ...((role.Properties?.Policies as Array<{ PolicyDocument?: unknown }> | undefined) ?? []).map(
      (p) => p.PolicyDocument,
    ),
    ...Object.values(resources)
      .filter(
        (r) =>
          r.Type === 'AWS::IAM::Policy' &&
          ((r.Properties?.Roles as unknown[] | undefined) ?? []).some(
            (ref) => (ref as { Ref?: string }).Ref === roleId,
          ),
      )
      .map((r) => r.Properties?.PolicyDocument),
  ];
  const statements = documents.flatMap(
    (doc) => ((doc as { Statement?: Statement[] } | undefined)?.Statement ?? []) as Statement[],
  );
  if (statements.some((s) => s.Effect === 'Deny'))
    throw new Error(`role ${roleId}: the local runtime does not evaluate Deny statements`);
  return statements
    .filter((s) => s.Effect === 'Allow' && [s.Action ?? []].flat().includes('execute-api:Invoke'))
    .flatMap((s) => [s.Resource ?? []].flat().map((r) => resolver.resolveString(r)));
}

/** True when `arn` matches an IAM resource pattern: `*` any run of characters, `?` any one. */
export function arnMatches(pattern: string, arn: string): boolean {
  const source = pattern
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${source}$`).test(arn);
}
