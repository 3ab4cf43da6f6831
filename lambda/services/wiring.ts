import { ivs } from '../clients/ivs';
import { createManagementApi } from '../clients/management-api';
import type { Config } from '../config';
import { AnswerStore } from '../store/answer-store';
import { ConnectionStore } from '../store/connection-store';
import { RateWindowStore } from '../store/rate-window-store';
import { RevealStore } from '../store/reveal-store';
import { ShowStore } from '../store/show-store';
import { signingKeyLoader } from '../store/signing-key';
import { TallyStore } from '../store/tally-store';
import { ConnectionPoster } from './connection-poster';
import { FanOutDispatcher } from './fan-out-dispatcher';
import { MetadataPublisher } from './metadata-publisher';
import { QuizService } from './quiz-service';
import { RevealService, type RevealServiceOptions } from './reveal-service';
import { ShowOverview } from './show-overview';
import { StreamStatusReader } from './stream-status';
import { ViewerTokenService } from './viewer-token-service';

/** Settings a function needs to read quizzes and the show state. */
export const READ_SETTINGS = [
  'quizzesTable',
  'tallyTable',
  'controlTable',
  'tallyShards',
  'dataRetentionDays',
] as const;
/** Settings a function needs to send cues. */
export const CUE_SETTINGS = ['controlTable', 'channelArn', 'metadataRatePerSecond'] as const;
/** Settings a function needs to run quizzes: both of the above. */
export const QUIZ_SETTINGS = [...READ_SETTINGS, 'channelArn', 'metadataRatePerSecond'] as const;
/** Settings the function that opens quizzes needs besides. */
export const CREATE_SETTINGS = [...QUIZ_SETTINGS, 'answerGraceSeconds'] as const;

/** Settings a function needs to reply to viewers. */
export const REPLY_SETTINGS = ['callbackUrl', 'connectionsTable'] as const;
/** Settings a function needs to start a broadcast. */
export const DISPATCH_SETTINGS = ['fanOutFunction', 'fanOutSegments'] as const;

type ReadConfig = Pick<Config, (typeof READ_SETTINGS)[number]>;
type CueConfig = Pick<Config, (typeof CUE_SETTINGS)[number]>;

export const publisherFor = (config: CueConfig): MetadataPublisher =>
  new MetadataPublisher(
    config.channelArn,
    new RateWindowStore(config.controlTable),
    config.metadataRatePerSecond,
  );

/** Builds the quiz service once per container; a publisher is wired in only when the function may send cues. */
export function quizServiceFor(config: ReadConfig | (ReadConfig & CueConfig)): QuizService {
  const publisher = 'channelArn' in config ? publisherFor(config) : undefined;
  return new QuizService(showStoreFor(config), tallyStoreFor(config), publisher, config);
}

/** Builds the host's show overview once per container: the quizzes, and the stream from IVS. */
export const showOverviewFor = (config: ReadConfig & Pick<Config, 'channelArn'>): ShowOverview =>
  new ShowOverview(
    showStoreFor(config),
    tallyStoreFor(config),
    new StreamStatusReader(ivs, config.channelArn),
  );

/** Builds the reveal service once per container. */
export const revealServiceFor = (
  config: ReadConfig & CueConfig & Pick<Config, 'fanOutSegments'>,
  extra: Pick<RevealServiceOptions, 'onRevealed'> = {},
): RevealService =>
  new RevealService(
    showStoreFor(config),
    new RevealStore(config.quizzesTable),
    tallyStoreFor(config),
    publisherFor(config),
    { fanOutSegments: config.fanOutSegments, ...extra },
  );

export const showStoreFor = (config: Pick<Config, 'quizzesTable' | 'controlTable'>): ShowStore =>
  new ShowStore({ quizzes: config.quizzesTable, control: config.controlTable });

export const tallyStoreFor = (config: Pick<Config, 'tallyTable' | 'dataRetentionDays'>): TallyStore =>
  new TallyStore(config.tallyTable, config.dataRetentionDays);

export const answerStoreFor = (config: Pick<Config, 'answersTable' | 'dataRetentionDays'>): AnswerStore =>
  new AnswerStore(config.answersTable, config.dataRetentionDays);

export const connectionStoreFor = (config: Pick<Config, 'connectionsTable'>): ConnectionStore =>
  new ConnectionStore(config.connectionsTable);

export const posterFor = (config: Pick<Config, 'callbackUrl'>): ConnectionPoster =>
  new ConnectionPoster(createManagementApi(config.callbackUrl));

export const dispatcherFor = (config: Pick<Config, 'fanOutFunction' | 'fanOutSegments'>): FanOutDispatcher =>
  new FanOutDispatcher(config.fanOutFunction, config.fanOutSegments);

/** Settings a function needs to issue or check viewer tokens. */
export const VIEWER_AUTH_SETTINGS = ['viewerTokenSecret', 'viewerTokenTtlSeconds'] as const;

export const tokenServiceFor = (
  config: Pick<Config, (typeof VIEWER_AUTH_SETTINGS)[number]>,
): ViewerTokenService =>
  new ViewerTokenService(signingKeyLoader(config.viewerTokenSecret), config.viewerTokenTtlSeconds);
