//! The three kinds of prompt and what their buttons mean: a tool call
//! (Allow, Allow for this session, Deny), a plan (`ExitPlanMode`: Approve,
//! Keep planning) and questions (`AskUserQuestion`: one row per question,
//! one button per option; the answers go back in the call's input).

use crate::claude::{Permission, ProjectRoots, Rule, describe_call};
use crate::db::Decision;
use crate::domain::{Choice, PromptButton, UserId};
use serde_json::{Map, Value, json};

/// How much of a plan a prompt shows, in characters.
const PLAN_CHARS: usize = 1400;
/// Discord's limit for a button's label.
const LABEL_CHARS: usize = 80;
const DENIED: &str = "The user denied this tool call in Discord.";
const KEEP_PLANNING: &str =
    "The user wants you to keep planning: refine the plan, then present it again.";

pub(super) enum Kind {
    Tool,
    Plan,
    Questions(Vec<Question>),
}

pub(super) struct Question {
    text: String,
    options: Vec<String>,
    /// Several options may be chosen; "Done" submits them.
    multi: bool,
    /// A multi-select question's options chosen so far.
    selected: Vec<usize>,
    answer: Option<String>,
}

/// What a click does to a prompt.
pub(super) enum Click {
    /// The call is decided: tell the CLI, record it, close the prompt.
    Decided {
        permission: Permission,
        decision: Decision,
        verdict: String,
    },
    /// One answer of several: the prompt waits for the rest.
    Noted(String),
    /// Not one of this prompt's buttons.
    Foreign,
}

impl Kind {
    pub fn of(tool: &str, input: &Value) -> Self {
        match tool {
            "ExitPlanMode" => Self::Plan,
            "AskUserQuestion" => questions(input).map_or(Self::Tool, Self::Questions),
            _ => Self::Tool,
        }
    }

    /// What the prompt says Claude wants.
    pub fn head(&self, tool: &str, input: &Value, roots: &ProjectRoots) -> String {
        match self {
            Self::Tool => format!("🔐 Claude wants to {}", describe_call(tool, input, roots)),
            Self::Plan => {
                let plan = input
                    .get("plan")
                    .and_then(Value::as_str)
                    .unwrap_or_default();
                if plan.trim().is_empty() {
                    return "📋 Claude asks to stop planning and start work (it wrote no plan)."
                        .into();
                }
                format!(
                    "📋 Claude has a plan and asks to start on it:\n\n{}",
                    cut(plan, PLAN_CHARS)
                )
            }
            Self::Questions(items) => {
                let asked: Vec<String> = items.iter().map(|q| format!("**{}**", q.text)).collect();
                format!("❓ Claude asks:\n{}", asked.join("\n"))
            }
        }
    }

    pub fn rows(&self) -> Vec<Vec<PromptButton>> {
        let button = |choice, label: &str| PromptButton {
            choice,
            label: cut(label, LABEL_CHARS),
        };
        match self {
            Self::Tool => vec![vec![
                button(Choice::Allow, "Allow"),
                button(Choice::AllowForSession, "Allow for this session"),
                button(Choice::Deny, "Deny"),
            ]],
            Self::Plan => vec![vec![
                button(Choice::Allow, "Approve"),
                button(Choice::Deny, "Keep planning"),
            ]],
            Self::Questions(items) => (0u8..)
                .zip(items)
                .map(|(q, item)| {
                    let options = (0u8..).zip(&item.options).map(|(o, label)| {
                        button(
                            Choice::Pick {
                                question: q,
                                option: o,
                            },
                            label,
                        )
                    });
                    let done = item
                        .multi
                        .then(|| button(Choice::Submit { question: q }, "Done"));
                    options.chain(done).collect()
                })
                .collect(),
        }
    }

    pub fn click(&mut self, choice: Choice, tool: &str, input: &Value, by: UserId) -> Click {
        let by = format!("<@{}>", by.get());
        match (self, choice) {
            (Self::Tool, Choice::Allow) | (Self::Plan, Choice::Allow) => Click::Decided {
                permission: Permission::Allow {
                    updated_input: input.clone(),
                    rule: None,
                },
                decision: Decision::Allowed,
                verdict: format!("✅ Allowed by {by}."),
            },
            (Self::Tool, Choice::AllowForSession) => Click::Decided {
                permission: Permission::Allow {
                    updated_input: input.clone(),
                    rule: Some(Rule::for_call(tool, input)),
                },
                decision: Decision::AllowedForSession,
                verdict: format!("✅ Allowed for this session by {by}."),
            },
            (Self::Tool, Choice::Deny) => denied(DENIED, format!("🚫 Denied by {by}.")),
            (Self::Plan, Choice::Deny) => {
                denied(KEEP_PLANNING, format!("📝 Sent back to planning by {by}."))
            }
            (Self::Questions(items), Choice::Pick { question, option }) => {
                pick(items, question, option, input, &by)
            }
            (Self::Questions(items), Choice::Submit { question }) => {
                submit(items, question, input, &by)
            }
            _ => Click::Foreign,
        }
    }
}

