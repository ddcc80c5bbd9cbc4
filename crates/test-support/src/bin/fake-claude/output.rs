//! Writes messages in the requested output format: one line each for
//! stream-json (flushed at once, so readers see progress live), a single
//! result object or (with --verbose) an array for json, the answer for text.

use crate::args::Args;
use serde_json::Value;
use std::io::Write;

pub struct Out {
    format: String,
    verbose: bool,
    messages: Vec<Value>,
}

impl Out {
    pub fn new(args: &Args) -> Self {
        Self {
            format: args.output_format.clone(),
            verbose: args.verbose,
            messages: Vec::new(),
        }
    }

    pub fn emit(&mut self, message: Value) {
        if self.format == "stream-json" {
            self.raw(format!("{message}\n").as_bytes());
        } else {
            self.messages.push(message);
        }
    }

    /// Bytes exactly as given, stream-json only: garbage and broken UTF-8.
    pub fn raw(&mut self, bytes: &[u8]) {
        if self.format == "stream-json" {
            let mut stdout = std::io::stdout().lock();
            // A reader that went away is not this program's problem.
            let _ = stdout.write_all(bytes).and_then(|()| stdout.flush());
        }
    }

    /// Prints what json and text modes print at the end.
    pub fn finish(self) {
        let result = self.messages.iter().rev().find(|m| m["type"] == "result");
        let text = match (self.format.as_str(), result) {
            ("json", _) if self.verbose => Value::Array(self.messages.clone()).to_string(),
            ("json", Some(result)) => result.to_string(),
            ("text", Some(result)) => result["result"].as_str().unwrap_or_default().to_string(),
            _ => return,
        };
        let _ = writeln!(std::io::stdout().lock(), "{text}");
    }
}
