import * as fs from 'node:fs';
import { z } from 'zod';

/** The dated price table P7 prices a show with (bench/prices.json): its shape and its loader. */
export const PRICE_KEYS = [
  'ivsInputStandardHour',
  'ivsOutputFullHdHour',
  'webSocketMessagesMillion',
  'webSocketConnectionMinutesMillion',
  'httpApiRequestsMillion',
  'lambdaRequestsMillion',
  'lambdaArmGbSecond',
  'dynamoDbWriteUnitsMillion',
  'dynamoDbReadUnitsMillion',
  'cloudFrontGb',
  'cloudFrontHttpsRequests10k',
  'cloudWatchLogsGb',
  'cloudWatchMetricMonth',
  'cloudWatchDashboardMonth',
  'cloudWatchAlarmMonth',
] as const;
export type PriceKey = (typeof PRICE_KEYS)[number];

const priceSchema = z.object({
  usd: z.number().nonnegative(),
  per: z.string().min(1),
  source: z.string().url(),
  checked: z.enum(['page', 'secondary', 'unverified']),
});
const priceTableSchema = z.object({
  region: z.string().min(1),
  currency: z.literal('USD'),
  checked: z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'checked must be a date, YYYY-MM-DD'),
  prices: z.object(
    Object.fromEntries(PRICE_KEYS.map((key) => [key, priceSchema])) as Record<PriceKey, typeof priceSchema>,
  ),
});
export type PriceTable = z.infer<typeof priceTableSchema>;

/** Reads and checks the price table; a missing or mistyped price is named in the error. */
export function loadPrices(file: string): PriceTable {
  const parsed = priceTableSchema.safeParse(JSON.parse(fs.readFileSync(file, 'utf8')));
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(`${file}: ${issue.path.join('.') || '(root)'}: ${issue.message}`);
  }
  return parsed.data;
}