fn denied(message: &str, verdict: String) -> Click {
    Click::Decided {
        permission: Permission::Deny {
            message: message.into(),
        },
        decision: Decision::Denied,
        verdict,
    }
}

/// Records one answer (or, on a multi-select question, toggles one
/// option); once every question has an answer the call goes back.
fn pick(items: &mut [Question], question: u8, option: u8, input: &Value, by: &str) -> Click {
    let Some(item) = items.get_mut(usize::from(question)) else {
        return Click::Foreign;
    };
    let option = usize::from(option);
    let Some(label) = item.options.get(option).cloned() else {
        return Click::Foreign;
    };
    if !item.multi {
        item.answer = Some(label);
        return answered(items, input, by);
    }
    match item.selected.iter().position(|o| *o == option) {
        Some(at) => {
            item.selected.remove(at);
        }
        None => item.selected.push(option),
    }
    let chosen: Vec<&str> = item
        .selected
        .iter()
        .map(|o| item.options[*o].as_str())
        .collect();
    let chosen = if chosen.is_empty() {
        "nothing chosen".to_string()
    } else {
        chosen.join(", ")
    };
    Click::Noted(format!("{}: {chosen} (press Done when ready)", item.text))
}

/// "Done" on a multi-select question: its answer is the chosen labels,
/// comma-separated, as the CLI takes them.
fn submit(items: &mut [Question], question: u8, input: &Value, by: &str) -> Click {
    let Some(item) = items.get_mut(usize::from(question)).filter(|q| q.multi) else {
        return Click::Foreign;
    };
    if item.selected.is_empty() {
        return Click::Noted(format!("{}: choose at least one option first.", item.text));
    }
    let mut chosen = item.selected.clone();
    chosen.sort_unstable();
    let labels: Vec<&str> = chosen.iter().map(|o| item.options[*o].as_str()).collect();
    item.answer = Some(labels.join(", "));
    answered(items, input, by)
}

/// Decided once every question has an answer, with `answers` (question
/// text to answer) added to the call's input; else what is known so far.
fn answered(items: &[Question], input: &Value, by: &str) -> Click {
    let chosen: Vec<String> = items
        .iter()
        .filter_map(|q| Some(format!("{} → {}", q.text, q.answer.as_ref()?)))
        .collect();
    if items.iter().any(|q| q.answer.is_none()) {
        return Click::Noted(format!("So far: {}", chosen.join("; ")));
    }
    let answers: Map<String, Value> = items
        .iter()
        .filter_map(|q| Some((q.text.clone(), json!(q.answer.clone()?))))
        .collect();
    let mut updated_input = input.clone();
    updated_input["answers"] = Value::Object(answers);
    Click::Decided {
        permission: Permission::Allow {
            updated_input,
            rule: None,
        },
        decision: Decision::Allowed,
        verdict: format!("✅ Answered by {by}: {}.", chosen.join("; ")),
    }
}

/// `input.questions`, if it has the shape the CLI documents: 1 to 4
/// questions of 2 to 4 options each.
fn questions(input: &Value) -> Option<Vec<Question>> {
    let items = input.get("questions")?.as_array()?;
    let parsed: Vec<Question> = items
        .iter()
        .map(|q| {
            let options = q.get("options")?.as_array()?;
            let labels: Option<Vec<String>> = options
                .iter()
                .map(|o| o.get("label")?.as_str().map(str::to_string))
                .collect();
            Some(Question {
                text: q.get("question")?.as_str()?.to_string(),
                options: labels.filter(|l| (2..=4).contains(&l.len()))?,
                multi: q.get("multiSelect").and_then(Value::as_bool) == Some(true),
                selected: Vec::new(),
                answer: None,
            })
        })
        .collect::<Option<_>>()?;
    (1..=4).contains(&parsed.len()).then_some(parsed)
}

