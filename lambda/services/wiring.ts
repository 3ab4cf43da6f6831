import type { Config } from '../config';
import { RateWindowStore } from '../store/rate-window-store';
import { ShowStore } from '../store/show-store';
import { MetadataPublisher } from './metadata-publisher';
import { QuizService } from './quiz-service';

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
  const store = new ShowStore({
    quizzes: config.quizzesTable,
    tally: config.tallyTable,
    control: config.controlTable,
  });
  const publisher = 'channelArn' in config ? publisherFor(config) : undefined;
  return new QuizService(store, publisher, config);
}
