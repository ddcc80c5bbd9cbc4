//! Parser and classification tests against fixtures shaped like CLI 2.1 output.

use super::*;
use crate::claude::outcome::{Outcome, classify};
use crate::domain::CostBasis;

const SID: &str = "0b9e6a34-5c1d-4f7e-8a2b-9d3c4e5f6a71";
const OTHER_SID: &str = "7d2f0c18-3e4b-4a9c-b6d5-1f2e3a4b5c6d";

fn sid(s: &str) -> ClaudeSessionId {
    ClaudeSessionId::parse(s).unwrap()
}

fn init_line() -> String {
    format!(
        r#"{{"type":"system","subtype":"init","cwd":"/home/dev/shop","session_id":"{SID}","tools":["Task","Bash","Glob","Grep","Read","Edit","Write","WebFetch","TodoWrite"],"mcp_servers":[],"model":"claude-sonnet-4-5-20250929","permissionMode":"acceptEdits","slash_commands":["compact","review"],"apiKeySource":"ANTHROPIC_API_KEY","claude_code_version":"2.1.3","output_style":"default","agents":["general-purpose"],"uuid":"5e0a1c2d-3b4f-4e5a-9c6d-7e8f9a0b1c2d"}}"#
    )
}

fn assistant_line(content: &str) -> String {
    format!(
        r#"{{"type":"assistant","message":{{"model":"claude-sonnet-4-5-20250929","id":"msg_01Qx","type":"message","role":"assistant","content":[{content}],"stop_reason":null,"stop_sequence":null,"usage":{{"input_tokens":4,"cache_creation_input_tokens":512,"cache_read_input_tokens":13890,"output_tokens":9,"service_tier":"standard"}}}},"parent_tool_use_id":null,"session_id":"{SID}","uuid":"a1b2c3d4-0000-4000-8000-000000000001"}}"#
    )
}

fn result_line(fields: &str) -> String {
    format!(
        r#"{{"type":"result","subtype":"success","is_error":false,"duration_ms":5234,"duration_api_ms":6012,"num_turns":3,"result":"Renamed the function.","session_id":"{SID}","total_cost_usd":0.0213,"usage":{{"input_tokens":12,"cache_creation_input_tokens":4521,"cache_read_input_tokens":13890,"output_tokens":210,"server_tool_use":{{"web_search_requests":0}},"service_tier":"standard"}},"modelUsage":{{"claude-sonnet-4-5-20250929":{{"inputTokens":12,"outputTokens":210,"cacheReadInputTokens":13890,"cacheCreationInputTokens":4521,"webSearchRequests":0,"costUSD":0.0213,"contextWindow":200000}}}},"permission_denials":[],"uuid":"c9d8e7f6-1111-4222-8333-444455556666"{fields}}}"#
    )
}

fn only_result(line: &str) -> ResultMessage {
    match parse_line(line).as_slice() {
        [StreamEvent::Result(r)] => r.clone(),
        other => panic!("expected one result, got {other:?}"),
    }
}

#[test]
fn the_init_line_gives_the_session_and_model() {
    assert_eq!(
        parse_line(&init_line()),
        [StreamEvent::Progress(Progress::Init {
            session_id: sid(SID),
            model: "claude-sonnet-4-5-20250929".into()
        })]
    );
}

