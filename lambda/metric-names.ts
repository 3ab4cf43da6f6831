/**
 * The custom metrics cuecast's functions write as EMF log lines (Powertools Metrics, no API
 * calls): one definition for the functions that write them and for the stack's dashboard and
 * alarms that read them. Every metric carries the dimension `service` (the stack's name, from
 * POWERTOOLS_SERVICE_NAME); a `By` metric carries one more, named in METRIC_DIMENSIONS.
 */
export const METRICS_NAMESPACE = 'cuecast';

export const METRIC = {
  /** Answers counted (`answer` replied `{"type":"answer"}`). */
  answersAccepted: 'AnswersAccepted',
  /** Answers refused, by error `code` (QUIZ_CLOSED, ALREADY_ANSWERED, …). */
  answersRefused: 'AnswersRefused',
  /** The `answer` route's own time, from the frame to the reply posted. */
  answerDuration: 'AnswerDurationMs',
  /** Cues IVS accepted (PutMetadata). */
  cuesSent: 'CuesSent',
  /** Cues not sent, by `reason`: RATE_LIMITED (our window), IVS_THROTTLED, CHANNEL_NOT_BROADCASTING, OTHER. */
  cuesRefused: 'CuesRefused',
  /** Host API requests refused, by error `code`. */
  hostRequestsRefused: 'HostRequestsRefused',
  /** Fan-out posts delivered, found gone (410) and failed after retries. */
  deliveries: 'FanOutDelivered',
  gone: 'FanOutGone',
  failedPosts: 'FanOutFailed',
  /** From the reveal to the end of each result segment: its maximum is the reveal's last delivery. */
  revealToDelivery: 'RevealToDeliveryMs',
  /** WebSocket connections recorded by `$connect`. */
  connectionsOpened: 'ConnectionsOpened',
  /**
   * Viewers the `$connect` authorizer refused (a forged, expired or missing token). Each refusal
   * is also a Lambda `Errors` data point (API Gateway answers 401 only to a thrown `Unauthorized`),
   * so the authorizer's alarm subtracts these from its errors.
   */
  viewersRefused: 'ViewersRefused',
} as const;

export const METRIC_DIMENSIONS = { code: 'code', reason: 'reason' } as const;
