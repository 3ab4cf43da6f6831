/** The host CLI's help: the whole text for `--help`, and the short one printed with a usage error. */

/** The stack `--stack` names when it is not given. */
export const DEFAULT_STACK = 'Cuecast';

export const USAGE = `usage: npm run host -- COMMAND [options]

commands:
  quiz create --question TEXT --choice A --choice B [--choice C] [--choice D] --correct N [--duration S]
                        open a quiz and send its question cue (N: 0-based index of the right
                        choice; S: 5 to 300 seconds, default 20)
  quiz show QUIZ_ID     the quiz, its state and its live counts
  quiz reveal QUIZ_ID [--force]
                        fix the counts, send the result cue and grade every viewer. While
                        viewers behind in the video may still answer, wait with a countdown;
                        --force reveals now and cuts them short
  poll create --question TEXT --choice A --choice B [--choice C] [--choice D] [--duration S] [--live-results]
                        open a poll: a question with no correct answer, no one graded;
                        --live-results shows viewers the running counts while it is open
  poll show|reveal POLL_ID
                        the same as quiz show and quiz reveal
  drop --title TEXT --price TEXT --image URL --link URL [--seconds S]
                        show a product card on every viewer's screen (URLs: https; S: 3 to
                        120 seconds, default 20)
  announce TEXT [--seconds S]
                        show a banner on every viewer's screen (S: 3 to 120, default 10)
  event send --type TYPE --data JSON
                        send a custom cue (JSON: an object)
  show check FILE       check a run-sheet (examples/show.json) with the API's rules; sends nothing
  show run FILE [--from N]
                        run a show from a run-sheet: open, wait, reveal, next, with a countdown;
                        --from N resumes at item N after an interruption
  state                 the stream state and the current quiz
  ops failures          what failed after its retries and waits in the failure queues (fan-out
                        jobs, stream-state events); leaves them there
  ops redrive           invoke each failure's function again and delete it once Lambda took it;
                        a reveal segment that had finished sends nothing twice
  ops alarms            each of the stack's CloudWatch alarms: its state and why (locally, the
                        runtime's own evaluation of them)
  preflight --viewers N whether the account and the stack can take a show of N viewers: Lambda
                        concurrency and the IVS and API Gateway quotas against what N viewers
                        need (docs/scale.md), the stream key, a host, confirmed alarm mail;
                        for each failure, what to raise and to what
  hosts add EMAIL       make EMAIL a host of a deployed stack: Cognito mails a temporary password
                        for the host console (HostUrl), where they choose their own

options:
  --local               use the local runtime, from .cuecast/local.json (start it with \`npm run dev\`)
  --config FILE         use the local runtime described by FILE (implies --local)
  --stack NAME          the deployed stack whose HttpApiUrl output to use (default ${DEFAULT_STACK})
  --region REGION       its region (default: AWS_REGION, then AWS_DEFAULT_REGION)
  --json                print the API's JSON reply (or {"error":{"code","message"}}) on stdout
  -h, --help            show this help

Against a deployed stack, requests are signed with the default AWS credential chain.
Exit status: 0 done, 1 the API or the environment refused, 2 wrong command line,
3 preflight: the show would not fit (a check failed).
`;

export const SHORT_USAGE = `usage: npm run host -- quiz create --question TEXT --choice A --choice B [...] --correct N [--duration S]
       npm run host -- quiz show QUIZ_ID | quiz reveal QUIZ_ID [--force]
       npm run host -- poll create --question TEXT --choice A --choice B [...] [--duration S]
       npm run host -- drop --title TEXT --price TEXT --image URL --link URL [--seconds S]
       npm run host -- announce TEXT [--seconds S]
       npm run host -- show check FILE | show run FILE [--from N]
       npm run host -- event send --type TYPE --data JSON
       npm run host -- state
       npm run host -- ops failures | ops redrive | ops alarms
       npm run host -- hosts add EMAIL | preflight --viewers N
       [--local | --config FILE | --stack NAME --region REGION] [--json]; --help for more
`;
