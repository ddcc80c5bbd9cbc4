use super::*;
use crate::config::settings::BudgetSettings;

fn config(budgets: BudgetSettings) -> Config {
    let mut c = Config::from_toml_str(
        "[[projects]]\nname = \"web\"\nchannel_id = 1\npath = \"/\"\n",
        std::path::Path::new("/coordinator.toml"),
    )
    .unwrap();
    c.budgets = budgets;
    c
}

const SPEND: Spend = Spend {
    all_usd: 10.0,
    project_usd: 4.0,
    user_usd: 1.0,
};

#[test]
fn with_no_budgets_nothing_holds_a_request() {
    let c = config(BudgetSettings::default());
    assert!(!c.has_budgets(&c.projects[0], false));
    assert!(c.budget_uses(&c.projects[0], false, SPEND).is_empty());
}

#[test]
fn the_global_budgets_compare_all_spend_and_the_users_spend_in_the_project() {
    let c = config(BudgetSettings {
        daily_usd: Some(10.0),
        user_daily_usd: Some(2.0),
        admin_exempt: false,
    });
    let uses = c.budget_uses(&c.projects[0], false, SPEND);
    assert_eq!(uses.len(), 2);
    assert_eq!(uses[0].scope, BudgetScope::AllProjects);
    assert!(uses[0].is_spent(), "spent equals the budget: spent");
    assert_eq!(uses[1].scope, BudgetScope::UserInProject);
    assert!(!uses[1].is_spent());
    assert_eq!(uses[1].remaining_usd(), 1.0);
}

#[test]
fn a_projects_own_budgets_replace_the_global_ones() {
    let mut c = config(BudgetSettings {
        daily_usd: Some(10.0),
        user_daily_usd: Some(2.0),
        admin_exempt: false,
    });
    c.projects[0].daily_budget_usd = Some(5.0);
    c.projects[0].user_daily_budget_usd = Some(0.5);
    let uses = c.budget_uses(&c.projects[0], false, SPEND);
    assert_eq!(uses[0].scope, BudgetScope::Project);
    assert!(
        !uses[0].is_spent(),
        "4 of the project's 5, whatever all spent"
    );
    assert!(uses[1].is_spent(), "1 of the user's 0.5 here");
    assert_eq!(uses[1].describe("web"), "your daily budget in project web");
}

#[test]
fn admins_are_held_unless_exempt() {
    let mut budgets = BudgetSettings {
        daily_usd: Some(1.0),
        ..BudgetSettings::default()
    };
    let c = config(budgets.clone());
    assert!(c.has_budgets(&c.projects[0], true));
    budgets.admin_exempt = true;
    let c = config(budgets);
    assert!(!c.has_budgets(&c.projects[0], true));
    assert!(c.budget_uses(&c.projects[0], true, SPEND).is_empty());
    assert!(c.has_budgets(&c.projects[0], false));
}
