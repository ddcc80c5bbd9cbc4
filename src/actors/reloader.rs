//! Reloader: reads the configuration file again on SIGHUP, and edits it
//! for `/add-project` and `/remove-project`; either way the result is
//! validated whole and put in place without stopping anything. The pool
//! gets its new limits, and the sessions of removed projects drop what
//! they had queued. One reload or edit at a time, so none interleave.
//!
//! Handles: `Reload`, `EditProjects`.

use super::messages::{EditProjects, ProjectsRemoved, Reload, Reloaded, SetLimits};
use crate::config::edit::{EditError, ProjectEdit, edit_projects};
use crate::config::reload::{keep_restart_only, projects_missing};
use crate::config::{Config, ConfigError, ConfigProblem, ConfigSource, Place, SharedConfig};
use crate::domain::ProjectName;
use actix::prelude::*;

pub struct Reloader {
    shared: SharedConfig,
    source: ConfigSource,
    sessions: Recipient<ProjectsRemoved>,
    pool: Recipient<SetLimits>,
}

impl Reloader {
    pub fn new(
        shared: SharedConfig,
        source: ConfigSource,
        sessions: Recipient<ProjectsRemoved>,
        pool: Recipient<SetLimits>,
    ) -> Self {
        Self {
            shared,
            source,
            sessions,
            pool,
        }
    }

    /// Puts a valid configuration in place and tells who needs to know.
    fn apply(&mut self, mut next: Config) -> Reloaded {
        let running = self.shared.current();
        let restart_needed = keep_restart_only(&running, &mut next);
        let reloaded = Reloaded {
            projects: next.projects.len(),
            added: projects_missing(&next, &running),
            removed: projects_missing(&running, &next),
            restart_needed,
        };
        for warning in next.warnings() {
            tracing::warn!(warning = %warning, "configuration");
        }
        let limits = SetLimits {
            max_concurrent: next.claude.max_concurrent,
            max_warm: next.claude.max_warm,
            warm_idle: next.claude.warm_idle,
        };
        self.shared.replace(next);
        self.pool.do_send(limits);
        if !reloaded.removed.is_empty() {
            self.sessions
                .do_send(ProjectsRemoved(reloaded.removed.clone().into()));
        }
        tracing::info!(
            projects = reloaded.projects,
            added = %names(&reloaded.added),
            removed = %names(&reloaded.removed),
            "configuration reloaded"
        );
        if !reloaded.restart_needed.is_empty() {
            tracing::warn!(
                keys = %reloaded.restart_needed.join(", "),
                "these settings changed but apply only at the next restart; their running values stay"
            );
        }
        reloaded
    }
}

fn names(projects: &[ProjectName]) -> String {
    let names: Vec<&str> = projects.iter().map(ProjectName::as_str).collect();
    names.join(", ")
}

impl Actor for Reloader {
    type Context = Context<Self>;
}

impl Handler<Reload> for Reloader {
    type Result = AtomicResponse<Self, Result<Reloaded, ConfigError>>;

    fn handle(&mut self, _: Reload, _: &mut Self::Context) -> Self::Result {
        let source = self.source.clone();
        let load = async move {
            tokio::task::spawn_blocking(move || source.load())
                .await
                .unwrap_or_else(|e| Err(task_failed(&e)))
        };
        AtomicResponse::new(Box::pin(load.into_actor(self).map(
            |loaded, act, _| match loaded {
                Ok(next) => Ok(act.apply(next)),
                Err(e) => {
                    tracing::error!(
                        problems = e.problems.len(),
                        error = %e,
                        "configuration not reloaded; the running one stays"
                    );
                    Err(e)
                }
            },
        )))
    }
}

impl Handler<EditProjects> for Reloader {
    type Result = AtomicResponse<Self, Result<Reloaded, EditError>>;

    fn handle(&mut self, msg: EditProjects, _: &mut Self::Context) -> Self::Result {
        let (source, running) = (self.source.clone(), self.shared.current());
        let edit = msg.edit.clone();
        let write = async move {
            tokio::task::spawn_blocking(move || edit_projects(&source, &running, &edit))
                .await
                .unwrap_or_else(|e| Err(EditError::Io(anyhow::anyhow!("the edit failed: {e}"))))
        };
        AtomicResponse::new(Box::pin(write.into_actor(self).map(
            move |edited, act, _| {
                let edited = edited?;
                let action = match msg.edit {
                    ProjectEdit::Add { .. } => "project added",
                    ProjectEdit::Remove { .. } => "project removed",
                };
                tracing::info!(
                    admin_id = msg.by.get(),
                    project = %edited.project,
                    path = %edited.path.display(),
                    "{action} from Discord"
                );
                Ok(act.apply(edited.config))
            },
        )))
    }
}

fn task_failed(e: &tokio::task::JoinError) -> ConfigError {
    let file = std::path::Path::new("configuration");
    ConfigProblem::new(
        file,
        Place::File,
        None,
        format!("the reload task failed: {e}"),
    )
    .into()
}
