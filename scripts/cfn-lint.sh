#!/usr/bin/env bash
# Synthesizes every variant of the template (default, viewer auth, recording) and checks each
# with cfn-lint, which carries CloudFormation's resource schemas and IAM's action list, in every
# region IVS exists in. Fails on any error (E); warnings are printed and do not fail. W3005
# ("dependency already enforced") is skipped: CDK writes such dependencies on purpose.
# A variant is written by scripts/synth-template.ts (the template only: no bundling, a few
# seconds). With --reuse, a variant already synthesized (as `npm test` leaves cdk.out and
# cdk.out.viewer-auth) is linted as it is.
set -euo pipefail
reuse=false
[ "${1:-}" = "--reuse" ] && reuse=true
cd "$(dirname "$0")/.."

if ! command -v cfn-lint > /dev/null; then
  echo "cfn-lint: not found. Install it with: pip install cfn-lint==1.51.0 (Python 3.9+)" >&2
  exit 1
fi
echo "cfn-lint $(cfn-lint --version | awk '{print $2}')"
regions=$(npx --no-install tsx -e "import { IVS_REGIONS } from './lib/ivs-regions'; console.log(IVS_REGIONS.join(' '))")

failed=0
lint() {
  local name="$1" dir="$2"
  shift 2
  if [ "$reuse" = false ] || [ ! -s "$dir/Cuecast.template.json" ]; then
    # Its own folder: a template-only assembly must not stand in for a full one (npm run dev).
    dir="cdk.out.lint/${name// /-}"
    npx --no-install tsx scripts/synth-template.ts "$dir" "$@" > /dev/null
  fi
  local code=0
  # shellcheck disable=SC2086 # the regions are separate arguments
  cfn-lint --regions $regions --ignore-checks W3005 -- "$dir/Cuecast.template.json" || code=$?
  if (( code & 2 )); then
    echo "cfn-lint: $name: errors above" >&2
    failed=1
  else
    echo "cfn-lint: $name: no errors"
  fi
}
lint default cdk.out
lint "viewer auth" cdk.out.viewer-auth viewerAuth=true
lint recording cdk.out.recording recording=true
exit "$failed"
