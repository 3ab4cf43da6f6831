/**
 * `preflight --viewers N`: whether the account and the stack can take a show of N viewers, before
 * the show (docs/operations.md, "Before a show"). What N viewers need comes only from
 * `showNeeds` (client/show-scale.ts, docs/scale.md's arithmetic); this sets the account's settings
 * and quotas against it, and checks that the stream, the host pool and the alarm mail are set up.
 * Each check reads on its own, so one refused call does not hide the others.
 */
import { ListUsersCommand } from '@aws-sdk/client-cognito-identity-provider';
import { GetChannelCommand, ListStreamKeysCommand } from '@aws-sdk/client-ivs';
import { GetAccountSettingsCommand } from '@aws-sdk/client-lambda';
import {
  paginateListAWSDefaultServiceQuotas,
  paginateListServiceQuotas,
  type ServiceQuota,
} from '@aws-sdk/client-service-quotas';
import { paginateListSubscriptionsByTopic } from '@aws-sdk/client-sns';
import { type ShowNeeds, showNeeds } from '../../client/show-scale';
import type { PreflightTarget } from './preflight-target';

/** One check: what was found against what the show needs, and for a failure what to do. */
export interface PreflightCheck {
  readonly name: string;
  readonly ok: boolean;
  /** What was found, e.g. "1,000 available, 2,017 viewers need 11". */
  readonly detail: string;
  /** For a failure: what to raise or set up, and to what. */
  readonly advice?: string;
}

/** The whole preflight: the needs (showNeeds) and every check; `ready` when all passed. */
export interface PreflightReport {
  readonly where: string;
  readonly needs: ShowNeeds;
  readonly ready: boolean;
  readonly checks: readonly PreflightCheck[];
}

/**
 * The Service Quotas quotas the show depends on, by service code and quota code where AWS's docs
 * give one (API Gateway's quota tables), else by name (IVS's "Concurrent views").
 */
const QUOTAS = [
  {
    need: 'concurrentViews',
    name: 'IVS concurrent views',
    serviceCode: 'ivs',
    matches: (q: ServiceQuota) => /^concurrent views\b/i.test(q.QuotaName ?? ''),
    request: 'Amazon Interactive Video Service, "Concurrent views"',
  },
  {
    need: 'apiRequestsPerSecond',
    name: 'API Gateway requests per second (account, region)',
    serviceCode: 'apigateway',
    matches: (q: ServiceQuota) => q.QuotaCode === 'L-8A5B8E43',
    request: 'Amazon API Gateway, L-8A5B8E43',
  },
  {
    need: 'newConnectionsPerSecond',
    name: 'WebSocket new connections per second',
    serviceCode: 'apigateway',
    matches: (q: ServiceQuota) => q.QuotaCode === 'L-9ED1E49A',
    request: 'Amazon API Gateway, L-9ED1E49A',
  },
] as const;

const count = (n: number) => n.toLocaleString('en-US');
const failure = (error: unknown) => {
  const { name, message } = error as Error;
  return `${name}: ${message}`;
};

/** Runs every check for a show of `viewers` against `target`. */
export async function preflight(target: PreflightTarget, viewers: number): Promise<PreflightReport> {
  const needs = showNeeds(viewers);
  const audience = `${count(viewers)} viewer${viewers === 1 ? '' : 's'}`;
  const checks = await Promise.all([
    lambdaConcurrency(target, needs, audience),
    ...QUOTAS.map((quota) => serviceQuota(target, quota, needs[quota.need], audience)),
    stream(target),
    hosts(target),
    alarmMail(target),
  ]);
  return { where: target.where, needs, ready: checks.every((c) => c.ok), checks };
}

async function lambdaConcurrency(
  target: PreflightTarget,
  needs: ShowNeeds,
  audience: string,
): Promise<PreflightCheck> {
  const name = 'Lambda concurrent executions';
  const need = needs.lambdaConcurrency;
  try {
    const { AccountLimit } = await target.lambda.send(new GetAccountSettingsCommand({}));
    const limit = AccountLimit?.ConcurrentExecutions ?? 0;
    // cuecast's functions reserve none: they share what no function has reserved.
    const available = AccountLimit?.UnreservedConcurrentExecutions ?? limit;
    const reserved = limit - available;
    const detail = `${count(available)} available${reserved > 0 ? ` (of ${count(limit)}: other functions reserve ${count(reserved)})` : ''}, ${audience} need ${count(need)}`;
    if (available >= need) return { name, ok: true, detail };
    return {
      name,
      ok: false,
      detail,
      advice: `ask for at least ${count(limit + need - available)} in Service Quotas (AWS Lambda, "Concurrent executions")`,
    };
  } catch (error) {
    return { name, ok: false, detail: `cannot read Lambda's account settings: ${failure(error)}` };
  }
}

async function serviceQuota(
  target: PreflightTarget,
  quota: (typeof QUOTAS)[number],
  need: number,
  audience: string,
): Promise<PreflightCheck> {
  const { name } = quota;
  let found: { quota: ServiceQuota; source: string } | undefined;
  try {
    found = await findQuota(target, quota);
  } catch (error) {
    return { name, ok: false, detail: `cannot read the quota from Service Quotas: ${failure(error)}` };
  }
  if (!found)
    return { name, ok: false, detail: `Service Quotas lists no such quota for ${quota.serviceCode}` };
  const value = found.quota.Value ?? 0;
  const detail = `${count(value)}${found.source}, ${audience} need ${count(need)}`;
  if (value >= need) return { name, ok: true, detail };
  return {
    name,
    ok: false,
    detail,
    advice: `ask for at least ${count(need)} in Service Quotas (${quota.request})`,
  };
}

