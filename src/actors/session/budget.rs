//! The daily budgets, checked before a request is stored: when any that
//! applies is spent, the request is refused with a reply naming it, what
//! was spent and when it resets, and the CLI never runs; else its run is
//! capped (`--max-budget-usd`) at the least any of them leaves.

use super::SessionActor;
use crate::actors::messages::{ErrorKind, Request};
use crate::config::{BudgetUse, Config};
use crate::db::DbError;
use crate::domain::{Spend, start_of_utc_day};
use actix::prelude::*;
use chrono::{DateTime, Duration, Utc};
use std::sync::Arc;

impl SessionActor {
    /// Records the request unless a budget that applies is spent.
    pub(super) fn check_budgets(
        &mut self,
        request: Request,
        config: Arc<Config>,
        ctx: &mut Context<Self>,
    ) {
        let admin = config.discord.is_admin(request.user);
        let Some(project) = config
            .project_named(request.project.as_str())
            .filter(|p| config.has_budgets(p, admin))
        else {
            self.record(request, config, None, ctx);
            return;
        };
        let now = (self.deps.now)();
        let since = crate::db::start_of_day(now);
        let (db, name, user) = (self.deps.db.clone(), project.name.clone(), request.user);
        let spend = async move { db.spend_since(&since, &name, user).await };
        ctx.wait(
            spend
                .into_actor(self)
                .map(move |spend, act, ctx| act.judge(request, config, now, spend, ctx)),
        );
    }

    fn judge(
        &mut self,
        request: Request,
        config: Arc<Config>,
        now: DateTime<Utc>,
        spend: Result<Spend, DbError>,
        ctx: &mut Context<Self>,
    ) {
        let spend = match spend {
            Ok(spend) => spend,
            Err(e) => {
                // Unknown spend: refused, as a budget is there to be kept.
                let detail = format!("cannot check the daily budgets: {e}");
                let report = self.report(ErrorKind::StoreError, &request, detail);
                self.deliver_and_forget(report, ctx);
                return;
            }
        };
        let admin = config.discord.is_admin(request.user);
        let uses = match config.project_named(request.project.as_str()) {
            Some(project) => config.budget_uses(project, admin, spend),
            None => Vec::new(),
        };
        match uses.iter().find(|u| u.is_spent()) {
            Some(spent) => {
                let text = refusal(spent, request.project.as_str(), now);
                tracing::info!(request_id = %request.id, budget = ?spent.scope, "refused: daily budget spent");
                self.reply_later(&request, text, ctx);
                self.arm_idle_timer(ctx);
            }
            None => {
                let left = uses.iter().map(BudgetUse::remaining_usd).reduce(f64::min);
                self.record(request, config, left, ctx);
            }
        }
    }
}

fn refusal(spent: &BudgetUse, project: &str, now: DateTime<Utc>) -> String {
    let resets_in = start_of_utc_day(now) + Duration::days(1) - now;
    let (hours, minutes) = (resets_in.num_hours(), resets_in.num_minutes() % 60);
    format!(
        "💸 {} is spent: ${:.2} of ${:.2} since 00:00 UTC, so Claude was not run. It resets at 00:00 UTC, in {hours} h {minutes} min.",
        spent.title(project),
        spent.spent_usd,
        spent.limit_usd,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::BudgetScope;

    #[test]
    fn a_refusal_names_the_budget_the_spend_and_the_reset() {
        let spent = BudgetUse {
            scope: BudgetScope::UserInProject,
            limit_usd: 1.0,
            spent_usd: 1.234,
        };
        let now = "2026-12-02T21:30:00Z".parse().unwrap();
        let text = refusal(&spent, "web", now);
        assert_eq!(
            text,
            "💸 Your daily budget in project web is spent: $1.23 of $1.00 since 00:00 UTC, so Claude was not run. It resets at 00:00 UTC, in 2 h 30 min."
        );
    }

    #[test]
    fn the_day_starts_at_midnight_utc() {
        let now: DateTime<Utc> = "2026-12-02T23:59:59.5Z".parse().unwrap();
        assert_eq!(crate::db::start_of_day(now), "2026-12-02T00:00:00.000Z");
    }
}
