#!/usr/bin/env bash
# Install the pinned agents (Claude Code, Codex, Gemini CLI, OpenCode) for the end-to-end suite into a cache kept between runs, and
# print the two binaries' paths as shell assignments (eval "$(e2e/install.sh)").
set -euo pipefail
CLAUDE_VERSION=2.1.197
CODEX_VERSION=0.171.0
GEMINI_VERSION=0.61.0
OPENCODE_VERSION=1.18.33
cache="${TOKLEDGER_E2E_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/tokledger-e2e}"
install_one() { # dir package@version
  local dir="$cache/$1" spec="$2"
  if [ ! -f "$dir/.done" ]; then
    rm -rf "$dir" && mkdir -p "$dir"
    # --ignore-scripts: Claude Code's postinstall only links the native binary we use directly.
    (cd "$dir" && echo '{"private":true}' > package.json &&
      timeout 600 npm install --no-audit --no-fund --ignore-scripts --loglevel=error "$spec" >&2)
    touch "$dir/.done"
  fi
}
install_one "claude-$CLAUDE_VERSION" "@anthropic-ai/claude-code@$CLAUDE_VERSION"
install_one "codex-$CODEX_VERSION" "@openai/codex@$CODEX_VERSION"
install_one "gemini-$GEMINI_VERSION" "@google/gemini-cli@$GEMINI_VERSION"
# --ignore-scripts also skips OpenCode's postinstall, which runs `opencode --version` under the
# real HOME.
install_one "opencode-$OPENCODE_VERSION" "opencode-ai@$OPENCODE_VERSION"
claude="$cache/claude-$CLAUDE_VERSION/node_modules/@anthropic-ai/claude-code-linux-x64/claude"
codex="$cache/codex-$CODEX_VERSION/node_modules/@openai/codex-linux-x64/vendor/x86_64-unknown-linux-musl/bin/codex"
gemini="$cache/gemini-$GEMINI_VERSION/node_modules/@google/gemini-cli/bundle/gemini.js"
opencode="$cache/opencode-$OPENCODE_VERSION/node_modules/opencode-linux-x64/bin/opencode"
for b in "$claude" "$codex" "$gemini" "$opencode"; do
  [ -e "$b" ] || { echo "e2e/install.sh: $b is missing after the install" >&2; exit 1; }
done
echo "CLAUDE_BIN=$claude"
echo "CODEX_BIN=$codex"
echo "GEMINI_JS=$gemini"
echo "OPENCODE_BIN=$opencode"
