/**
 * `ops alarms`: each of the stack's CloudWatch alarms with its state and the reason CloudWatch
 * gives (docs/operations.md, "Alarms"). On AWS, the stack's alarms are its
 * `AWS::CloudWatch::Alarm` resources (CloudFormation ListStackResources), described by
 * CloudWatch DescribeAlarms; locally, the runtime's own evaluation (`GET /_local/alarms` on the
 * IVS stand-in, in DescribeAlarms' shape).
 */
import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { CloudWatchClient, DescribeAlarmsCommand } from '@aws-sdk/client-cloudwatch';
import type { Invocation } from './args';
import { CliError, deployedAws, isError, readLocalJson, stackResourceIds } from './target';

/** One alarm, as `ops alarms` lists it (DescribeAlarms' own field names). */
export interface AlarmLine {
  readonly AlarmName: string;
  readonly StateValue: string;
  readonly StateReason: string;
  readonly StateUpdatedTimestamp?: string;
}

/** DescribeAlarms takes at most 100 names per call. */
const NAMES_PER_CALL = 100;
const LOCAL_TIMEOUT_MS = 10_000;

/** The stack's alarms, by name, from the local runtime or the deployed stack. */
export async function listAlarms(invocation: Invocation, env: NodeJS.ProcessEnv): Promise<AlarmLine[]> {
  const { target } = invocation;
  if (target.mode === 'local') return localAlarms(target);
  const aws = deployedAws(target, env);
  const names = await stackAlarmNames(new CloudFormationClient(aws), target.stack, aws.region);
  return describeAlarms(new CloudWatchClient(aws), names);
}

async function localAlarms(target: Extract<Invocation['target'], { mode: 'local' }>): Promise<AlarmLine[]> {
  const { file, json } = readLocalJson(target);
  if (typeof json.ivsEndpoint !== 'string')
    throw new CliError(`${file} names no local endpoints: restart \`npm run dev\` with this version`);
  const url = `${json.ivsEndpoint}/_local/alarms`;
  let res: Response;
  try {
    res = await fetch(url, { signal: AbortSignal.timeout(LOCAL_TIMEOUT_MS) });
  } catch (error) {
    const message = isError(error) ? error.message : String(error);
    throw new CliError(`cannot reach ${url}: ${message} (is \`npm run dev\` still running?)`);
  }
  if (res.status === 404)
    throw new CliError('this local runtime has no alarms: restart `npm run dev` with this version');
  if (res.status !== 200) throw new CliError(`${url} answered ${res.status}`);
  const body = (await res.json()) as { MetricAlarms?: AlarmLine[] };
  return [...(body.MetricAlarms ?? [])].sort(byName);
}

/** The names of the stack's `AWS::CloudWatch::Alarm` resources (their physical ids), every page. */
export const stackAlarmNames = (cloudFormation: CloudFormationClient, stack: string, region: string) =>
  stackResourceIds(cloudFormation, stack, region, 'AWS::CloudWatch::Alarm');

/** DescribeAlarms for `names`, 100 at a time, following each answer's NextToken. */
export async function describeAlarms(
  cloudWatch: CloudWatchClient,
  names: readonly string[],
): Promise<AlarmLine[]> {
  const alarms: AlarmLine[] = [];
  try {
    for (let i = 0; i < names.length; i += NAMES_PER_CALL) {
      let NextToken: string | undefined;
      do {
        const page = await cloudWatch.send(
          new DescribeAlarmsCommand({ AlarmNames: names.slice(i, i + NAMES_PER_CALL), NextToken }),
        );
        for (const a of [...(page.MetricAlarms ?? []), ...(page.CompositeAlarms ?? [])])
          alarms.push({
            AlarmName: String(a.AlarmName),
            StateValue: String(a.StateValue),
            StateReason: String(a.StateReason ?? ''),
            StateUpdatedTimestamp: a.StateUpdatedTimestamp?.toISOString(),
          });
        NextToken = page.NextToken;
      } while (NextToken);
    }
  } catch (error) {
    const { name, message } = error as Error;
    throw new CliError(`cannot describe the alarms: ${name}: ${message}`);
  } finally {
    cloudWatch.destroy();
  }
  return alarms.sort(byName);
}

const byName = (a: AlarmLine, b: AlarmLine) => a.AlarmName.localeCompare(b.AlarmName);

/** One line per alarm (those in ALARM first): its state, its name and CloudWatch's reason. */
export function renderAlarms(alarms: readonly AlarmLine[]): string {
  if (alarms.length === 0) return 'No alarms: is this a cuecast stack?\n';
  const firing = alarms.filter((a) => a.StateValue === 'ALARM');
  const ordered = [...firing, ...alarms.filter((a) => a.StateValue !== 'ALARM')];
  const width = Math.max(...alarms.map((a) => a.StateValue.length));
  const lines = ordered.map((a) => `  ${a.StateValue.padEnd(width)}  ${a.AlarmName}: ${a.StateReason}`);
  const summary = firing.length === 0 ? 'none in ALARM' : `${firing.length} in ALARM`;
  return `${alarms.length} alarm${alarms.length === 1 ? '' : 's'}, ${summary}:\n${lines.join('\n')}\n`;
}
