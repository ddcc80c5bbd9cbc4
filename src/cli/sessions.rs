//! `sessions`: the stored channel sessions, as a table or as JSON.

use super::small_runtime;
use crate::config::EnvSettings;
use crate::db::{Db, SessionRow};
use anyhow::Context as _;

pub fn run(env: &EnvSettings, json: bool) -> anyhow::Result<()> {
    let rows = small_runtime()?.block_on(async {
        let db = Db::connect(&env.database_url).await?;
        let rows = db.list_sessions().await;
        db.close().await;
        rows
    })?;
    let out = if json {
        to_json(&rows)?
    } else {
        to_table(&rows)
    };
    println!("{out}");
    Ok(())
}

fn to_json(rows: &[SessionRow]) -> anyhow::Result<String> {
    let values: Vec<_> = rows
        .iter()
        .map(|r| {
            serde_json::json!({
                "channel_id": r.channel_id.to_string(),
                "project": r.project.as_str(),
                "claude_session_id": r.claude_session_id.map(|s| s.to_string()),
                "created_at": r.created_at,
                "updated_at": r.updated_at,
                "message_count": r.message_count,
                "total_cost_usd": r.total_cost_usd,
                "model_override": r.model_override,
                "last_error_id": r.last_error_id,
            })
        })
        .collect();
    serde_json::to_string_pretty(&values).context("cannot encode the sessions as JSON")
}

fn to_table(rows: &[SessionRow]) -> String {
    if rows.is_empty() {
        return "no sessions yet".into();
    }
    let mut out = format!(
        "{:<20} {:<16} {:<9} {:>8} {:>10}  {:<24} {}\n",
        "CHANNEL", "PROJECT", "SESSION", "MESSAGES", "COST USD", "UPDATED", "MODEL"
    );
    for r in rows {
        out.push_str(&format!(
            "{:<20} {:<16} {:<9} {:>8} {:>10.4}  {:<24} {}\n",
            r.channel_id,
            r.project.as_str(),
            r.claude_session_id
                .map(|s| s.short())
                .unwrap_or_else(|| "-".into()),
            r.message_count,
            r.total_cost_usd,
            r.updated_at,
            r.model_override.as_deref().unwrap_or("-"),
        ));
    }
    out.pop();
    out
}
