/**
 * Where the host CLI sends its requests: the local runtime (`.cuecast/local.json` or `--config`)
 * or a deployed stack's `HttpApiUrl` output (CloudFormation DescribeStacks), with the region and
 * the default AWS credential chain. Failures here become a one-line `CliError`.
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import {
  CloudFormationClient,
  DescribeStacksCommand,
  paginateListStackResources,
} from '@aws-sdk/client-cloudformation';
import { defaultProvider } from '@aws-sdk/credential-provider-node';
import { HostClient, type HostClientOptions } from '../../client/host-client';
import { NodeSha256 } from '../../client/sha256-node';
import { type Invocation, UsageError } from './args';

const LOCAL_CONFIG = path.join('.cuecast', 'local.json');
/** API Gateway gives up on an integration after 30 s; wait a little longer than that. */
const REQUEST_TIMEOUT_MS = 35_000;

/** A known failure outside the API (missing config, unreachable API): exit 1, one line. */
export class CliError extends Error {}

/** Builds a client for the local runtime or for the deployed stack's `HttpApiUrl`. */
export async function connect({ target }: Invocation, env: NodeJS.ProcessEnv): Promise<HostClient> {
  const sha256 = NodeSha256 as unknown as HostClientOptions['sha256'];
  if (target.mode === 'local') {
    const config = readLocalConfig(target);
    return new HostClient({ ...config, sha256, fetch: fetchOrExplain(' (is `npm run dev` still running?)') });
  }
  const { region, credentials } = deployedAws(target, env);
  const apiUrl = (await stackOutputs(target.stack, region, credentials)).HttpApiUrl;
  if (!apiUrl)
    throw new CliError(`stack ${target.stack} in ${region} has no HttpApiUrl output: is it cuecast?`);
  return new HostClient({ apiUrl, region, credentials, sha256, fetch: fetchOrExplain('') });
}

/** The region and the default credential chain for a deployed stack. */
export function deployedAws(
  target: Extract<Invocation['target'], { mode: 'deployed' }>,
  env: NodeJS.ProcessEnv,
): { region: string; credentials: ReturnType<typeof defaultProvider> } {
  const region = target.region ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION;
  if (!region) throw new UsageError('no AWS region: pass --region REGION or set AWS_REGION (or use --local)');
  return { region, credentials: defaultProvider() };
}

/** fetch with a deadline, whose network failures become one line naming the URL. */
function fetchOrExplain(hint: string): typeof fetch {
  return async (input, init) => {
    try {
      return await fetch(input, { ...init, signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
    } catch (error) {
      // Duck-typed: fetch's errors may come from another realm (a vm context under jest).
      if (!isError(error)) throw error;
      if (error.name === 'TimeoutError')
        throw new CliError(`no reply from ${String(input)} within ${REQUEST_TIMEOUT_MS / 1000} s`);
      const cause = (error as Error & { cause?: unknown }).cause;
      throw new CliError(
        `cannot reach ${String(input)}: ${isError(cause) ? cause.message : error.message}${hint}`,
      );
    }
  };
}

export const isError = (value: unknown): value is Error =>
  typeof value === 'object' && value !== null && typeof (value as Error).message === 'string';

/** The local runtime's `.cuecast/local.json` (or `--config FILE`), parsed, and where it was read. */
export function readLocalJson(target: Extract<Invocation['target'], { mode: 'local' }>): {
  file: string;
  json: Record<string, unknown>;
} {
  const file = path.resolve(target.configFile ?? LOCAL_CONFIG);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT')
      throw new CliError(`no local runtime config at ${file}: start it with \`npm run dev\``);
    throw new CliError(`cannot read ${file}: ${(error as Error).message}`);
  }
  try {
    return { file, json: JSON.parse(text) ?? {} };
  } catch {
    throw new CliError(`${file} is not valid JSON; restart the local runtime with \`npm run dev\``);
  }
}

function readLocalConfig(
  target: Extract<Invocation['target'], { mode: 'local' }>,
): Pick<HostClientOptions, 'apiUrl' | 'region' | 'credentials'> {
  const { file, json } = readLocalJson(target);
  const { httpApiUrl, region, credentials } = json as {
    httpApiUrl?: unknown;
    region?: unknown;
    credentials?: Record<string, unknown>;
  };
  if (
    typeof httpApiUrl !== 'string' ||
    typeof region !== 'string' ||
    typeof credentials?.accessKeyId !== 'string' ||
    typeof credentials.secretAccessKey !== 'string'
  ) {
    throw new CliError(
      `${file} lacks httpApiUrl, region or credentials: is it a cuecast local runtime config?`,
    );
  }
  return {
    apiUrl: httpApiUrl,
    region,
    credentials: { accessKeyId: credentials.accessKeyId, secretAccessKey: credentials.secretAccessKey },
  };
}

/** A deployed stack's outputs, by key (CloudFormation DescribeStacks). */
export async function stackOutputs(
  stack: string,
  region: string,
  credentials: ReturnType<typeof defaultProvider>,
): Promise<Record<string, string | undefined>> {
  const cloudFormation = new CloudFormationClient({ region, credentials });
  try {
    const { Stacks } = await cloudFormation.send(new DescribeStacksCommand({ StackName: stack }));
    return Object.fromEntries((Stacks?.[0]?.Outputs ?? []).map((o) => [o.OutputKey ?? '', o.OutputValue]));
  } catch (error) {
    const { name, message } = error as Error;
    throw new CliError(`cannot read the outputs of stack ${stack} in ${region}: ${name}: ${message}`);
  } finally {
    cloudFormation.destroy();
  }
}

/**
 * The physical ids of a stack's resources of one CloudFormation type (an alarm's name, a topic's
 * ARN), every page of ListStackResources. Destroys `cloudFormation` when done.
 */
export async function stackResourceIds(
  cloudFormation: CloudFormationClient,
  stack: string,
  region: string,
  type: string,
): Promise<string[]> {
  const ids: string[] = [];
  try {
    for await (const page of paginateListStackResources({ client: cloudFormation }, { StackName: stack }))
      for (const r of page.StackResourceSummaries ?? [])
        if (r.ResourceType === type && r.PhysicalResourceId) ids.push(r.PhysicalResourceId);
  } catch (error) {
    const { name, message } = error as Error;
    throw new CliError(`cannot list the resources of stack ${stack} in ${region}: ${name}: ${message}`);
  } finally {
    cloudFormation.destroy();
  }
  return ids;
}
