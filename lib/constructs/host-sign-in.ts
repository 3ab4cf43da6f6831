import { Aws, CfnOutput, Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as cognito from 'aws-cdk-lib/aws-cognito';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import type { HostSignInConfig } from '../../web/src/config';
import type { HostApi } from './host-api';

export interface HostSignInOptions {
  /**
   * Offer TOTP (authenticator app) MFA; each host chooses whether to set it up.
   * @default false
   */
  readonly mfa?: boolean;
  /**
   * The managed login's domain prefix, `https://<prefix>.auth.<region>.amazoncognito.com`. It must
   * be unique in the region.
   * @default `<stack name>-hosts-<account id>`, lowercased
   */
  readonly domainPrefix?: string;
  /** @default RemovalPolicy.DESTROY - the hosts are admin-created again with `npm run host -- hosts add` */
  readonly removalPolicy?: RemovalPolicy;
}

export interface HostSignInProps extends HostSignInOptions {
  /** The host console, where sign-in returns to (and sign-out ends). */
  readonly hostUrl: string;
  /** Whose host routes signed-in hosts may call. */
  readonly hostApi: HostApi;
}

/**
 * Host sign-in with IAM kept as the only authorization on the host routes: a Cognito user pool of
 * admin-created hosts (no self sign-up, a strong password policy, optional TOTP), its managed
 * login with the authorization code flow and PKCE for an app client without a secret, and an
 * identity pool (no unauthenticated identities) that exchanges a host's ID token for temporary
 * credentials of a role that may call the host routes and nothing else. The console signs its
 * requests with those credentials, as the CLI signs with the default chain.
 */
export class HostSignIn extends Construct {
  readonly userPool: cognito.UserPool;
  readonly client: cognito.UserPoolClient;
  readonly domain: cognito.UserPoolDomain;
  readonly identityPool: cognito.CfnIdentityPool;
  readonly hostRole: iam.Role;
  /** What the host console's `config.json` carries to sign in. */
  readonly config: HostSignInConfig;
  /**
   * What the console fetches from, for the pages' CSP: the managed login's token endpoint and
   * the identity pool. The login is named by its region's wildcard: the user pool's invitation
   * names the console's URL, so the pages' headers cannot name the pool's domain back.
   */
  readonly connectOrigins: readonly string[];

  constructor(scope: Construct, id: string, props: HostSignInProps) {
    super(scope, id);
    const stack = Stack.of(this);
    this.userPool = new cognito.UserPool(this, 'Hosts', {
      selfSignUpEnabled: false,
      signInAliases: { email: true },
      autoVerify: { email: true },
      passwordPolicy: {
        minLength: 12,
        requireLowercase: true,
        requireUppercase: true,
        requireDigits: true,
        requireSymbols: true,
        tempPasswordValidity: Duration.days(3),
      },
      mfa: props.mfa ? cognito.Mfa.OPTIONAL : cognito.Mfa.OFF,
      mfaSecondFactor: props.mfa ? { otp: true, sms: false } : undefined,
      accountRecovery: cognito.AccountRecovery.EMAIL_ONLY,
      userInvitation: {
        emailSubject: 'You are a cuecast host',
        emailBody: `Sign in to the host console at ${props.hostUrl} as {username} with the temporary password {####}; you will choose your own.`,
      },
      removalPolicy: props.removalPolicy ?? RemovalPolicy.DESTROY,
    });
    this.domain = this.userPool.addDomain('Domain', {
      cognitoDomain: {
        domainPrefix: props.domainPrefix ?? `${stack.stackName.toLowerCase()}-hosts-${Aws.ACCOUNT_ID}`,
      },
    });
    this.client = this.userPool.addClient('Console', {
      generateSecret: false,
      authFlows: {},
      oAuth: {
        flows: { authorizationCodeGrant: true, implicitCodeGrant: false },
        scopes: [cognito.OAuthScope.OPENID, cognito.OAuthScope.EMAIL],
        callbackUrls: [props.hostUrl],
        logoutUrls: [props.hostUrl],
      },
      supportedIdentityProviders: [cognito.UserPoolClientIdentityProvider.COGNITO],
      preventUserExistenceErrors: true,
      idTokenValidity: Duration.hours(1),
      accessTokenValidity: Duration.hours(1),
      refreshTokenValidity: Duration.hours(12),
    });

    this.identityPool = new cognito.CfnIdentityPool(this, 'Identities', {
      allowUnauthenticatedIdentities: false,
      cognitoIdentityProviders: [
        {
          clientId: this.client.userPoolClientId,
          providerName: this.userPool.userPoolProviderName,
          // Ask the user pool before minting credentials: a host deleted or signed out everywhere
          // gets none, though their ID token has not expired (docs/operations.md, "Host sign-in").
          serverSideTokenCheck: true,
        },
      ],
    });
    this.hostRole = new iam.Role(this, 'HostRole', {
      description: 'What a signed-in host may do: call the host routes',
      maxSessionDuration: Duration.hours(1),
      assumedBy: new iam.FederatedPrincipal(
        'cognito-identity.amazonaws.com',
        {
          StringEquals: { 'cognito-identity.amazonaws.com:aud': this.identityPool.ref },
          'ForAnyValue:StringLike': { 'cognito-identity.amazonaws.com:amr': 'authenticated' },
        },
        'sts:AssumeRoleWithWebIdentity',
      ),
    });
    props.hostApi.grantHostAccess(this.hostRole);
    new cognito.CfnIdentityPoolRoleAttachment(this, 'Roles', {
      identityPoolId: this.identityPool.ref,
      roles: { authenticated: this.hostRole.roleArn },
    });

    this.config = {
      region: Aws.REGION,
      userPoolId: this.userPool.userPoolId,
      clientId: this.client.userPoolClientId,
      domain: this.domain.baseUrl(),
      identityPoolId: this.identityPool.ref,
      identityEndpoint: `https://cognito-identity.${Aws.REGION}.${Aws.URL_SUFFIX}`,
    };
    this.connectOrigins = [`https://*.auth.${Aws.REGION}.amazoncognito.com`, this.config.identityEndpoint];
    new CfnOutput(stack, 'HostUserPoolId', {
      value: this.userPool.userPoolId,
      description: 'The hosts (npm run host -- hosts add EMAIL)',
    });
    this.acknowledge(props);
  }

  private acknowledge(props: HostSignInProps): void {
    Validations.of(this.userPool).acknowledge(
      {
        id: 'AwsSolutions-COG2',
        reason: props.mfa
          ? 'TOTP MFA is offered to every host (mfa: true); requiring it is the team’s choice.'
          : 'MFA is a prop (hostSignIn.mfa); hosts are few and admin-created, and their credentials only run a show.',
      },
      {
        id: 'AwsSolutions-COG8',
        reason:
          'Threat protection (the Plus feature plan) costs per active user a month; sign-up is off and every host is admin-created.',
      },
    );
  }
}
