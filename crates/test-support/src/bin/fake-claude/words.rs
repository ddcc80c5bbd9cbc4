//! The `FAKE:<word>[=<n>]` words of a prompt, which script a run.

pub struct Words<'a>(Vec<&'a str>);

impl<'a> Words<'a> {
    pub fn of(prompt: &'a str) -> Self {
        Self(
            prompt
                .split_whitespace()
                .filter_map(|w| w.strip_prefix("FAKE:"))
                .collect(),
        )
    }

    pub fn has(&self, word: &str) -> bool {
        self.0.contains(&word)
    }

    /// `n` of `word=n`.
    pub fn number(&self, word: &str) -> Option<usize> {
        self.0
            .iter()
            .find_map(|w| w.strip_prefix(word)?.strip_prefix('=')?.parse().ok())
    }
}
