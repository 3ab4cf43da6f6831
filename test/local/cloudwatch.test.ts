import { type AlarmRule, evaluateAlarm } from '../../local/cloudwatch/alarm-state';
import {
  evaluateMetricMath,
  idsOf,
  MetricMathError,
  parseMetricMath,
  type Series,
  type Value,
} from '../../local/cloudwatch/metric-math';
import { MAX_METRICS, MetricStore, statistic } from '../../local/cloudwatch/metric-store';

/** Periods of 5 minutes from t0; a series from [period index, value] pairs. */
const T0 = Date.parse('2026-12-07T20:00:00Z');
const P = 300_000;
const periods = [0, 1, 2, 3].map((i) => T0 + i * P);
const series = (...points: Array<[number, number]>): Series =>
  new Map(points.map(([i, v]) => [T0 + i * P, v]));
const asPairs = (value: Value) =>
  typeof value === 'number' ? value : [...value.entries()].map(([t, v]) => [(t - T0) / P, v]);
const evaluate = (expression: string, values: Record<string, Value>) =>
  asPairs(evaluateMetricMath(parseMetricMath(expression), new Map(Object.entries(values)), periods));

describe('metric math, as the stack’s alarms use it', () => {
  it('computes the 5xx rate only where there were requests, and 0 where there were none', () => {
    const expression = 'IF(FILL(requests, 0) > 0, 100 * FILL(errors, 0) / FILL(requests, 0), 0)';
    expect(idsOf(parseMetricMath(expression)).sort()).toEqual(['errors', 'requests', 'requests']);
    // Period 0: 1 of 4 failed; 1: no request at all; 2: requests, no error reported; 3: nothing.
    expect(evaluate(expression, { requests: series([0, 4], [2, 10]), errors: series([0, 1]) })).toEqual([
      [0, 25],
      [1, 0],
      [2, 0],
      [3, 0],
    ]);
  });

  it('subtracts the refusals from the authorizer’s errors, each filled with 0', () => {
    expect(
      evaluate('FILL(errors, 0) - FILL(refused, 0)', {
        errors: series([0, 3], [1, 2]),
        refused: series([0, 3], [2, 1]),
      }),
    ).toEqual([
      [0, 0],
      [1, 2],
      [2, -1],
      [3, 0],
    ]);
  });

  it('has a point of a binary operation only where both series have one, and drops a division by 0', () => {
    expect(evaluate('a / b', { a: series([0, 1], [1, 2], [2, 3]), b: series([0, 2], [1, 0]) })).toEqual([
      [0, 0.5],
    ]);
    expect(
      evaluate('r0 + w0 + r1', { r0: series([0, 1], [1, 1]), w0: series([0, 2]), r1: series([0, 3]) }),
    ).toEqual([[0, 6]]);
    expect(evaluate('-a * 2 + 1', { a: series([1, 3]) })).toEqual([[1, -5]]);
    expect(evaluate('(1 + 2) * 3 >= 9 AND 1', {})).toBe(1);
  });

  it.each([
    ['100 * errors / MAX([1, requests])', /function MAX is not supported/],
    ['[1, requests]', /a list/],
    ['FILL(m, REPEAT)', /FILL takes a series and a number/],
    ['IF(a)', /IF takes 2 or 3 arguments, not 1/],
    ['a +', /ends too soon/],
    ['a b', /unexpected "b" after the expression/],
    ['a $ b', /unexpected "\$" at 3/],
    ['x'.repeat(1025), /limit is 1024/],
  ])('refuses %s, saying why', (expression, why) => {
    expect(() => parseMetricMath(expression)).toThrow(MetricMathError);
    expect(() => parseMetricMath(expression)).toThrow(why);
  });

  it('names an id the expression reads but nothing defines', () => {
    expect(() => evaluate('a + nope', { a: series([0, 1]) })).toThrow(
      'the expression reads "nope", which is not defined',
    );
  });
});

describe('alarm evaluation', () => {
  const errors: AlarmRule = {
    threshold: 1,
    comparisonOperator: 'GreaterThanOrEqualToThreshold',
    evaluationPeriods: 1,
    treatMissingData: 'notBreaching',
  };
  const at = (i: number, value?: number) => ({ at: T0 + i * P, value });

  it('goes to ALARM on one breaching datapoint, naming it and the threshold', () => {
    expect(evaluateAlarm(errors, [at(0, 2)], 'OK')).toEqual({
      state: 'ALARM',
      reason:
        'Threshold Crossed: 1 out of the last 1 datapoints [2 (2026-12-07 20:00:00)] was greater than or equal to the threshold (1) (minimum 1 datapoint for OK -> ALARM transition).',
    });
  });

  it('goes back to OK on a datapoint within the threshold, or none at all (not breaching)', () => {
    expect(evaluateAlarm(errors, [at(1, 0)], 'ALARM').state).toBe('OK');
    expect(evaluateAlarm(errors, [at(1)], 'ALARM').state).toBe('OK');
    expect(evaluateAlarm(errors, [], 'ALARM').state).toBe('OK');
  });

  it('treats missing data as the alarm says: breaching, ignore, missing', () => {
    expect(evaluateAlarm({ ...errors, treatMissingData: 'breaching' }, [at(0)], 'OK').state).toBe('ALARM');
    expect(evaluateAlarm({ ...errors, treatMissingData: 'ignore' }, [at(0)], 'ALARM').state).toBe('ALARM');
    expect(evaluateAlarm({ ...errors, treatMissingData: 'ignore' }, [at(0)], 'OK').state).toBe('OK');
    expect(evaluateAlarm({ ...errors, treatMissingData: 'missing' }, [at(0)], 'OK').state).toBe(
      'INSUFFICIENT_DATA',
    );
  });

  it('always ignores missing data on AWS/DynamoDB metrics, whatever the alarm says', () => {
    const throttles = { ...errors, threshold: 50, readsDynamoDb: true };
    expect(evaluateAlarm(throttles, [at(0)], 'ALARM').state).toBe('ALARM');
    expect(evaluateAlarm(throttles, [at(0, 60)], 'OK').state).toBe('ALARM');
    expect(evaluateAlarm(throttles, [at(1, 3)], 'ALARM').state).toBe('OK');
  });

  it('needs M of N: 2 breaching of the last 3', () => {
    const rule: AlarmRule = { ...errors, evaluationPeriods: 3, datapointsToAlarm: 2 };
    expect(evaluateAlarm(rule, [at(0, 5), at(1, 0), at(2, 0)], 'OK').state).toBe('OK');
    expect(evaluateAlarm(rule, [at(0, 5), at(1, 0), at(2, 7)], 'OK').state).toBe('ALARM');
    // Only the last N count.
    expect(evaluateAlarm(rule, [at(0, 5), at(1, 5), at(2, 0), at(3, 0), at(4, 1)], 'ALARM').state).toBe('OK');
  });
});

