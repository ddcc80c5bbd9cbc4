//! What a reload changes: the projects it adds and removes, and the
//! settings that only a restart can apply, which keep their running
//! values until then.

use super::Config;
use crate::domain::ProjectName;

/// The keys a running daemon cannot change: the gateway intents, where
/// slash commands are registered, the HTTP client and the metrics socket
/// are all set up once, at start.
pub const RESTART_ONLY: [&str; 4] = [
    "[discord] trigger",
    "[discord] guild_id",
    "[discord] request_timeout_secs",
    "[metrics] listen",
];

/// Gives `next` the running value of every key only a restart applies;
/// returns the keys whose new value must wait for one.
pub fn keep_restart_only(running: &Config, next: &mut Config) -> Vec<&'static str> {
    let (was, now) = (&running.discord, &mut next.discord);
    let changed = [
        was.trigger != now.trigger,
        was.guild_id != now.guild_id,
        was.request_timeout != now.request_timeout,
        running.metrics.listen != next.metrics.listen,
    ];
    now.trigger = was.trigger;
    now.guild_id = was.guild_id;
    now.request_timeout = was.request_timeout;
    next.metrics.listen = running.metrics.listen;
    RESTART_ONLY
        .into_iter()
        .zip(changed)
        .filter_map(|(key, changed)| changed.then_some(key))
        .collect()
}

/// Projects of `from` that `to` does not have, by name.
pub fn projects_missing(from: &Config, to: &Config) -> Vec<ProjectName> {
    from.projects
        .iter()
        .filter(|p| to.project_named(p.name.as_str()).is_none())
        .map(|p| p.name.clone())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn config(text: &str) -> Config {
        let dir = std::env::temp_dir();
        let full = format!(
            "[discord]\nallowed_users = [1]\n{text}\n[[projects]]\nname = \"web\"\nchannel_id = 2\npath = {:?}\n",
            dir.display().to_string()
        );
        Config::from_toml_str(&full, Path::new("/etc/c.toml")).unwrap()
    }

    #[test]
    fn restart_only_keys_keep_their_running_values_and_are_named() {
        let running = config("trigger = \"mention\"\n[metrics]\nlisten = \"127.0.0.1:9464\"");
        let mut next = config(
            "trigger = \"all\"\nrequest_timeout_secs = 3\nmax_chunks = 9\n[metrics]\nlisten = \"127.0.0.1:9999\"",
        );
        let pinned = keep_restart_only(&running, &mut next);
        assert_eq!(
            pinned,
            [
                "[discord] trigger",
                "[discord] request_timeout_secs",
                "[metrics] listen"
            ]
        );
        assert_eq!(next.discord.trigger, running.discord.trigger);
        assert_eq!(
            next.discord.request_timeout,
            running.discord.request_timeout
        );
        assert_eq!(next.metrics.listen, running.metrics.listen);
        assert_eq!(next.discord.max_chunks, 9, "a live key is applied");
    }

    #[test]
    fn an_unchanged_file_needs_no_restart() {
        let running = config("");
        let mut next = config("");
        assert!(keep_restart_only(&running, &mut next).is_empty());
        assert_eq!(running, next);
    }

    #[test]
    fn projects_missing_lists_removed_names_only() {
        let one = config("");
        let mut two = one.clone();
        two.projects[0].name = ProjectName::new("api");
        assert_eq!(projects_missing(&one, &two), [ProjectName::new("web")]);
        assert_eq!(projects_missing(&one, &one), Vec::<ProjectName>::new());
    }
}
