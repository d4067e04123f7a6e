# The two commands of the README: `make demo` and `make test`.
CARGO ?= cargo

.PHONY: demo test e2e lint fuzz fixtures bench-ingest bench-scale bench-report bench-contention bench-statusline bench-push assemble-skills check-skills

## On the bundled fixtures, in a throwaway HOME and ledger: an analysis with stages and its
## cost, the daily report, the tools report and the sessions (scripts/demo.sh).
demo:
	$(CARGO) build --release --quiet
	@scripts/demo.sh ./target/release/tokledger

## Formatting, lints, every test (the slow ones a plain `cargo test` skips too), then the
## real-agent suite.
test: lint
	$(CARGO) test --all-targets -- --include-ignored
	$(MAKE) e2e

## The real agents (pinned Claude Code, Codex CLI, OpenCode and Gemini CLI from npm) against
## mocks of their model APIs on 127.0.0.1, asserting exact snapshot numbers (docs/TESTING.md).
e2e:
	$(CARGO) build --release --quiet
	python3 e2e/claude_e2e.py
	python3 e2e/codex_e2e.py
	python3 e2e/opencode_e2e.py
	python3 e2e/gemini_e2e.py

lint:
	$(CARGO) fmt --check
	$(CARGO) clippy --all-targets --quiet -- -D warnings
	python3 scripts/module_cycles.py src
	@! grep -rn 'crate::\(commands\|render\|binding\|read\|anchor\)\b' src/agents src/ingest src/store src/reports src/push src/discover.rs \
		|| { echo 'a lower layer imports commands, render, binding, read or anchor (docs/ARCHITECTURE.md)'; exit 1; }
	@! grep -rn 'crate::push\b' src/store src/ingest src/agents src/reports \
		|| { echo 'the ledger side imports the PostgreSQL client (docs/ARCHITECTURE.md)'; exit 1; }

## Every parser under a fixed-budget fuzz loop (debug build: overflow checks on);
## FUZZ_SECS per parser, TOKLEDGER_FUZZ_SEED to replay (tests/it/fuzz_budget.rs).
FUZZ_SECS ?= 60
fuzz:
	TOKLEDGER_FUZZ_SECS=$(FUZZ_SECS) $(CARGO) test --test it fuzz_every_parser -- --include-ignored --nocapture

## Render templates/ into integrations/ (commit the result; a test fails when it is stale).
assemble-skills:
	$(CARGO) run --quiet -- skills render --out integrations

## Exit 1 when integrations/ differs from what templates/ renders.
check-skills:
	$(CARGO) run --quiet -- skills render --check --out integrations

## Rewrite fixtures/ from scripts/make_fixtures.py.
fixtures:
	python3 scripts/make_fixtures.py

## Cold/warm ingest against ccusage and a plain scan, on every history shape of
## scripts/gen_shapes.py (docs/PERFORMANCE.md). BENCH_ARGS e.g. "--mb 40 --runs 2 --shapes codex".
BENCH_ARGS ?=
bench-ingest:
	python3 scripts/bench_ingest.py $(BENCH_ARGS)

## 0.4 / 1.6 / 4 GB histories: cold/warm read, RSS, ledger size, report, mark and statusline
## latency on the resulting ledger (docs/PERFORMANCE.md). SCALE_ARGS e.g. "--sizes 400 --runs 1".
SCALE_ARGS ?=
bench-scale:
	python3 scripts/bench_scale.py $(SCALE_ARGS)

## 128 concurrent marks, 8 first reads of a 300 MiB history and hooks on one ledger (docs/RELIABILITY.md).
bench-contention:
	$(CARGO) build --release --quiet
	python3 scripts/bench_contention.py

## 50 `statusline` runs on the ledger of a 400 MB history: median and max (docs/PERFORMANCE.md).
bench-statusline:
	$(CARGO) build --release --quiet
	python3 scripts/bench_statusline.py

## Warm `report daily` against ccusage daily on the same history (see docs/PERFORMANCE.md).
bench-report:
	scripts/bench_report.sh

## First and no-op `push` of a 400 MB history's ledger to a temporary local PostgreSQL (docs/TEAM.md).
bench-push:
	python3 scripts/bench_push.py
