//! Which daily budgets hold a request, and whether one is spent. Spend is
//! the sum of recorded per-run costs since 00:00 UTC (the store sums it);
//! this only compares.

use super::settings::{Config, Project};
use crate::domain::Spend;

/// What a budget covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BudgetScope {
    /// `[budgets] daily_budget_usd`: every project together.
    AllProjects,
    /// A project's own `daily_budget_usd`.
    Project,
    /// `user_daily_budget_usd`: one user in one project.
    UserInProject,
}

/// A budget that applies, with what was spent against it today.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BudgetUse {
    pub scope: BudgetScope,
    pub limit_usd: f64,
    pub spent_usd: f64,
}

impl BudgetUse {
    pub fn is_spent(&self) -> bool {
        self.spent_usd >= self.limit_usd
    }

    pub fn remaining_usd(&self) -> f64 {
        (self.limit_usd - self.spent_usd).max(0.0)
    }

    /// `describe`, capitalized to begin a sentence.
    pub fn title(&self, project: &str) -> String {
        let text = self.describe(project);
        let mut chars = text.chars();
        chars
            .next()
            .map_or_else(String::new, |c| c.to_uppercase().chain(chars).collect())
    }

    /// "the daily budget of project alpha", "your daily budget in alpha",
    /// "the daily budget of all projects".
    pub fn describe(&self, project: &str) -> String {
        match self.scope {
            BudgetScope::AllProjects => "the daily budget of all projects".into(),
            BudgetScope::Project => format!("the daily budget of project {project}"),
            BudgetScope::UserInProject => format!("your daily budget in project {project}"),
        }
    }
}

impl Config {
    /// Whether any budget could hold `admin`'s requests in `project`
    /// (if not, the spend need not be looked up).
    pub fn has_budgets(&self, project: &Project, admin: bool) -> bool {
        let exempt = admin && self.budgets.admin_exempt;
        !exempt && !self.budget_limits(project).is_empty()
    }

    /// The budgets that apply in `project`, each with today's `spend`.
    pub fn budget_uses(&self, project: &Project, admin: bool, spend: Spend) -> Vec<BudgetUse> {
        if admin && self.budgets.admin_exempt {
            return Vec::new();
        }
        self.budget_limits(project)
            .into_iter()
            .map(|(scope, limit_usd)| BudgetUse {
                scope,
                limit_usd,
                spent_usd: match scope {
                    BudgetScope::AllProjects => spend.all_usd,
                    BudgetScope::Project => spend.project_usd,
                    BudgetScope::UserInProject => spend.user_usd,
                },
            })
            .collect()
    }

    /// A project's own daily budget replaces the all-projects one for its
    /// requests; its user budget replaces the global user budget.
    fn budget_limits(&self, project: &Project) -> Vec<(BudgetScope, f64)> {
        let b = &self.budgets;
        let daily = match project.daily_budget_usd {
            Some(own) => Some((BudgetScope::Project, own)),
            None => b.daily_usd.map(|all| (BudgetScope::AllProjects, all)),
        };
        let user = project
            .user_daily_budget_usd
            .or(b.user_daily_usd)
            .map(|limit| (BudgetScope::UserInProject, limit));
        daily.into_iter().chain(user).collect()
    }
}

#[cfg(test)]
mod tests;
