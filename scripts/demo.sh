#!/usr/bin/env bash
# `make demo`: the product on the bundled fixtures, in a throwaway HOME and ledger. An
# analysis is started on a Claude Code session, two responses are appended to its transcript
# between marks (as the agent would write them), and it is completed; then the analysis with
# its stages and cost, the daily report, the tools report and the sessions.
#
# Usage: scripts/demo.sh [BINARY]   (default ./target/release/tokledger)
set -euo pipefail

bin=$(realpath "${1:-./target/release/tokledger}")
root=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/tokledger-demo-XXXXXX")
trap 'rm -rf "$tmp"' EXIT
cp -R "$root/fixtures/home" "$tmp/home"

# Only the fixtures: none of the caller's agents, sessions or settings.
for v in XDG_CONFIG_HOME XDG_DATA_HOME XDG_STATE_HOME CLAUDE_CONFIG_DIR CODEX_HOME AMP_DATA_DIR \
    OPENCODE_DB GEMINI_CLI_HOME CLAUDE_CODE_SESSION_ID CODEX_THREAD_ID CODEX_TOOL_CALL_ID \
    TOKLEDGER_SESSION_ID TOKLEDGER_SESSION_PATH TOKLEDGER_SESSION_TOOL CLAUDE_ENV_FILE \
    TOKLEDGER_PRICES; do
    unset "$v"
done
export HOME="$tmp/home" TOKLEDGER_DB="$tmp/ledger.db" TZ=UTC TOKLEDGER_ANCHOR_WAIT=0

session=11111111-1111-4111-8111-111111111111
transcript="$HOME/.claude/projects/-home-dev-app/$session.jsonl"

run() {
    printf '\n$ tokledger'
    printf ' %q' "$@"
    printf '\n'
    "$bin" "$@"
}

# One response of the session, as Claude Code appends it: `n` names it, the rest are tokens.
respond() {
    local n=$1 input=$2 write=$3 read=$4 output=$5 now
    now=$(date -u +%Y-%m-%dT%H:%M:%S.000Z)
    printf '{"type":"assistant","isSidechain":false,"sessionId":"%s","cwd":"/home/dev/app","timestamp":"%s","requestId":"req_demo_%s","message":{"id":"msg_demo_%s","type":"message","role":"assistant","model":"claude-sonnet-4-5-20250929","content":[{"type":"text","text":"…"}],"usage":{"input_tokens":%s,"cache_creation_input_tokens":%s,"cache_read_input_tokens":%s,"output_tokens":%s}}}\n' \
        "$session" "$now" "$n" "$n" "$input" "$write" "$read" "$output" >>"$transcript"
}

echo "(the two warnings of the first read are expected: the fixtures hold a malformed line and a line with invalid UTF-8 on purpose)"
printf '\n$ id=$(tokledger analysis start --source-id PR-42 --tool claude --usage-session-id %s --pass 1)\n' "$session"
id=$("$bin" analysis start --source-id PR-42 --tool claude --usage-session-id "$session" --pass 1)
echo "$id"
respond read 40 12000 5554 900
run analysis mark --id "$id" --stage read
respond review 25 3000 17554 2400
run analysis mark --id "$id" --stage review
run analysis complete --id "$id" --notes "2 findings"
run analysis show --id "$id"
run report daily
run report tools
run analysis sessions list --all
