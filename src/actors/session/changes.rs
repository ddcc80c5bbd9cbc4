//! The files a running request created or changed: those of its Write,
//! Edit and NotebookEdit calls whose results came back without an error
//! (a denied call changes nothing), each once, in the order they were
//! first changed.

#[derive(Debug, Default)]
pub(super) struct Changes {
    /// Calls that write a file, by id, until their result comes.
    pending: Vec<(String, String)>,
    files: Vec<String>,
}

impl Changes {
    pub fn called(&mut self, id: &str, file: Option<&String>) {
        if let Some(file) = file {
            self.pending.push((id.to_string(), file.clone()));
        }
    }

    pub fn returned(&mut self, id: &str, is_error: bool) {
        let Some(at) = self.pending.iter().position(|(call, _)| call == id) else {
            return;
        };
        let (_, file) = self.pending.swap_remove(at);
        if !is_error && !self.files.contains(&file) {
            self.files.push(file);
        }
    }

    pub fn files(&self) -> &[String] {
        &self.files
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_counts_once_its_call_succeeded_and_only_once() {
        let mut changes = Changes::default();
        let (a, b) = ("src/a.rs".to_string(), "src/b.rs".to_string());
        changes.called("1", Some(&a));
        changes.called("2", None);
        changes.called("3", Some(&b));
        changes.returned("2", false);
        changes.returned("3", true);
        assert!(changes.files().is_empty(), "no result yet, or an error");
        changes.returned("1", false);
        changes.called("4", Some(&a));
        changes.returned("4", false);
        assert_eq!(changes.files(), [a]);
    }
}
