import { Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { HostApi, type HostApiProps } from './constructs/host-api';
import { LiveChannel, type LiveChannelProps } from './constructs/live-channel';
import { ShowData, type ShowDataProps } from './constructs/show-data';

export interface CuecastStackProps extends StackProps {
  /** @default - a STANDARD, LOW-latency channel without recording */
  readonly channel?: LiveChannelProps;
  /** @default - retained tables, 32 tally shards, 30 days of data */
  readonly data?: ShowDataProps;
  /** @default - see HostApiProps */
  readonly hostApi?: Omit<HostApiProps, 'channel' | 'data'>;
}

/** The whole show: the IVS channel, the data, and the host API. */
export class CuecastStack extends Stack {
  readonly channel: LiveChannel;
  readonly data: ShowData;
  readonly hostApi: HostApi;

  constructor(scope: Construct, id: string, props: CuecastStackProps = {}) {
    super(scope, id, props);
    this.channel = new LiveChannel(this, 'LiveChannel', props.channel);
    this.data = new ShowData(this, 'Data', props.data);
    this.hostApi = new HostApi(this, 'HostApi', { ...props.hostApi, channel: this.channel, data: this.data });
  }
}
