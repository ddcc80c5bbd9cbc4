//! Things that are valid but probably not what the operator meant: `run`
//! logs them as it starts (`app::serve`) and keeps going; `check` prints
//! them.

use super::settings::Config;
use crate::domain::PermissionMode;
use std::collections::HashMap;

impl Config {
    /// The warnings for this process (the CLI refuses bypassPermissions
    /// when it runs as root).
    pub fn warnings(&self) -> Vec<String> {
        // SAFETY: geteuid only reads the process's effective user id.
        let root = unsafe { libc::geteuid() } == 0;
        self.warnings_as(root)
    }

    /// The warnings for a daemon that runs as root or not.
    pub fn warnings_as(&self, root: bool) -> Vec<String> {
        let mut out = Vec::new();
        let d = &self.discord;
        if self.projects.iter().all(|p| !p.admits_anyone(d)) {
            out.push(
                "nobody can run Claude: allowed_users and allowed_roles are empty everywhere"
                    .to_string(),
            );
        } else {
            for p in self.projects.iter().filter(|p| !p.admits_anyone(d)) {
                out.push(format!(
                    "project {:?}: nobody can run Claude here: no allowed_users or allowed_roles apply to it",
                    p.name.as_str()
                ));
            }
        }
        if d.admin_users.is_empty() {
            out.push("no admin_users: admin commands are unavailable to everyone".to_string());
        }
        for p in &self.projects {
            if p.effective_permission_mode(&self.claude) != Some(PermissionMode::BypassPermissions)
            {
                continue;
            }
            out.push(if root {
                format!(
                    "project {:?}: permission_mode bypassPermissions fails every run while the daemon runs as root (the CLI refuses it); run the daemon as another user or choose another mode",
                    p.name.as_str()
                )
            } else {
                format!(
                    "project {:?}: permission_mode bypassPermissions lets Claude run any tool without asking",
                    p.name.as_str()
                )
            });
        }
        if let Some(listen) = self.metrics.listen.filter(|a| !a.ip().is_loopback()) {
            out.push(format!(
                "[metrics] listen = \"{listen}\" is not a loopback address: anyone who can reach it reads the metrics (project names, costs); put it behind a firewall or use 127.0.0.1"
            ));
        }
        let mut by_path: HashMap<_, Vec<&str>> = HashMap::new();
        for p in &self.projects {
            by_path.entry(&p.path).or_default().push(p.name.as_str());
        }
        let mut shared: Vec<_> = by_path
            .into_iter()
            .filter(|(_, names)| names.len() > 1)
            .collect();
        shared.sort();
        for (path, names) in shared {
            out.push(format!(
                "projects {} share the folder {}: concurrent runs may edit the same files",
                names.join(", "),
                path.display()
            ));
        }
        out
    }
}
