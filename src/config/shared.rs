//! The running configuration, shared by the actors and the Discord face
//! and replaced whole by a reload. Readers take a snapshot (`current`)
//! and keep it for as long as one request or command needs it, so a
//! reload never changes a setting under a request that is under way.

use super::Config;
use std::sync::{Arc, PoisonError, RwLock};

#[derive(Debug, Clone)]
pub struct SharedConfig(Arc<RwLock<Arc<Config>>>);

impl SharedConfig {
    pub fn new(config: Config) -> Self {
        Self(Arc::new(RwLock::new(Arc::new(config))))
    }

    /// The configuration as it is now.
    pub fn current(&self) -> Arc<Config> {
        // A writer only swaps a pointer, so a poisoned lock still holds a
        // whole configuration.
        self.0
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Puts `config` in place; returns the one it replaces.
    pub fn replace(&self, config: Config) -> Arc<Config> {
        let mut slot = self.0.write().unwrap_or_else(PoisonError::into_inner);
        std::mem::replace(&mut *slot, Arc::new(config))
    }
}

impl From<Config> for SharedConfig {
    fn from(config: Config) -> Self {
        Self::new(config)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(queue_size: usize) -> Config {
        let mut config = Config {
            source: "coordinator.toml".into(),
            claude: Default::default(),
            discord: Default::default(),
            sessions: Default::default(),
            metrics: Default::default(),
            budgets: Default::default(),
            projects: Vec::new(),
        };
        config.sessions.queue_size = queue_size;
        config
    }

    #[test]
    fn a_snapshot_outlives_a_replacement() {
        let shared = SharedConfig::new(config(5));
        let before = shared.current();
        let replaced = shared.replace(config(9));
        assert!(Arc::ptr_eq(&before, &replaced));
        assert_eq!(before.sessions.queue_size, 5);
        assert_eq!(shared.current().sessions.queue_size, 9);
    }
}
