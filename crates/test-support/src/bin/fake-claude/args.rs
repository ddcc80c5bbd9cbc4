//! The subset of the real CLI's flags the coordinator could pass, parsed
//! the way commander.js does: `--flag value` or `--flag=value`, variadic
//! options swallowing every following non-flag word, unknown options fatal,
//! `--` ending the options. As in the real CLI, the first positional word
//! is the prompt and further ones are ignored.

#[derive(Debug, Default)]
pub struct Args {
    pub print: bool,
    pub output_format: String,
    pub input_format: String,
    pub permission_prompt_tool: Option<String>,
    pub verbose: bool,
    pub resume: Option<String>,
    pub model: Option<String>,
    pub permission_mode: Option<String>,
    pub allowed_tools: Vec<String>,
    pub append_system_prompt: Option<String>,
    /// `--max-budget-usd`: what this process may spend over its turns.
    pub max_budget_usd: Option<f64>,
    pub skip_permissions: bool,
    pub prompt: Option<String>,
}

const BOOLEAN: [&str; 7] = [
    "-p",
    "--print",
    "--verbose",
    "-c",
    "--continue",
    "--dangerously-skip-permissions",
    "--include-partial-messages",
];
const SINGLE: [&str; 12] = [
    "--output-format",
    "--input-format",
    "-r",
    "--resume",
    "--model",
    "--fallback-model",
    "--permission-mode",
    "--append-system-prompt",
    "--system-prompt",
    "--max-turns",
    "--max-budget-usd",
    "--permission-prompt-tool",
];
const VARIADIC: [&str; 6] = [
    "--allowedTools",
    "--allowed-tools",
    "--disallowedTools",
    "--disallowed-tools",
    "--add-dir",
    "--mcp-config",
];
/// The permission modes 2.1 lists, in its order; it takes `default` too.
const MODES: [&str; 6] = [
    "acceptEdits",
    "auto",
    "bypassPermissions",
    "manual",
    "dontAsk",
    "plan",
];

impl Args {
    pub fn parse(argv: &[String]) -> Result<Self, String> {
        let mut args = Args {
            output_format: "text".into(),
            input_format: "text".into(),
            ..Args::default()
        };
        let mut i = 0;
        while i < argv.len() {
            let word = &argv[i];
            i += 1;
            if word == "--" {
                args.prompt = args.prompt.or_else(|| argv.get(i).cloned());
                break;
            }
            if !word.starts_with('-') || word == "-" {
                args.prompt.get_or_insert_with(|| word.clone());
                continue;
            }
            let (flag, glued) = match word.split_once('=') {
                Some((f, v)) if f.starts_with("--") => (f, Some(v.to_string())),
                _ => (word.as_str(), None),
            };
            if BOOLEAN.contains(&flag) && glued.is_none() {
                args.set_boolean(flag);
            } else if SINGLE.contains(&flag) {
                let value = match glued {
                    Some(v) => v,
                    None if i < argv.len() => {
                        i += 1;
                        argv[i - 1].clone()
                    }
                    None => return Err(format!("error: option '{flag} <value>' argument missing")),
                };
                args.set_single(flag, value)?;
            } else if VARIADIC.contains(&flag) {
                let mut values: Vec<String> = glued.into_iter().collect();
                while values.is_empty() || (i < argv.len() && !argv[i].starts_with('-')) {
                    let Some(next) = argv.get(i) else {
                        return Err(format!(
                            "error: option '{flag} <values...>' argument missing"
                        ));
                    };
                    values.push(next.clone());
                    i += 1;
                }
                if flag.starts_with("--allowed") {
                    // As the real CLI: each value is a comma-separated list.
                    let rules = values.iter().flat_map(|v| v.split(','));
                    args.allowed_tools.extend(
                        rules
                            .map(|r| r.trim().to_string())
                            .filter(|r| !r.is_empty()),
                    );
                }
            } else {
                return Err(format!("error: unknown option '{word}'"));
            }
        }
        Ok(args)
    }

    fn set_boolean(&mut self, flag: &str) {
        match flag {
            "-p" | "--print" => self.print = true,
            "--verbose" => self.verbose = true,
            "--dangerously-skip-permissions" => self.skip_permissions = true,
            _ => {}
        }
    }

    fn set_single(&mut self, flag: &str, value: String) -> Result<(), String> {
        match flag {
            "--output-format" if !["text", "json", "stream-json"].contains(&value.as_str()) => {
                return Err(format!(
                    "error: option '--output-format <format>' argument '{value}' is invalid. Allowed choices are text, json, stream-json."
                ));
            }
            "--input-format" if !["text", "stream-json"].contains(&value.as_str()) => {
                return Err(format!(
                    "error: option '--input-format <format>' argument '{value}' is invalid. Allowed choices are text, stream-json."
                ));
            }
            "--permission-mode" if value != "default" && !MODES.contains(&value.as_str()) => {
                return Err(format!(
                    "error: option '--permission-mode <mode>' argument '{value}' is invalid. Allowed choices are {}.",
                    MODES.join(", ")
                ));
            }
            "--output-format" => self.output_format = value,
            "--input-format" => self.input_format = value,
            "--permission-prompt-tool" => self.permission_prompt_tool = Some(value),
            "-r" | "--resume" => self.resume = Some(value),
            "--model" => self.model = Some(value),
            "--permission-mode" => self.permission_mode = Some(value),
            "--append-system-prompt" => self.append_system_prompt = Some(value),
            "--max-budget-usd" => {
                let cap = value.parse().ok().filter(|c: &f64| *c > 0.0);
                let Some(cap) = cap else {
                    return Err(format!(
                        "Error: --max-budget-usd must be a positive number, got {value}"
                    ));
                };
                self.max_budget_usd = Some(cap);
            }
            _ => {}
        }
        Ok(())
    }
}
