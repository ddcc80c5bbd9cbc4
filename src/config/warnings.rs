//! Things that are valid but probably not what the operator meant: `run`
//! logs them as it starts (`app::serve`) and keeps going; `check` prints
//! them.

use super::settings::Config;
use crate::domain::PermissionMode;
use std::collections::HashMap;

impl Config {
    pub fn warnings(&self) -> Vec<String> {
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
            if p.effective_permission_mode(&self.claude) == Some(PermissionMode::BypassPermissions)
            {
                out.push(format!(
                    "project {:?}: permission_mode bypassPermissions lets Claude run any tool without asking (and the CLI refuses it when run as root)",
                    p.name.as_str()
                ));
            }
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
