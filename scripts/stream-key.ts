/**
 * Prints the IVS stream key for the streamer, fetched with ivs:GetStreamKey.
 * The key is a secret: it is written to stdout only, never logged, never in a stack output.
 *
 *   npm run -s stream-key                       # stack "Cuecast", default credentials and region
 *   npm run -s stream-key -- --stack MyShow --region eu-west-1
 *   npm run -s stream-key -- --arn arn:aws:ivs:...:stream-key/...
 *   npm run -s stream-key -- --local           # the local runtime's stand-in (.cuecast/local.json)
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { GetStreamKeyCommand, IvsClient } from '@aws-sdk/client-ivs';

const USAGE =
  'usage: npm run -s stream-key -- [--stack NAME] [--arn STREAM_KEY_ARN] [--region REGION] | --local [--config FILE]';

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      stack: { type: 'string', default: 'Cuecast' },
      arn: { type: 'string' },
      region: { type: 'string' },
      local: { type: 'boolean' },
      config: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    console.error(USAGE);
    return 0;
  }
  if (values.local || values.config) {
    // The local runtime's IVS stand-in, reached through the SDK's endpoint setting as on AWS.
    const file = values.config ?? path.join(process.cwd(), '.cuecast', 'local.json');
    if (!fs.existsSync(file))
      throw new Error(`no local runtime config at ${file}: start it with \`npm run dev\``);
    const local = JSON.parse(fs.readFileSync(file, 'utf8'));
    const ivs = new IvsClient({
      region: local.region,
      endpoint: local.ivsEndpoint,
      credentials: local.credentials,
    });
    const { streamKey } = await ivs.send(new GetStreamKeyCommand({ arn: local.streamKeyArn }));
    if (local.ingestUrl) console.error(`OBS server (local ingest): ${local.ingestUrl}\nOBS stream key:`);
    process.stdout.write(`${streamKey?.value}\n`);
    return 0;
  }
  const region = values.region;
  const outputs = values.arn ? {} : await stackOutputs(values.stack, region);
  const arn = values.arn ?? outputs.StreamKeyArn;
  if (!arn)
    throw new Error(`stack ${values.stack} has no StreamKeyArn output; is it deployed in this region?`);

  const { streamKey } = await new IvsClient({ region }).send(new GetStreamKeyCommand({ arn }));
  if (!streamKey?.value) throw new Error(`IVS returned no value for ${arn}`);

  if (outputs.IngestUrl)
    console.error(
      `OBS server: ${outputs.IngestUrl}\nOBS stream key (secret, keep it out of screenshots and logs):`,
    );
  process.stdout.write(`${streamKey.value}\n`);
  return 0;
}

async function stackOutputs(stackName: string, region: string | undefined): Promise<Record<string, string>> {
  const { Stacks } = await new CloudFormationClient({ region }).send(
    new DescribeStacksCommand({ StackName: stackName }),
  );
  return Object.fromEntries(
    (Stacks?.[0]?.Outputs ?? []).map((o) => [o.OutputKey ?? '', o.OutputValue ?? '']),
  );
}

main().then(
  (code) => process.exit(code),
  (error: Error) => {
    console.error(`stream-key: ${error.name === 'Error' ? '' : `${error.name}: `}${error.message}`);
    console.error(USAGE);
    process.exit(1);
  },
);