/**
 * The account's applied value (ListServiceQuotas), or AWS's default when the account has none
 * applied (ListAWSDefaultServiceQuotas). Of several matches (IVS's views by resolution), the lowest.
 */
async function findQuota(target: PreflightTarget, quota: (typeof QUOTAS)[number]) {
  const input = { ServiceCode: quota.serviceCode };
  const sources = [
    { pages: paginateListServiceQuotas({ client: target.quotas }, input), source: '' },
    {
      pages: paginateListAWSDefaultServiceQuotas({ client: target.quotas }, input),
      source: ' (AWS default)',
    },
  ];
  for (const { pages, source } of sources) {
    const matches: ServiceQuota[] = [];
    for await (const page of pages) matches.push(...(page.Quotas ?? []).filter(quota.matches));
    const lowest = matches.sort((a, b) => (a.Value ?? 0) - (b.Value ?? 0))[0];
    if (lowest) return { quota: lowest, source };
  }
  return undefined;
}

async function stream({ ivs, channelArn }: PreflightTarget): Promise<PreflightCheck> {
  const name = 'Stream';
  if (!channelArn)
    return {
      name,
      ok: false,
      detail: 'the stack has no ChannelArn output',
      advice: 'deploy this version of the stack',
    };
  try {
    await ivs.send(new GetChannelCommand({ arn: channelArn }));
    const { streamKeys = [] } = await ivs.send(new ListStreamKeysCommand({ channelArn }));
    if (streamKeys.length > 0) return { name, ok: true, detail: 'the channel exists and has a stream key' };
    return {
      name,
      ok: false,
      detail: 'the channel has no stream key',
      advice: 'deploy the stack again: it creates the key (then `npm run -s stream-key` for OBS)',
    };
  } catch (error) {
    const detail = `cannot read the channel ${channelArn}: ${failure(error)}`;
    return { name, ok: false, detail, advice: 'deploy the stack again, in this region' };
  }
}

async function hosts({ cognito, userPoolId }: PreflightTarget): Promise<PreflightCheck> {
  const name = 'Hosts';
  const advice = 'add one: npm run host -- hosts add you@example.com';
  if (!userPoolId)
    return {
      name,
      ok: false,
      detail: 'the stack has no HostUserPoolId output',
      advice: 'deploy this version of the stack',
    };
  try {
    const { Users = [] } = await cognito.send(new ListUsersCommand({ UserPoolId: userPoolId, Limit: 60 }));
    const enabled = Users.filter((u) => u.Enabled !== false);
    if (enabled.length > 0)
      return {
        name,
        ok: true,
        detail: `${enabled.length}${Users.length === 60 ? '+' : ''} in the host pool`,
      };
    return { name, ok: false, detail: 'the host pool has no host', advice };
  } catch (error) {
    return { name, ok: false, detail: `cannot list the host pool ${userPoolId}: ${failure(error)}` };
  }
}

async function alarmMail({ sns, topicArn }: PreflightTarget): Promise<PreflightCheck> {
  const name = 'Alarm mail';
  const subscribe = 'deploy with -c alarmEmail=you@example.com, then confirm the mail AWS sends';
  if (!topicArn)
    return {
      name,
      ok: false,
      detail: 'the stack has no alarm topic',
      advice: 'deploy this version of the stack',
    };
  try {
    let confirmed = 0;
    let pending = 0;
    for await (const page of paginateListSubscriptionsByTopic({ client: sns }, { TopicArn: topicArn }))
      for (const s of page.Subscriptions ?? []) {
        if (s.SubscriptionArn === 'PendingConfirmation') pending++;
        else if (s.SubscriptionArn?.startsWith('arn:')) confirmed++;
      }
    if (confirmed > 0)
      return { name, ok: true, detail: `${confirmed} confirmed subscription${confirmed === 1 ? '' : 's'}` };
    if (pending > 0)
      return {
        name,
        ok: false,
        detail: `${pending} subscription${pending === 1 ? '' : 's'} waiting for confirmation`,
        advice: 'open the confirmation link AWS mailed to the address',
      };
    return { name, ok: false, detail: 'no one is subscribed to the alarm topic', advice: subscribe };
  } catch (error) {
    return { name, ok: false, detail: `cannot list the alarm topic's subscriptions: ${failure(error)}` };
  }
}

/** One line per check (ok or FAIL, and for a failure what to do), then the verdict. */
export function renderPreflight(report: PreflightReport): string {
  const viewers = count(report.needs.viewers);
  const lines = report.checks.map(
    (c) => `  ${c.ok ? 'ok  ' : 'FAIL'}  ${c.name}: ${c.detail}${c.advice ? `: ${c.advice}` : ''}`,
  );
  const failed = report.checks.filter((c) => !c.ok).length;
  const verdict = report.ready
    ? `Ready for ${viewers} viewers.`
    : `Not ready for ${viewers} viewers: ${failed} check${failed === 1 ? '' : 's'} failed. Large quota increases take days: ask early, then run preflight again.`;
  return `Preflight of ${report.where} for ${viewers} viewers:\n${lines.join('\n')}\n${verdict}\n`;
}