fn cut(text: &str, chars: usize) -> String {
    let mut shown: String = text.chars().take(chars).collect();
    if shown.len() < text.len() {
        shown.push('…');
    }
    shown
}

#[cfg(test)]
mod tests {
    use super::*;

    fn question_input() -> Value {
        json!({"questions": [
            {"question": "Which database?", "header": "DB", "multiSelect": false,
             "options": [{"label": "SQLite", "description": "a file"}, {"label": "Postgres", "description": "a server"}]},
            {"question": "Add tests?", "header": "Tests", "multiSelect": false,
             "options": [{"label": "Yes", "description": ""}, {"label": "No", "description": ""}]}
        ]})
    }

    #[test]
    fn questions_get_a_row_each_and_answers_go_back_in_the_input() {
        let input = question_input();
        let mut kind = Kind::of("AskUserQuestion", &input);
        let rows = kind.rows();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0][1].label, "Postgres");
        let pick = |question, option| Choice::Pick { question, option };
        let first = kind.click(pick(0, 1), "AskUserQuestion", &input, UserId(7));
        assert!(
            matches!(&first, Click::Noted(text) if text.contains("Which database? → Postgres"))
        );
        let Click::Decided { permission, .. } =
            kind.click(pick(1, 0), "AskUserQuestion", &input, UserId(7))
        else {
            panic!("not decided");
        };
        let Permission::Allow { updated_input, .. } = permission else {
            panic!("not allowed");
        };
        assert_eq!(
            updated_input["answers"],
            json!({"Which database?": "Postgres", "Add tests?": "Yes"})
        );
        assert_eq!(updated_input["questions"], input["questions"]);
    }

    #[test]
    fn a_multi_select_question_toggles_options_and_done_sends_them_comma_separated() {
        let input = json!({"questions": [{"question": "Which checks?", "header": "Checks",
            "multiSelect": true, "options": [{"label": "fmt"}, {"label": "clippy"}, {"label": "tests"}]}]});
        let mut kind = Kind::of("AskUserQuestion", &input);
        let labels: Vec<String> = kind.rows()[0].iter().map(|b| b.label.clone()).collect();
        assert_eq!(labels, ["fmt", "clippy", "tests", "Done"]);
        let done = Choice::Submit { question: 0 };
        let first = kind.click(done, "AskUserQuestion", &input, UserId(1));
        assert!(matches!(first, Click::Noted(t) if t.contains("at least one")));
        for option in [2, 0, 1, 1] {
            let pick = Choice::Pick {
                question: 0,
                option,
            };
            assert!(matches!(
                kind.click(pick, "AskUserQuestion", &input, UserId(1)),
                Click::Noted(_)
            ));
        }
        let Click::Decided {
            permission: Permission::Allow { updated_input, .. },
            ..
        } = kind.click(done, "AskUserQuestion", &input, UserId(1))
        else {
            panic!("not decided");
        };
        assert_eq!(
            updated_input["answers"],
            json!({"Which checks?": "fmt, tests"})
        );
    }

    #[test]
    fn a_plan_is_approved_or_sent_back_and_tool_buttons_mean_nothing_on_it() {
        let input = json!({"plan": "1. Read\n2. Change"});
        let mut plan = Kind::of("ExitPlanMode", &input);
        assert!(
            plan.head("ExitPlanMode", &input, &ProjectRoots::default())
                .contains("2. Change")
        );
        let labels: Vec<String> = plan.rows()[0].iter().map(|b| b.label.clone()).collect();
        assert_eq!(labels, ["Approve", "Keep planning"]);
        assert!(matches!(
            plan.click(Choice::AllowForSession, "ExitPlanMode", &input, UserId(1)),
            Click::Foreign
        ));
        let Click::Decided {
            permission,
            decision,
            ..
        } = plan.click(Choice::Deny, "ExitPlanMode", &input, UserId(1))
        else {
            panic!("not decided");
        };
        assert_eq!(decision, Decision::Denied);
        assert!(
            matches!(permission, Permission::Deny { message } if message.contains("keep planning"))
        );
    }

    #[test]
    fn a_question_of_the_wrong_shape_is_asked_about_as_a_tool() {
        let one_option =
            json!({"questions": [{"question": "Sure?", "options": [{"label": "Yes"}]}]});
        assert!(matches!(
            Kind::of("AskUserQuestion", &one_option),
            Kind::Tool
        ));
        assert!(matches!(
            Kind::of("AskUserQuestion", &json!({})),
            Kind::Tool
        ));
    }
}
