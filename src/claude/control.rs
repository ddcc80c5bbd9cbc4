//! The CLI's control protocol on stdin and stdout (`--input-format
//! stream-json --permission-prompt-tool stdio`): the prompt as a user
//! message, the CLI's `can_use_tool` requests and their answers, and the
//! `interrupt` that ends a turn with its cost. Shapes as observed on CLI
//! 2.1.328 (docs/TESTING.md, the contract tier).

use crate::domain::Image;
use base64::prelude::{BASE64_STANDARD, Engine as _};
use serde_json::{Value, json};
use std::fmt;
use tokio::sync::{mpsc, oneshot};

/// A tool call handed to whoever approves them, with the way back. An
/// answer never sent counts as a denial.
pub struct Ask {
    pub request: ToolRequest,
    pub answer: oneshot::Sender<Permission>,
}

/// Where a run's tool calls go for approval (`RunSpec::approver`).
#[derive(Clone)]
pub struct Approver(pub mpsc::UnboundedSender<Ask>);

impl fmt::Debug for Approver {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Approver")
    }
}

/// A call the CLI's own rules would not allow, waiting for an answer.
#[derive(Debug, Clone, PartialEq)]
pub struct ToolRequest {
    /// The control request's id, echoed in the answer.
    pub request_id: String,
    pub tool_name: String,
    /// The tool's input as Claude wrote it; an allow may change it.
    pub input: Value,
    pub tool_use_id: Option<String>,
}

/// What the CLI asks on stdout.
#[derive(Debug, Clone, PartialEq)]
pub enum ControlRequest {
    CanUseTool(ToolRequest),
    /// A subtype this daemon does not handle; answered with an error so
    /// the CLI does not wait for it.
    Unsupported {
        request_id: String,
        subtype: String,
    },
}

/// The answer to a `ToolRequest`.
#[derive(Debug, Clone, PartialEq)]
pub enum Permission {
    /// Runs the tool with `updated_input`; `rule`, if any, allows the same
    /// call for the rest of this CLI process without asking.
    Allow {
        updated_input: Value,
        rule: Option<Rule>,
    },
    /// Refuses the call; Claude is told `message` and the turn goes on.
    Deny { message: String },
}

/// A permission rule for one exact call: the command for Bash, the file
/// for file tools, the tool alone for others. Never a permission mode.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    pub tool: String,
    pub content: Option<String>,
}

