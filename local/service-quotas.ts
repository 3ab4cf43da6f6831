/**
 * Service Quotas for the local runtime (AWS JSON 1.1, `X-Amz-Target: ServiceQuotasV20190624.<Op>`):
 * `ListAWSDefaultServiceQuotas` answers AWS's default values of the quotas `npm run host --
 * preflight` reads, and `ListServiceQuotas` answers none, as for an account that has had no quota
 * applied (AWS leaves a quota out of that list until it has an applied value). The figures and
 * where they come from: docs/local-runtime.md, "Account settings and quotas".
 */

/** One quota, in Service Quotas' `ServiceQuota` shape (the fields the stand-in fills). */
export interface LocalQuota {
  readonly ServiceCode: string;
  readonly ServiceName: string;
  readonly QuotaCode?: string;
  readonly QuotaName: string;
  readonly Value: number;
  readonly Unit: string;
  readonly Adjustable: boolean;
  readonly GlobalQuota: boolean;
}

/** AWS's defaults, per account and region (docs/local-runtime.md). */
export const DEFAULT_QUOTAS: readonly LocalQuota[] = [
  {
    ServiceCode: 'apigateway',
    ServiceName: 'Amazon API Gateway',
    QuotaCode: 'L-8A5B8E43',
    QuotaName: 'Throttle rate',
    Value: 10_000,
    Unit: 'None',
    Adjustable: true,
    GlobalQuota: false,
  },
  {
    ServiceCode: 'apigateway',
    ServiceName: 'Amazon API Gateway',
    QuotaCode: 'L-9ED1E49A',
    QuotaName: 'New connections per second per account (across all WebSocket APIs) per Region',
    Value: 500,
    Unit: 'None',
    Adjustable: true,
    GlobalQuota: false,
  },
  {
    ServiceCode: 'ivs',
    ServiceName: 'Amazon Interactive Video Service',
    QuotaName: 'Concurrent views',
    Value: 100,
    Unit: 'None',
    Adjustable: true,
    GlobalQuota: false,
  },
];

/** A Service Quotas answer: 200 with its body, or 400 with the error's `__type`. */
export type QuotasReply =
  | { readonly ok: true; readonly body: Record<string, unknown> }
  | { readonly ok: false; readonly type: string; readonly message: string };

const SERVICES = new Set(DEFAULT_QUOTAS.map((q) => q.ServiceCode));

/** Answers one Service Quotas operation (the part of `X-Amz-Target` after the dot). */
export function serviceQuotasCall(
  operation: string,
  input: Record<string, unknown>,
  region: string,
  accountId: string,
): QuotasReply {
  if (operation !== 'ListServiceQuotas' && operation !== 'ListAWSDefaultServiceQuotas')
    return { ok: false, type: 'UnknownOperationException', message: `${operation} is not served locally` };
  const code = input.ServiceCode;
  if (typeof code !== 'string' || code === '')
    return { ok: false, type: 'IllegalArgumentException', message: 'ServiceCode is required' };
  if (!SERVICES.has(code))
    return {
      ok: false,
      type: 'NoSuchResourceException',
      message: 'The request failed because the specified service does not exist.',
    };
  if (operation === 'ListServiceQuotas') return { ok: true, body: { Quotas: [] } };
  const quotas = DEFAULT_QUOTAS.filter((q) => q.ServiceCode === code).map((q) => ({
    ...q,
    ...(q.QuotaCode
      ? { QuotaArn: `arn:aws:servicequotas:${region}:${accountId}:${code}/${q.QuotaCode}` }
      : {}),
  }));
  return { ok: true, body: { Quotas: quotas } };
}