describe('the local metric store', () => {
  const emf = (fields: Record<string, unknown>, dims: string[][], names: string[], at = T0 + 1000) =>
    `2026-12-07T20:00:01.000Z\tINFO\t${JSON.stringify({
      _aws: {
        Timestamp: at,
        CloudWatchMetrics: [
          { Namespace: 'cuecast', Dimensions: dims, Metrics: names.map((Name) => ({ Name, Unit: 'Count' })) },
        ],
      },
      ...fields,
    })}`;

  it('takes EMF lines as CloudWatch Logs does: each metric under each dimension set, arrays as several values', () => {
    const store = new MetricStore();
    expect(
      store.putEmf(
        emf(
          { service: 'Cuecast', code: 'QUIZ_CLOSED', AnswersRefused: 1 },
          [['service', 'code']],
          ['AnswersRefused'],
        ),
      ),
    ).toBe(1);
    expect(
      store.putEmf(
        emf({ service: 'Cuecast', AnswerDurationMs: [12, 30, 18] }, [['service']], ['AnswerDurationMs']),
      ),
    ).toBe(3);
    // A dimension the line does not carry: no datapoint (CloudWatch rejects the directive).
    expect(store.putEmf(emf({ AnswersAccepted: 1 }, [['service']], ['AnswersAccepted']))).toBe(0);
    expect(store.putEmf('an ordinary log line')).toBe(0);
    expect(store.putEmf('{"_aws": not json')).toBe(0);

    const refused = {
      namespace: 'cuecast',
      metricName: 'AnswersRefused',
      dimensions: { service: 'Cuecast', code: 'QUIZ_CLOSED' },
    };
    expect(asPairs(store.query(refused, 'Sum', 300, periods))).toEqual([[0, 1]]);
    // Exact dimensions: the same metric read with {service} alone has no data (the old widget's bug).
    expect(
      asPairs(store.query({ ...refused, dimensions: { service: 'Cuecast' } }, 'Sum', 300, periods)),
    ).toEqual([]);
    const duration = {
      namespace: 'cuecast',
      metricName: 'AnswerDurationMs',
      dimensions: { service: 'Cuecast' },
    };
    expect(asPairs(store.query(duration, 'Maximum', 300, periods))).toEqual([[0, 30]]);
    expect(asPairs(store.query(duration, 'p50', 300, periods))).toEqual([[0, 18]]);
    expect(asPairs(store.query(duration, 'SampleCount', 300, periods))).toEqual([[0, 3]]);
  });

  it('puts each datapoint in its period, and computes the statistics CloudWatch names', () => {
    const store = new MetricStore();
    const key = { namespace: 'AWS/Lambda', metricName: 'Errors', dimensions: { FunctionName: 'f' } };
    for (const [at, v] of [
      [T0, 1],
      [T0 + P - 1, 2],
      [T0 + P, 5],
      [T0 + 3 * P + 10, 0],
    ])
      store.put(key, at, v);
    expect(asPairs(store.query(key, 'Sum', 300, periods))).toEqual([
      [0, 3],
      [1, 5],
      [3, 0],
    ]);
    expect(statistic('Average', [1, 2, 3, 6])).toBe(3);
    expect(statistic('Minimum', [4, 2, 9])).toBe(2);
    expect(
      statistic(
        'p99',
        Array.from({ length: 100 }, (_, i) => i + 1),
      ),
    ).toBe(99);
    expect(statistic('Sum', [])).toBeUndefined();
    expect(() => statistic('tm99', [1])).toThrow('the statistic tm99 is not supported locally');
  });

  it('keeps at most MAX_METRICS metrics, however many dimension values the lines make up', () => {
    const store = new MetricStore();
    for (let i = 0; i < MAX_METRICS + 10; i++)
      store.put({ namespace: 'cuecast', metricName: 'X', dimensions: { code: `c${i}` } }, T0, 1);
    expect(store.keys()).toHaveLength(MAX_METRICS);
    expect(store.dropped).toBe(10);
  });
});