#[test]
fn text_is_reported_and_thinking_is_ignored() {
    let thinking = assistant_line(r#"{"type":"thinking","thinking":"hmm","signature":"abc"}"#);
    let text = assistant_line(r#"{"type":"text","text":"Looking at main.rs"}"#);
    assert!(parse_line(&thinking).is_empty());
    assert_eq!(
        parse_line(&text),
        [StreamEvent::Progress(Progress::Text(
            "Looking at main.rs".into()
        ))]
    );
}

#[test]
fn tool_uses_carry_a_short_target() {
    let cases = [
        (
            r#"{"file_path":"/home/dev/shop/src/cart.rs"}"#,
            Some("…/cart.rs"),
        ),
        (
            r#"{"command":"cargo test\n--all","description":"run"}"#,
            Some("cargo test…"),
        ),
        (
            r#"{"pattern":"fn checkout","path":null}"#,
            Some("fn checkout"),
        ),
        (
            r#"{"url":"https://docs.rs/tokio","prompt":"x"}"#,
            Some("https://docs.rs/tokio"),
        ),
        (r#"{"todos":[]}"#, None),
    ];
    for (input, expected) in cases {
        let line = assistant_line(&format!(
            r#"{{"type":"tool_use","id":"toolu_01A","name":"T","input":{input}}}"#
        ));
        assert_eq!(
            parse_line(&line),
            [StreamEvent::Progress(Progress::ToolUse {
                id: "toolu_01A".into(),
                name: "T".into(),
                target: expected.map(String::from),
                changes: None,
            })],
            "{input}"
        );
    }
}

#[test]
fn long_commands_are_cut_to_sixty_characters() {
    let long = "x".repeat(200);
    let line = assistant_line(&format!(
        r#"{{"type":"tool_use","id":"t","name":"Bash","input":{{"command":"{long}"}}}}"#
    ));
    let events = parse_line(&line);
    let Some(StreamEvent::Progress(Progress::ToolUse {
        target: Some(t), ..
    })) = events.first()
    else {
        panic!("no tool use in {events:?}");
    };
    assert_eq!(t.chars().count(), 61);
    assert!(t.ends_with('…'));
}

#[test]
fn tool_results_report_their_error_flag() {
    let line = format!(
        r#"{{"type":"user","message":{{"role":"user","content":[{{"tool_use_id":"toolu_01A","type":"tool_result","content":"boom","is_error":true}},{{"tool_use_id":"toolu_01B","type":"tool_result","content":"ok"}}]}},"parent_tool_use_id":null,"session_id":"{SID}","uuid":"u1"}}"#
    );
    assert_eq!(
        parse_line(&line),
        [
            StreamEvent::Progress(Progress::ToolResult {
                id: "toolu_01A".into(),
                is_error: true
            }),
            StreamEvent::Progress(Progress::ToolResult {
                id: "toolu_01B".into(),
                is_error: false
            })
        ]
    );
}

#[test]
fn unknown_types_and_garbage_are_ignored() {
    for line in [
        r#"{"type":"system","subtype":"compact_boundary","session_id":"x"}"#,
        r#"{"type":"rate_limit_event","rate_limit_info":{}}"#,
        r#"{"type":"stream_event","event":{"type":"content_block_delta"}}"#,
        "not json at all",
        "",
        "[1,2",
    ] {
        assert!(parse_line(line).is_empty(), "{line}");
    }
}

#[test]
fn a_full_result_line_is_read_field_by_field() {
    let r = only_result(&result_line(""));
    assert_eq!(r.subtype, "success");
    assert!(!r.is_error);
    assert_eq!((r.duration_ms, r.num_turns), (Some(5234), 3));
    assert_eq!(r.result.as_deref(), Some("Renamed the function."));
    assert_eq!(r.session_id, Some(sid(SID)));
    assert_eq!(r.cost_usd, 0.0213);
    assert_eq!((r.usage.input_tokens, r.usage.output_tokens), (12, 210));
    assert_eq!(
        (
            r.usage.cache_creation_input_tokens,
            r.usage.cache_read_input_tokens
        ),
        (4521, 13890)
    );
}

#[test]
fn legacy_cost_fields_are_accepted() {
    for legacy in [r#""cost_usd":0.5"#, r#""total_cost":0.5"#] {
        let line = format!(
            r#"{{"type":"result","subtype":"success","is_error":false,"result":"ok","session_id":"{SID}",{legacy}}}"#
        );
        assert_eq!(only_result(&line).cost_usd, 0.5);
    }
}

#[test]
fn permission_denials_are_summarised_per_tool() {
    let line = result_line(
        r#","permission_denials":[{"tool_name":"Bash","tool_use_id":"toolu_1","tool_input":{"command":"rm -rf build","description":"clean"}},{"tool_name":"Write","tool_use_id":"toolu_2","tool_input":{"file_path":"src/x.rs","content":"fn x() {}"}}]"#,
    );
    let summaries: Vec<_> = only_result(&line)
        .permission_denials
        .into_iter()
        .map(|d| d.summary)
        .collect();
    assert_eq!(summaries, ["Bash(rm -rf build)", "Write(src/x.rs)"]);
}

#[test]
fn json_output_may_be_one_object_or_an_array_ending_in_the_result() {
    let object = parse_json_output(&result_line("")).unwrap();
    let array = format!(
        "[{},\n{},\n{}]",
        init_line(),
        assistant_line(r#"{"type":"text","text":"hi"}"#),
        result_line("")
    );
    assert_eq!(parse_json_output(&array).unwrap(), object);
    assert!(matches!(
        parse_json_output(&format!("[{}]", init_line())),
        Err(JsonOutputError::NoResult)
    ));
    assert!(matches!(
        parse_json_output("Error: nope"),
        Err(JsonOutputError::NotJson(_))
    ));
}

#[test]
fn a_clean_success_result_classifies_as_success() {
    let Outcome::Success(s) = classify(only_result(&result_line("")), false, None) else {
        panic!("not a success");
    };
    assert_eq!(
        (s.text.as_str(), s.session_id, s.num_turns),
        ("Renamed the function.", sid(SID), 3)
    );
}

#[test]
fn an_api_error_with_subtype_success_is_still_an_error() {
    let line = result_line(r#","is_error":true,"result":"API Error: 529 Overloaded""#);
    let outcome = classify(only_result(&line), false, None);
    assert!(
        matches!(&outcome, Outcome::ClaudeError { subtype, log_detail, .. } if subtype == "success" && log_detail.contains("529")),
        "{outcome:?}"
    );
}

#[test]
fn error_subtypes_classify_as_claude_errors() {
    let line = format!(
        r#"{{"type":"result","subtype":"error_max_turns","is_error":false,"duration_ms":90,"num_turns":5,"session_id":"{SID}","total_cost_usd":0.3}}"#
    );
    let outcome = classify(only_result(&line), false, None);
    assert_eq!(
        outcome,
        Outcome::ClaudeError {
            subtype: "error_max_turns".into(),
            log_detail: String::new(),
            session_id: Some(sid(SID)),
            cost_usd: 0.3,
            cost_basis: CostBasis::Run,
            duration_ms: Some(90),
            api: None,
        }
    );
}

#[test]
fn a_resumed_run_costs_what_model_usage_since_last_result_says() {
    // After --resume the CLI's total covers the whole session.
    let line = format!(
        r#"{{"type":"result","subtype":"success","is_error":false,"result":"ok","session_id":"{SID}","total_cost_usd":0.035444,"model_usage_since_last_result":{{"claude-opus-5-5":{{"inputTokens":3,"costUSD":0.017}},"claude-haiku-5-5":{{"inputTokens":1,"costUSD":0.000808}}}}}}"#
    );
    let Outcome::Success(s) = classify(only_result(&line), true, None) else {
        panic!("expected a success");
    };
    assert!((s.cost_usd - 0.017808).abs() < 1e-9, "{}", s.cost_usd);
    assert_eq!(s.cost_basis, CostBasis::Run);
}

#[test]
fn without_the_per_run_figure_a_resumed_run_records_the_session_total_as_such() {
    let line = format!(
        r#"{{"type":"result","subtype":"success","is_error":false,"result":"ok","session_id":"{SID}","total_cost_usd":0.0533}}"#
    );
    let Outcome::Success(resumed) = classify(only_result(&line), true, None) else {
        panic!("expected a success");
    };
    assert_eq!(
        (resumed.cost_usd, resumed.cost_basis),
        (0.0533, CostBasis::SessionTotal)
    );
    let Outcome::Success(fresh) = classify(only_result(&line), false, None) else {
        panic!("expected a success");
    };
    assert_eq!((fresh.cost_usd, fresh.cost_basis), (0.0533, CostBasis::Run));
}

#[test]
fn an_unknown_session_is_a_resume_failure_only_when_resuming() {
    let line = format!(
        r#"{{"type":"result","subtype":"error_during_execution","is_error":true,"duration_ms":0,"num_turns":0,"session_id":"{OTHER_SID}","total_cost_usd":0,"errors":["No conversation found with session ID: {SID}"]}}"#
    );
    assert!(matches!(
        classify(only_result(&line), true, None),
        Outcome::ResumeFailed { .. }
    ));
    assert!(matches!(
        classify(only_result(&line), false, None),
        Outcome::ClaudeError { .. }
    ));
}

#[test]
fn the_result_session_wins_over_the_init_session() {
    let outcome = classify(only_result(&result_line("")), true, Some(sid(OTHER_SID)));
    assert_eq!(outcome.session_id(), Some(sid(SID)));
    let no_sid = r#"{"type":"result","subtype":"success","is_error":false,"result":"ok"}"#;
    assert_eq!(
        classify(only_result(no_sid), false, Some(sid(OTHER_SID))).session_id(),
        Some(sid(OTHER_SID))
    );
    assert!(matches!(
        classify(only_result(no_sid), false, None),
        Outcome::ParseError { .. }
    ));
}

#[test]
fn api_retries_become_progress() {
    let line = format!(
        r#"{{"type":"system","subtype":"api_retry","attempt":3,"max_retries":10,"retry_delay_ms":2400,"error_status":529,"error":"overloaded","session_id":"{SID}","uuid":"u"}}"#
    );
    assert_eq!(
        parse_line(&line),
        [StreamEvent::Progress(Progress::ApiRetry {
            attempt: 3,
            max_retries: 10
        })]
    );
}

#[test]
fn an_api_error_result_says_which_kind_of_trouble() {
    let result = |status: &str| {
        format!(
            r#"{{"type":"result","subtype":"success","is_error":true,"result":"API Error: 529 Overloaded (127.0.0.1:9)","session_id":"{SID}","total_cost_usd":0,"terminal_reason":"api_error"{status}}}"#
        )
    };
    let trouble = |line: String| match classify(only_result(&line), false, None) {
        Outcome::ClaudeError { api, .. } => api,
        other => panic!("not a Claude error: {other:?}"),
    };
    use crate::claude::ApiTrouble as T;
    assert_eq!(
        trouble(result(r#","api_error_status":529"#)),
        Some(T::Overloaded)
    );
    assert_eq!(
        trouble(result(r#","api_error_status":429"#)),
        Some(T::RateLimited)
    );
    assert_eq!(
        trouble(result(r#","api_error_status":401"#)),
        Some(T::Authentication)
    );
    assert_eq!(
        trouble(result(r#","api_error_status":500"#)),
        Some(T::Unavailable)
    );
    assert_eq!(trouble(result("")), Some(T::Unavailable));
    let plain = format!(
        r#"{{"type":"result","subtype":"error_max_turns","is_error":true,"session_id":"{SID}"}}"#
    );
    assert_eq!(trouble(plain), None);
}
