/**
 * `hosts add EMAIL`: makes a host of the stack's Cognito user pool (AdminCreateUser; the pool
 * takes no self sign-up). Cognito mails the new host a temporary password; at the first sign-in
 * to the host console they choose their own.
 */
import {
  AdminCreateUserCommand,
  CognitoIdentityProviderClient,
} from '@aws-sdk/client-cognito-identity-provider';
import type { Invocation } from './args';
import { CliError, deployedAws, stackOutputs } from './target';

export interface AddedHost {
  readonly username: string;
  /** `FORCE_CHANGE_PASSWORD` until the first sign-in. */
  readonly status: string;
  readonly hostUrl?: string;
}

export async function addHost(
  invocation: Invocation,
  email: string,
  env: NodeJS.ProcessEnv,
): Promise<AddedHost> {
  const { target } = invocation;
  if (target.mode === 'local') {
    throw new CliError(
      'hosts add is for a deployed stack: the local runtime signs the host console in with its own throwaway credentials',
    );
  }
  const aws = deployedAws(target, env);
  const outputs = await stackOutputs(target.stack, aws.region, aws.credentials);
  const userPoolId = outputs.HostUserPoolId;
  if (!userPoolId)
    throw new CliError(
      `stack ${target.stack} has no HostUserPoolId output: deploy this version (with its pages)`,
    );
  const cognito = new CognitoIdentityProviderClient(aws);
  try {
    const { User } = await cognito.send(
      new AdminCreateUserCommand({
        UserPoolId: userPoolId,
        Username: email,
        UserAttributes: [
          { Name: 'email', Value: email },
          // The admin vouches for the address: Cognito mails the invitation to it.
          { Name: 'email_verified', Value: 'true' },
        ],
        DesiredDeliveryMediums: ['EMAIL'],
      }),
    );
    return { username: email, status: User?.UserStatus ?? 'FORCE_CHANGE_PASSWORD', hostUrl: outputs.HostUrl };
  } catch (error) {
    const { name, message } = error as Error;
    if (name === 'UsernameExistsException')
      throw new CliError(`${email} is already a host of ${target.stack}`);
    throw new CliError(`Cognito refused to add ${email}: ${name}: ${message}`);
  } finally {
    cognito.destroy();
  }
}

export function renderAddedHost(host: AddedHost, stack: string): string {
  const where = host.hostUrl ? `the host console, ${host.hostUrl}` : 'the host console (the HostUrl output)';
  return (
    `Added ${host.username} as a host of ${stack}.\n` +
    `Cognito has mailed them a temporary password. Next: they open ${where},\n` +
    'sign in with it within 3 days, and choose their own password.\n'
  );
}
