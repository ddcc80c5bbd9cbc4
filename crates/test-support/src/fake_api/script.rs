//! The per-test script: steps tried in order, each with a [`Match`] on the
//! request; a one-shot step is used up by the first request it matches.
//! When no step matches, the default reply answers.

use super::record::ApiRequest;
use super::reply::Reply;
use std::fmt;
use std::sync::Arc;

type Predicate = dyn Fn(&ApiRequest) -> bool + Send + Sync;

/// Which requests a step answers.
#[derive(Clone)]
pub struct Match(Arc<Predicate>);

impl Match {
    pub fn any() -> Self {
        Self::when(|_| true)
    }

    pub fn when(predicate: impl Fn(&ApiRequest) -> bool + Send + Sync + 'static) -> Self {
        Self(Arc::new(predicate))
    }

    /// The last user message has a text containing `needle`.
    pub fn user_text(needle: &str) -> Self {
        let needle = needle.to_string();
        Self::when(move |r| r.last_user_texts().iter().any(|t| t.contains(&needle)))
    }

    /// The last user message carries a `tool_result`.
    pub fn tool_result() -> Self {
        Self::when(|r| !r.last_tool_results().is_empty())
    }

    /// The request's model starts with `prefix`.
    pub fn model(prefix: &str) -> Self {
        let prefix = prefix.to_string();
        Self::when(move |r| r.model().is_some_and(|m| m.starts_with(&prefix)))
    }

    fn matches(&self, request: &ApiRequest) -> bool {
        (self.0)(request)
    }
}

impl fmt::Debug for Match {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Match(..)")
    }
}

#[derive(Debug)]
struct Step {
    when: Match,
    reply: Reply,
    once: bool,
}

#[derive(Debug)]
pub(crate) struct Script {
    steps: Vec<Step>,
    default: Reply,
}

impl Script {
    pub fn new() -> Self {
        Self {
            steps: Vec::new(),
            default: Reply::text("OK."),
        }
    }

    pub fn add(&mut self, when: Match, reply: Reply, once: bool) {
        self.steps.push(Step { when, reply, once });
    }

    pub fn set_default(&mut self, reply: Reply) {
        self.default = reply;
    }

    /// One-shot steps not used yet.
    pub fn pending(&self) -> usize {
        self.steps.iter().filter(|s| s.once).count()
    }

    /// The reply for `request`, using up a matching one-shot step.
    pub fn choose(&mut self, request: &ApiRequest) -> Reply {
        let Some(at) = self.steps.iter().position(|s| s.when.matches(request)) else {
            return self.default.clone();
        };
        if self.steps[at].once {
            self.steps.remove(at).reply
        } else {
            self.steps[at].reply.clone()
        }
    }
}