impl Rule {
    const FILE_TOOLS: [&'static str; 5] = ["Read", "Edit", "MultiEdit", "Write", "NotebookEdit"];

    pub fn for_call(tool: &str, input: &Value) -> Self {
        let text = |key: &str| input.get(key).and_then(Value::as_str).map(str::to_string);
        let content = match tool {
            "Bash" => text("command"),
            t if Self::FILE_TOOLS.contains(&t) => text("file_path").or(text("notebook_path")),
            _ => None,
        };
        Self {
            tool: tool.to_string(),
            content,
        }
    }

    /// As `--allowedTools` takes it, for later CLI processes: `Bash(ls)`,
    /// or `None` when it cannot be one entry of that comma-separated list.
    pub fn allowed_tool(&self) -> Option<String> {
        let entry = match &self.content {
            Some(content) => format!("{}({content})", self.tool),
            None => self.tool.clone(),
        };
        (!entry.contains(',') && !entry.contains('\n')).then_some(entry)
    }

    /// The `updatedPermissions` entry: this rule, for this session only.
    fn update(&self) -> Value {
        let rule = match &self.content {
            Some(content) => json!({ "toolName": self.tool, "ruleContent": content }),
            None => json!({ "toolName": self.tool }),
        };
        json!({
            "type": "addRules",
            "rules": [rule],
            "behavior": "allow",
            "destination": "session",
        })
    }
}

/// The prompt, as the one user message of a turn; images follow it as
/// base64 image blocks, their bytes as they came.
pub fn user_message(prompt: &str, images: &[Image]) -> String {
    if images.is_empty() {
        return line(&json!({
            "type": "user",
            "message": { "role": "user", "content": prompt },
            "parent_tool_use_id": null,
            "session_id": "",
        }));
    }
    with_images(prompt, images)
}

/// Written straight into one string of the exact size: five images at
/// the limit are 25 MiB of base64, which a `Value` and its serializing
/// held two and three times over.
fn with_images(prompt: &str, images: &[Image]) -> String {
    const HEAD: &str =
        r#"{"type":"user","message":{"role":"user","content":[{"type":"text","text":"#;
    const IMAGE_HEAD: &str = r#"},{"type":"image","source":{"type":"base64","media_type":""#;
    const DATA: &str = r#"","data":""#;
    const IMAGE_TAIL: &str = r#""}"#;
    const TAIL: &str = "}]},\"parent_tool_use_id\":null,\"session_id\":\"\"}\n";
    let text = Value::from(prompt).to_string();
    let blocks: usize = images
        .iter()
        .map(|i| {
            IMAGE_HEAD.len()
                + i.kind.media_type().len()
                + DATA.len()
                + base64::encoded_len(i.bytes.len(), true).unwrap_or(0)
                + IMAGE_TAIL.len()
        })
        .sum();
    let mut out = String::with_capacity(HEAD.len() + text.len() + blocks + TAIL.len());
    out.push_str(HEAD);
    out.push_str(&text);
    for image in images {
        out.push_str(IMAGE_HEAD);
        out.push_str(image.kind.media_type());
        out.push_str(DATA);
        BASE64_STANDARD.encode_string(&image.bytes, &mut out);
        out.push_str(IMAGE_TAIL);
    }
    out.push_str(TAIL);
    out
}

/// The answer to the control request `request_id`.
pub fn answer(request_id: &str, permission: &Permission) -> String {
    let decision = match permission {
        Permission::Allow {
            updated_input,
            rule: None,
        } => json!({ "behavior": "allow", "updatedInput": updated_input }),
        Permission::Allow {
            updated_input,
            rule: Some(rule),
        } => json!({
            "behavior": "allow",
            "updatedInput": updated_input,
            "updatedPermissions": [rule.update()],
        }),
        Permission::Deny { message } => json!({ "behavior": "deny", "message": message }),
    };
    success(request_id, decision)
}

/// Refuses a control request the daemon does not handle.
pub fn unsupported(request_id: &str, subtype: &str) -> String {
    line(&json!({
        "type": "control_response",
        "response": {
            "subtype": "error",
            "request_id": request_id,
            "error": format!("unsupported control request: {subtype}"),
        },
    }))
}

/// Asks the CLI to end the turn now; it answers with a `result`.
pub fn interrupt(request_id: &str) -> String {
    line(&json!({
        "type": "control_request",
        "request_id": request_id,
        "request": { "subtype": "interrupt" },
    }))
}

/// Reads a `control_request` line's body; `None` if it is not one.
pub(super) fn request_of(value: &Value) -> Option<ControlRequest> {
    let request_id = value.get("request_id")?.as_str()?.to_string();
    let request = value.get("request")?;
    let subtype = request.get("subtype").and_then(Value::as_str)?;
    if subtype != "can_use_tool" {
        return Some(ControlRequest::Unsupported {
            request_id,
            subtype: subtype.to_string(),
        });
    }
    Some(ControlRequest::CanUseTool(ToolRequest {
        request_id,
        tool_name: request.get("tool_name")?.as_str()?.to_string(),
        input: request.get("input").cloned().unwrap_or_else(|| json!({})),
        tool_use_id: request
            .get("tool_use_id")
            .and_then(Value::as_str)
            .map(str::to_string),
    }))
}

fn success(request_id: &str, response: Value) -> String {
    line(&json!({
        "type": "control_response",
        "response": {
            "subtype": "success",
            "request_id": request_id,
            "response": response,
        },
    }))
}

fn line(value: &Value) -> String {
    let mut text = value.to_string();
    text.push('\n');
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(text: &str) -> Value {
        serde_json::from_str(text.trim_end()).unwrap()
    }

    #[test]
    fn the_prompt_is_one_json_line_whatever_it_holds() {
        let prompt = "line one\n--flag \"quoted\" \u{1F600}";
        let text = user_message(prompt, &[]);
        assert_eq!(text.matches('\n').count(), 1, "{text}");
        let v = parsed(&text);
        assert_eq!(v["type"], "user");
        assert_eq!(v["message"]["role"], "user");
        assert_eq!(v["message"]["content"], prompt);
    }

    #[test]
    fn images_follow_the_prompt_as_base64_blocks_of_their_own_bytes() {
        use crate::domain::ImageKind;
        let bytes: std::sync::Arc<[u8]> = b"GIF89a\x01\x00\xff\n".as_slice().into();
        let gif = Image {
            kind: ImageKind::Gif,
            bytes: bytes.clone(),
        };
        let text = user_message("what is this?", &[gif]);
        assert_eq!(text.matches('\n').count(), 1, "{text}");
        let content = &parsed(&text)["message"]["content"];
        assert_eq!(content[0], json!({"type": "text", "text": "what is this?"}));
        let source = &content[1]["source"];
        assert_eq!(content[1]["type"], "image");
        assert_eq!(source["type"], "base64");
        assert_eq!(source["media_type"], "image/gif");
        let data = BASE64_STANDARD
            .decode(source["data"].as_str().unwrap())
            .unwrap();
        assert_eq!(data, &*bytes);
    }

    #[test]
    fn a_message_with_images_is_the_json_it_would_be_as_a_value() {
        use crate::domain::ImageKind;
        let image = |kind, bytes: &[u8]| Image {
            kind,
            bytes: bytes.into(),
        };
        let images = [
            image(ImageKind::Png, b"\x89PNG\r\n\x1a\n\0\0"),
            image(ImageKind::Webp, b"RIFF\0\0\0\0WEBPVP8 \xff"),
        ];
        let prompt = "a \"quoted\" line\nand \u{1F600} \\ }]";
        let text = user_message(prompt, &images);
        assert!(text.ends_with("}\n") && text.matches('\n').count() == 1);
        let block = |i: &Image| {
            json!({"type": "image", "source": {"type": "base64",
                "media_type": i.kind.media_type(), "data": BASE64_STANDARD.encode(&i.bytes)}})
        };
        let expected = json!({
            "type": "user",
            "message": { "role": "user", "content": [
                {"type": "text", "text": prompt}, block(&images[0]), block(&images[1])] },
            "parent_tool_use_id": null,
            "session_id": "",
        });
        assert_eq!(parsed(&text), expected);
    }

    #[test]
    fn a_can_use_tool_request_is_read_with_its_input() {
        let v = json!({"type": "control_request", "request_id": "r-1", "request": {
            "subtype": "can_use_tool", "tool_name": "Bash", "display_name": "Bash",
            "input": {"command": "rm -rf build"}, "permission_suggestions": [],
            "tool_use_id": "toolu_01"}});
        let Some(ControlRequest::CanUseTool(r)) = request_of(&v) else {
            panic!("not read: {v}");
        };
        assert_eq!(
            (r.request_id.as_str(), r.tool_name.as_str()),
            ("r-1", "Bash")
        );
        assert_eq!(r.input["command"], "rm -rf build");
        assert_eq!(r.tool_use_id.as_deref(), Some("toolu_01"));
    }

    #[test]
    fn another_subtype_is_unsupported_and_a_broken_request_is_nothing() {
        let v = json!({"request_id": "r-2", "request": {"subtype": "hook_callback"}});
        assert_eq!(
            request_of(&v),
            Some(ControlRequest::Unsupported {
                request_id: "r-2".into(),
                subtype: "hook_callback".into()
            })
        );
        assert_eq!(
            request_of(&json!({"request": {"subtype": "can_use_tool"}})),
            None
        );
    }

    #[test]
    fn answers_carry_the_request_id_and_the_decision() {
        let allow = parsed(&answer(
            "r-1",
            &Permission::Allow {
                updated_input: json!({"command": "ls"}),
                rule: None,
            },
        ));
        assert!(
            allow["response"]["response"]
                .get("updatedPermissions")
                .is_none()
        );
        assert_eq!(allow["type"], "control_response");
        assert_eq!(allow["response"]["subtype"], "success");
        assert_eq!(allow["response"]["request_id"], "r-1");
        assert_eq!(allow["response"]["response"]["behavior"], "allow");
        assert_eq!(
            allow["response"]["response"]["updatedInput"]["command"],
            "ls"
        );
        let deny = parsed(&answer(
            "r-2",
            &Permission::Deny {
                message: "no".into(),
            },
        ));
        assert_eq!(
            deny["response"]["response"],
            json!({"behavior": "deny", "message": "no"})
        );
        let error = parsed(&unsupported("r-3", "x"));
        assert_eq!(error["response"]["subtype"], "error");
        let stop = parsed(&interrupt("i-1"));
        assert_eq!(stop["request"]["subtype"], "interrupt");
    }

    #[test]
    fn a_session_rule_is_the_exact_call_for_this_session_only() {
        let bash = Rule::for_call("Bash", &json!({"command": "cargo test"}));
        let allow = parsed(&answer(
            "r-4",
            &Permission::Allow {
                updated_input: json!({"command": "cargo test"}),
                rule: Some(bash.clone()),
            },
        ));
        assert_eq!(
            allow["response"]["response"]["updatedPermissions"],
            json!([{"type": "addRules", "rules": [{"toolName": "Bash", "ruleContent": "cargo test"}],
                "behavior": "allow", "destination": "session"}])
        );
        assert_eq!(bash.allowed_tool().as_deref(), Some("Bash(cargo test)"));
        let write = Rule::for_call("Write", &json!({"file_path": "/p/a.rs", "content": "x"}));
        assert_eq!(write.allowed_tool().as_deref(), Some("Write(/p/a.rs)"));
        let fetch = Rule::for_call("WebFetch", &json!({"url": "https://x"}));
        assert_eq!(fetch.allowed_tool().as_deref(), Some("WebFetch"));
        let comma = Rule::for_call("Bash", &json!({"command": "echo a,b"}));
        assert_eq!(comma.allowed_tool(), None, "it would split the list");
    }
}
