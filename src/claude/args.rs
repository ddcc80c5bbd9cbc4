//! The CLI's argv. User text never appears here: the prompt goes through
//! stdin as a stream-json user message, and every free-form value uses `--flag=value` so it cannot be read
//! as a flag or swallowed by a variadic option.

use super::RunSpec;

/// What every run starts with: print mode, stream-json both ways, tool
/// approvals asked over stdio.
pub const BASE_ARGS: [&str; 8] = [
    "-p",
    "--output-format",
    "stream-json",
    "--verbose",
    "--input-format",
    "stream-json",
    "--permission-prompt-tool",
    "stdio",
];

/// The arguments after the binary name, in a fixed order.
pub fn build_args(spec: &RunSpec) -> Vec<String> {
    let mut args: Vec<String> = BASE_ARGS.map(String::from).to_vec();
    if let Some(id) = spec.resume {
        // A validated UUID: it cannot look like a flag.
        args.push("--resume".into());
        args.push(id.to_string());
    }
    if let Some(model) = &spec.model {
        args.push(format!("--model={model}"));
    }
    if let Some(mode) = spec.permission_mode {
        args.push(format!("--permission-mode={}", mode.as_cli_arg()));
    }
    let rules: Vec<&str> = spec
        .allowed_tools
        .iter()
        .chain(&spec.session_rules)
        .map(String::as_str)
        .collect();
    if !rules.is_empty() {
        args.push(format!("--allowedTools={}", rules.join(",")));
    }
    if let Some(cap) = spec.max_budget_usd {
        args.push(format!("--max-budget-usd={cap:.6}"));
    }
    if let Some(text) = &spec.append_system_prompt {
        args.push(format!("--append-system-prompt={text}"));
    }
    args
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{ClaudeSessionId, PermissionMode};

    fn spec() -> RunSpec {
        RunSpec::new("claude", "/tmp", "--dangerously-skip-permissions hello")
    }

    #[test]
    fn a_bare_run_speaks_stream_json_both_ways_and_asks_over_stdio() {
        assert_eq!(
            build_args(&spec()),
            [
                "-p",
                "--output-format",
                "stream-json",
                "--verbose",
                "--input-format",
                "stream-json",
                "--permission-prompt-tool",
                "stdio"
            ]
        );
    }

    #[test]
    fn the_prompt_never_appears_in_argv() {
        let mut s = spec();
        s.model = Some("sonnet".into());
        let args = build_args(&s);
        assert!(
            args.iter()
                .all(|a| !a.contains("dangerously") && !a.contains("hello"))
        );
    }

    #[test]
    fn every_option_is_passed_with_free_text_glued_to_its_flag() {
        let id = ClaudeSessionId::parse("6f1c2a4e-0b7d-4c1e-9a55-3c2d1e0f9a88").unwrap();
        let mut s = spec();
        s.resume = Some(id);
        s.model = Some("--evil".into());
        s.permission_mode = Some(PermissionMode::AcceptEdits);
        s.allowed_tools = vec!["Read".into(), "Bash(git log:*)".into()];
        s.session_rules = vec!["Write(src/x.rs)".into()];
        s.append_system_prompt = Some("--be brief\nplease".into());
        s.max_budget_usd = Some(0.25);
        assert_eq!(
            build_args(&s)[8..],
            [
                "--resume",
                "6f1c2a4e-0b7d-4c1e-9a55-3c2d1e0f9a88",
                "--model=--evil",
                "--permission-mode=acceptEdits",
                "--allowedTools=Read,Bash(git log:*),Write(src/x.rs)",
                "--max-budget-usd=0.250000",
                "--append-system-prompt=--be brief\nplease",
            ]
        );
    }
}
