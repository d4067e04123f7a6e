//! Costs: per model, per request, time-aware, from the bundled genai-prices database or a
//! price file; unknown models are null, never $0.

use crate::common::*;
use tokledger::agents::Agent;
use tokledger::cost::{PriceFile, Pricer};
use tokledger::usage::{Tokens, parse_ts_ms};

fn pricer() -> Pricer {
    Pricer::new(PriceFile::default())
}

fn at(s: &str) -> i64 {
    parse_ts_ms(s).expect("time")
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-9
}

const MARCH: &str = "2026-03-02T10:00:00Z";

#[test]
fn sonnet_4_5_million_in_and_out_is_18_dollars() {
    let env = TestEnv::with_fixtures();
    let out = env.run(&[
        "analysis",
        "add",
        "--source-id",
        "x",
        "--tool",
        "claude",
        "--model",
        "claude-sonnet-4-5",
        "--tokens-in",
        "1000000",
        "--tokens-out",
        "1000000",
        "--estimate-cost",
        "--started-at",
        MARCH,
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let id = String::from_utf8(out.stdout)
        .expect("utf8")
        .trim()
        .to_owned();
    let row = env.json(&["analysis", "show", "--id", &id, "--json"]);
    assert_eq!(row["cost_usd"], 18.0);
    // The same tokens as ten requests of 100k + 100k, priced request by request: still $18.
    let p = pricer();
    let one = Tokens {
        input_tokens: 100_000,
        output_tokens: 100_000,
        ..Tokens::default()
    };
    let ten: f64 = (0..10)
        .map(|_| {
            p.price(
                Agent::Claude,
                Some("claude-sonnet-4-5-20250929"),
                &one,
                None,
                at(MARCH),
            )
            .expect("price")
        })
        .sum();
    assert!(close(ten, 18.0), "{ten}");
}

#[test]
fn five_minute_and_one_hour_cache_writes_differ_as_the_database_says() {
    let p = pricer();
    let m = Some("claude-sonnet-4-5-20250929");
    let w5 = Tokens {
        cache_creation_tokens: 1_000_000,
        cache_creation_5m_tokens: 1_000_000,
        ..Tokens::default()
    };
    let w1h = Tokens {
        cache_creation_tokens: 1_000_000,
        cache_creation_1h_tokens: 1_000_000,
        ..Tokens::default()
    };
    // Ten requests of 100k, so no long-context tier applies.
    let tenth = |t: Tokens| Tokens {
        cache_creation_tokens: t.cache_creation_tokens / 10,
        cache_creation_5m_tokens: t.cache_creation_5m_tokens / 10,
        cache_creation_1h_tokens: t.cache_creation_1h_tokens / 10,
        ..t
    };
    let cost = |t: Tokens| {
        10.0 * p
            .price(Agent::Claude, m, &tenth(t), None, at(MARCH))
            .expect("price")
    };
    assert!(close(cost(w5), 3.75), "5-minute writes: {}", cost(w5));
    assert!(close(cost(w1h), 6.0), "1-hour writes: {}", cost(w1h));
    let (rates, source) = p
        .rates(Some(Agent::Claude), "claude-sonnet-4-5-20250929", at(MARCH))
        .expect("rates");
    assert_eq!(
        (rates.cache_write, rates.cache_write_1h),
        (Some(3.75), Some(6.0))
    );
    assert!(source.to_string().contains("claude-sonnet-4-5"));
}

#[test]
fn codex_cached_input_is_priced_at_the_cached_rate() {
    let p = pricer();
    // A Codex delta: 600 uncached + 400 cached input, 100 output (50 of it reasoning).
    let t = Tokens {
        input_tokens: 600,
        cache_read_tokens: 400,
        output_tokens: 100,
        reasoning_tokens: 50,
        ..Tokens::default()
    };
    let got = p
        .price(Agent::Codex, Some("gpt-5-codex"), &t, None, at(MARCH))
        .expect("price");
    let want = (600.0 * 1.25 + 400.0 * 0.125 + 100.0 * 10.0) / 1e6;
    assert!(close(got, want), "{got} vs {want}");
}

#[test]
fn a_date_before_a_price_change_uses_the_old_price() {
    let p = pricer();
    // Opus 4.6 had a long-context tier (10/M above 200k input) until 2026-03-13.
    let big = Tokens {
        input_tokens: 300_000,
        ..Tokens::default()
    };
    let before = p
        .price(
            Agent::Claude,
            Some("claude-opus-4-6"),
            &big,
            None,
            at("2026-03-01T12:00:00Z"),
        )
        .expect("price");
    let after = p
        .price(
            Agent::Claude,
            Some("claude-opus-4-6"),
            &big,
            None,
            at("2026-04-01T12:00:00Z"),
        )
        .expect("price");
    assert!(close(before, 3.0), "{before}");
    assert!(close(after, 1.5), "{after}");
}

#[test]
fn long_context_tiers_apply_per_request() {
    let p = pricer();
    let m = Some("claude-sonnet-4-5-20250929");
    let small = Tokens {
        input_tokens: 150_000,
        output_tokens: 1000,
        ..Tokens::default()
    };
    let big = Tokens {
        input_tokens: 250_000,
        output_tokens: 1000,
        ..Tokens::default()
    };
    assert!(close(
        p.price(Agent::Claude, m, &small, None, at(MARCH))
            .expect("p"),
        0.45 + 0.015
    ));
    assert!(close(
        p.price(Agent::Claude, m, &big, None, at(MARCH)).expect("p"),
        1.5 + 0.0225
    ));
    // Asked again (now from the cache of flat sizes), the small one is unchanged.
    assert!(close(
        p.price(Agent::Claude, m, &small, None, at(MARCH))
            .expect("p"),
        0.465
    ));
}

#[test]
fn unknown_models_have_no_price_never_zero() {
    let p = pricer();
    let t = Tokens {
        input_tokens: 1000,
        ..Tokens::default()
    };
    for m in [
        "glm-4.7",
        "claude-sonnet-4-5-mini",
        "gpt-5-codex-mini",
        "<synthetic>",
    ] {
        assert_eq!(
            p.price(Agent::Claude, Some(m), &t, None, at(MARCH)),
            None,
            "{m}"
        );
    }
    assert_eq!(
        p.price(Agent::Amp, Some("mystery-model"), &t, None, at(MARCH)),
        None
    );
    assert_eq!(p.price(Agent::Claude, None, &t, None, at(MARCH)), None);
    // Fast mode: a documented multiplier, or no price.
    let base = p
        .price(
            Agent::Claude,
            Some("claude-opus-4-6"),
            &t,
            None,
            at("2026-04-01T00:00:00Z"),
        )
        .expect("p");
    let fast = p
        .price(
            Agent::Claude,
            Some("claude-opus-4-6"),
            &t,
            Some("fast"),
            at("2026-04-01T00:00:00Z"),
        )
        .expect("p");
    assert!(close(fast, base * 6.0));
    assert_eq!(
        p.price(
            Agent::Claude,
            Some("claude-sonnet-4-5"),
            &t,
            Some("fast"),
            at(MARCH)
        ),
        None
    );
}

fn claude_line(id: &str, model: &str, input: i64, read: i64, write: i64, out: i64) -> String {
    format!(
        r#"{{"type":"assistant","sessionId":"{SA}","timestamp":"2026-03-02T11:00:00.000Z","requestId":"r{id}","message":{{"id":"{id}","model":"{model}","content":[],"usage":{{"input_tokens":{input},"cache_creation_input_tokens":{write},"cache_read_input_tokens":{read},"output_tokens":{out}}}}}}}"#
    ) + "\n"
}

#[test]
fn a_session_mixing_three_models_costs_the_sum_of_each_models_delta() {
    let env = TestEnv::with_fixtures();
    let id = env.start("x", &["--tool", "claude", "--usage-session-id", SA]);
    let path = claude_main(&env.home());
    append(
        &path,
        claude_line(
            "m_opus",
            "claude-opus-4-1-20250805",
            1000,
            20_000,
            2000,
            500,
        ),
    );
    append(
        &path,
        claude_line(
            "m_sonnet",
            "claude-sonnet-4-5-20250929",
            3000,
            50_000,
            0,
            800,
        ),
    );
    append(
        &path,
        claude_line(
            "m_haiku",
            "claude-haiku-4-5-20251001",
            10_000,
            0,
            4000,
            1200,
        ),
    );
    let row = env.json(&["analysis", "complete", "--id", &id, "--json"]);
    // Each model's delta at its own rates (USD per million: input, cache write 5m, read, output).
    let opus = (1000.0 * 15.0 + 2000.0 * 18.75 + 20_000.0 * 1.5 + 500.0 * 75.0) / 1e6;
    let sonnet = (3000.0 * 3.0 + 50_000.0 * 0.3 + 800.0 * 15.0) / 1e6;
    let haiku = (10_000.0 * 1.0 + 4000.0 * 1.25 + 1200.0 * 5.0) / 1e6;
    let cost = row["cost_usd"].as_f64().expect("a cost");
    assert!(
        close(cost, opus + sonnet + haiku),
        "{cost} vs {}",
        opus + sonnet + haiku
    );
    let per: Vec<(String, f64)> = row["usage_by_model"]
        .as_array()
        .expect("arr")
        .iter()
        .map(|m| {
            (
                m["model"].as_str().expect("m").to_owned(),
                m["cost_usd"].as_f64().expect("c"),
            )
        })
        .collect();
    assert_eq!(per.len(), 3);
    for (m, c) in per {
        let want = if m.contains("opus") {
            opus
        } else if m.contains("sonnet") {
            sonnet
        } else {
            haiku
        };
        assert!(close(c, want), "{m}: {c} vs {want}");
    }
    // Pricing the responses the small reads stored moved them from pending to priced.
    assert_running_totals_match(&env.db());
}

#[test]
fn an_unknown_model_makes_the_row_cost_null_with_a_warning_and_the_known_part_shown() {
    let env = TestEnv::with_fixtures();
    let id = env.start("x", &["--tool", "claude", "--usage-session-id", SA]);
    let path = claude_main(&env.home());
    append(&path, claude_line("m_glm", "glm-4.7", 1000, 0, 0, 100));
    append(
        &path,
        claude_line("m_sonnet", "claude-sonnet-4-5-20250929", 1_000, 0, 0, 1_000),
    );
    let out = env.run(&["analysis", "complete", "--id", &id, "--json"]);
    assert!(out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("no price known for glm-4.7"), "{err}");
    let row: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(row["cost_usd"], serde_json::Value::Null);
    assert_eq!(row["unpriced_models"], serde_json::json!(["glm-4.7"]));
    assert!(close(
        row["cost_known_usd"].as_f64().expect("known"),
        (1000.0 * 3.0 + 1000.0 * 15.0) / 1e6
    ));
    let text = String::from_utf8(env.run(&["analysis", "show", "--id", &id]).stdout).expect("utf8");
    assert!(
        text.contains("unknown (no price for glm-4.7); priced part 0.0180"),
        "{text}"
    );
    assert_running_totals_match(&env.db());
}

#[test]
fn the_price_file_adds_and_overrides_models() {
    let env = TestEnv::with_fixtures();
    let cfg = env.home().join(".config/tokledger");
    std::fs::create_dir_all(&cfg).expect("mkdir");
    std::fs::write(
        cfg.join("prices.toml"),
        "[models.\"glm-4.7\"]\ninput = 0.6\noutput = 2.2\ncache_read = 0.11\n\n[models.\"claude-sonnet-4-5\"]\ninput = 1.0\noutput = 2.0\n",
    )
    .expect("write");
    let out = env.run(&["prices", "show", "claude-sonnet-4-5-20250929", "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(
        (v["input"].as_f64(), v["output"].as_f64()),
        (Some(1.0), Some(2.0))
    );
    assert!(
        v["source"].as_str().expect("s").contains("prices.toml"),
        "{v}"
    );
    let out = env.run(&[
        "analysis",
        "add",
        "--source-id",
        "x",
        "--tool",
        "claude",
        "--model",
        "glm-4.7",
        "--tokens-in",
        "1000000",
        "--tokens-out",
        "1000000",
        "--estimate-cost",
        "--json",
    ]);
    let row: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert!(close(row["cost_usd"].as_f64().expect("cost"), 2.8));
    // --prices FILE wins over the default file.
    let other = env.dir.path().join("other.toml");
    std::fs::write(&other, "[models.\"glm-4.7\"]\ninput = 1.0\noutput = 1.0\n").expect("write");
    let out = env.run(&[
        "--prices",
        other.to_str().expect("utf8"),
        "prices",
        "show",
        "glm-4.7",
        "--json",
    ]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(v["output"].as_f64(), Some(1.0));
    // A broken price file is a clear error.
    std::fs::write(&other, "[models.\"x\"]\ninput = \"cheap\"\n").expect("write");
    let out = env.run(&[
        "--prices",
        other.to_str().expect("utf8"),
        "prices",
        "show",
        "x",
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("is not valid"));
}

#[test]
fn prices_show_reports_unknown_models() {
    let env = TestEnv::with_fixtures();
    let out = env.run(&["prices", "show", "glm-4.7"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no price known for glm-4.7"));
    let out = env.run(&["prices", "show", "gpt-5-codex", "--tool", "codex"]);
    let text = String::from_utf8(out.stdout).expect("utf8");
    assert!(
        text.contains("openai / gpt-5") && text.contains("1.2500") && text.contains("0.1250"),
        "{text}"
    );
}

/// Issue #17: a price file prices again what the ledger priced without it — the reports,
/// the running totals and the analyses counting those responses — and removing it takes the
/// prices back. Reports show the known part of an incomplete cost and name what is left out.
#[test]
fn prices_follow_their_source_through_the_ledger_and_its_analyses() {
    let env = TestEnv::with_fixtures();
    let id = env.start("x", &["--tool", "claude", "--usage-session-id", SA]);
    let path = claude_main(&env.home());
    append(&path, claude_line("m_glm", "glm-4.7", 1000, 0, 0, 100));
    append(
        &path,
        claude_line("m_sonnet", "claude-sonnet-4-5-20250929", 1_000, 0, 0, 1_000),
    );
    let row = env.json(&["analysis", "complete", "--id", &id, "--json"]);
    let sonnet = (1000.0 * 3.0 + 1000.0 * 15.0) / 1e6;
    let glm = (1000.0 * 0.6 + 100.0 * 2.2) / 1e6;
    assert_eq!(row["cost_usd"], serde_json::Value::Null);
    let day = |args: &[&str]| -> (serde_json::Value, String) {
        let mut all = args.to_vec();
        all.extend(["report", "daily", "--json", "--tz", "UTC"]);
        let out = env.run(&all);
        assert!(out.status.success(), "{}", stderr(&out));
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
        let d = v["rows"]
            .as_array()
            .expect("rows")
            .iter()
            .find(|r| r["period"] == "2026-03-02")
            .expect("the day")
            .clone();
        (d, stderr(&out))
    };
    let (before, err) = day(&[]);
    assert_eq!(before["cost_usd"], serde_json::Value::Null);
    assert_eq!(before["unpriced_tokens"], 1100);
    let known_before = before["cost_known_usd"].as_f64().expect("known part");
    assert!(known_before >= sonnet, "{before}");
    assert!(
        err.contains("the costs leave out responses without a price")
            && err.contains("glm-4.7 (1,100 tokens)"),
        "{err}"
    );
    let prices = env.dir.path().join("p.toml");
    std::fs::write(&prices, "[models.\"glm-4.7\"]\ninput = 0.6\noutput = 2.2\n").expect("write");
    let p = prices.to_str().expect("utf8");
    let (with, err) = day(&["--prices", p]);
    let cost = with["cost_usd"].as_f64().expect("a whole cost now");
    assert!(
        close(cost, known_before + glm),
        "{cost} vs {}",
        known_before + glm
    );
    assert_eq!(with["unpriced_tokens"], 0);
    assert!(!err.contains("leave out"), "{err}");
    // The analysis counting those responses was priced again with them.
    let shown = env.json(&["analysis", "show", "--id", &id, "--json"]);
    let cost = shown["cost_usd"].as_f64().expect("the analysis is priced");
    assert!(close(cost, sonnet + glm), "{cost} vs {}", sonnet + glm);
    assert_running_totals_match(&env.db());
    // Without the file, its prices are taken back.
    let (after, _) = day(&[]);
    assert_eq!(after["cost_usd"], serde_json::Value::Null);
    assert!(close(
        after["cost_known_usd"].as_f64().expect("known"),
        known_before
    ));
    let shown = env.json(&["analysis", "show", "--id", &id, "--json"]);
    assert_eq!(shown["cost_usd"], serde_json::Value::Null);
    assert_running_totals_match(&env.db());
    // `prices reprice` prices everything again on demand.
    let r = env.json(&["--prices", p, "prices", "reprice", "--json"]);
    assert!(r["responses"].as_i64().expect("n") > 2, "{r}");
    assert!(r["snapshots"].as_i64().expect("n") >= 2, "{r}");
    assert!(r["prices"].as_str().expect("s").contains("p.toml"), "{r}");
    let shown = env.json(&["analysis", "show", "--id", &id, "--json"]);
    assert!(close(
        shown["cost_usd"].as_f64().expect("priced"),
        sonnet + glm
    ));
}

/// A model name a proxy writes, and responses that name no model, priced through the price
/// file's `[aliases]` and `[agents.NAME] missing_model`.
#[test]
fn aliases_and_a_missing_model_take_the_price_they_are_mapped_to() {
    let env = TestEnv::empty();
    let dir = env.home().join(".claude/projects/-w");
    std::fs::create_dir_all(&dir).expect("mkdir");
    std::fs::write(
        dir.join(format!("{SA}.jsonl")),
        claude_line("m_proxy", "my-proxy-sonnet", 1_000, 0, 0, 1_000),
    )
    .expect("write");
    let thread = "eeeeeeee-4444-4444-8444-eeeeeeeeeeee";
    let cdir = env.home().join(".codex/sessions/2026/03/02");
    std::fs::create_dir_all(&cdir).expect("mkdir");
    let u =
        serde_json::json!({"input_tokens": 2000, "cached_input_tokens": 0, "output_tokens": 100});
    std::fs::write(
        cdir.join(format!("rollout-2026-03-02T10-00-00-{thread}.jsonl")),
        format!(
            "{}\n",
            serde_json::json!({"timestamp": "2026-03-02T10:00:00.000Z", "type": "event_msg",
                "payload": {"type": "token_count", "info": {"total_token_usage": u, "last_token_usage": u}}})
        ),
    )
    .expect("write");
    let totals = |args: &[&str]| -> serde_json::Value {
        let mut all = args.to_vec();
        all.extend(["report", "session", "--json"]);
        let out = env.run(&all);
        assert!(out.status.success(), "{}", stderr(&out));
        serde_json::from_slice::<serde_json::Value>(&out.stdout).expect("json")["totals"].clone()
    };
    let t = totals(&[]);
    assert_eq!(t["cost_usd"], serde_json::Value::Null);
    assert_eq!(t["unpriced_tokens"], 2000 + 2100);
    let prices = env.dir.path().join("p.toml");
    std::fs::write(
        &prices,
        "[aliases]\n\"my-proxy-sonnet\" = \"claude-sonnet-4-5\"\n\n[agents.codex]\nmissing_model = \"gpt-5\"\n",
    )
    .expect("write");
    let t = totals(&["--prices", prices.to_str().expect("utf8")]);
    let p = pricer();
    let gpt5 = p
        .price(
            Agent::Codex,
            Some("gpt-5"),
            &Tokens {
                input_tokens: 2000,
                output_tokens: 100,
                ..Tokens::default()
            },
            None,
            at(MARCH),
        )
        .expect("gpt-5 has a price");
    let sonnet = (1000.0 * 3.0 + 1000.0 * 15.0) / 1e6;
    let cost = t["cost_usd"].as_f64().expect("everything priced");
    assert!(close(cost, sonnet + gpt5), "{cost} vs {}", sonnet + gpt5);
    assert_eq!(t["unpriced_tokens"], 0);
}
