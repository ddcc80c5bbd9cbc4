//! Text attachments: downloaded with a size cap, checked to be text, saved
//! under the project's `.claude-coordinator/attachments/<message id>/`,
//! and named in the prompt so Claude can read them.

use super::messages::GatewayAttachment;
use crate::domain::MessageId;
use std::path::Path;
use std::time::Duration;

mod inside;

pub const ATTACHMENT_DIR: &str = ".claude-coordinator/attachments";

/// A download that has not finished by then is refused: a stalled one
/// would otherwise hold the message forever, unanswered.
pub const DOWNLOAD_TIMEOUT: Duration = Duration::from_secs(30);

/// The client attachments are fetched with.
pub fn download_client(timeout: Duration) -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(timeout)
        .build()
        .unwrap_or_else(|e| {
            tracing::warn!(error = %e, "cannot build the download client; using the default");
            reqwest::Client::new()
        })
}

/// What became of a message's attachments.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Intake {
    /// Paths relative to the project folder.
    pub saved: Vec<String>,
    /// One line per refused file, for the user.
    pub refused: Vec<String>,
}

pub async fn take_in(
    client: &reqwest::Client,
    project_dir: &Path,
    message: MessageId,
    attachments: &[GatewayAttachment],
    limit: u64,
) -> Intake {
    let mut intake = Intake::default();
    let mut taken = std::collections::HashSet::new();
    for (i, att) in attachments.iter().enumerate() {
        let mut name = safe_filename(&att.filename, i);
        // Two files of one name would overwrite each other on disk.
        if !taken.insert(name.clone()) {
            name = format!("{i}-{name}");
            taken.insert(name.clone());
        }
        if att.size > limit {
            intake.refused.push(format!(
                "`{name}` is {} and the limit is {}",
                human_bytes(att.size),
                human_bytes(limit)
            ));
            continue;
        }
        let relative = format!("{ATTACHMENT_DIR}/{message}/{name}");
        match fetch_text(client, att, limit).await {
            Ok(text) => match save(project_dir, message, &name, &text) {
                Ok(()) => intake.saved.push(relative),
                Err(e) => {
                    tracing::error!(error = %e, "cannot save attachment");
                    intake.refused.push(format!(
                        "`{name}` could not be saved in the project (its attachments folder must be a real folder inside it)"
                    ));
                }
            },
            Err(Refusal::NotText) => {
                intake.refused.push(format!("`{name}` is not a text file"));
            }
            Err(Refusal::TooLarge) => {
                intake.refused.push(format!(
                    "`{name}` is over the limit of {}",
                    human_bytes(limit)
                ));
            }
            Err(Refusal::Failed(e)) => {
                tracing::warn!(error = %format!("{e:#}"), "cannot download attachment");
                intake
                    .refused
                    .push(format!("`{name}` could not be downloaded"));
            }
        }
    }
    intake
}

enum Refusal {
    NotText,
    TooLarge,
    Failed(anyhow::Error),
}

async fn fetch_text(
    client: &reqwest::Client,
    att: &GatewayAttachment,
    limit: u64,
) -> Result<String, Refusal> {
    if att
        .content_type
        .as_deref()
        .is_some_and(|t| !is_textual_type(t))
    {
        return Err(Refusal::NotText);
    }
    let mut response = client
        .get(&att.url)
        .send()
        .await
        .and_then(|r| r.error_for_status())
        .map_err(|e| Refusal::Failed(e.into()))?;
    let mut body = Vec::new();
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|e| Refusal::Failed(e.into()))?
    {
        body.extend_from_slice(&chunk);
        if body.len() as u64 > limit {
            return Err(Refusal::TooLarge);
        }
    }
    if body.contains(&0) {
        return Err(Refusal::NotText);
    }
    String::from_utf8(body).map_err(|_| Refusal::NotText)
}

fn is_textual_type(content_type: &str) -> bool {
    let essence = content_type.split(';').next().unwrap_or("").trim();
    essence.starts_with("text/")
        || matches!(
            essence,
            "application/json"
                | "application/xml"
                | "application/toml"
                | "application/x-toml"
                | "application/yaml"
                | "application/x-yaml"
                | "application/javascript"
                | "application/x-sh"
                | "application/sql"
                | "application/octet-stream"
        )
}

/// Saves under `<project>/.claude-coordinator/attachments/<message>/`,
/// refusing any symlink below the project root on the way.
fn save(project: &Path, message: MessageId, name: &str, text: &str) -> std::io::Result<()> {
    let message = message.to_string();
    let mut dirs: Vec<&str> = ATTACHMENT_DIR.split('/').collect();
    dirs.push(&message);
    inside::write_new_file(project, &dirs, name, text.as_bytes())
}

/// A name that cannot climb out of its folder or surprise a shell.
pub fn safe_filename(name: &str, index: usize) -> String {
    let cleaned: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') {
                c
            } else {
                '_'
            }
        })
        .take(100)
        .collect();
    let cleaned = cleaned.trim_start_matches('.');
    if cleaned.is_empty() {
        format!("attachment-{index}")
    } else {
        cleaned.to_string()
    }
}

/// The user's text followed by the files Claude should read.
pub fn prompt_with_files(prompt: &str, files: &[String]) -> String {
    if files.is_empty() {
        return prompt.to_string();
    }
    let mut out = prompt.to_string();
    out.push_str("\n\nAttached files, saved in this project folder:\n");
    for f in files {
        out.push_str("- ");
        out.push_str(f);
        out.push('\n');
    }
    out
}

fn human_bytes(n: u64) -> String {
    match n {
        n if n >= 1024 * 1024 => format!("{:.1} MB", n as f64 / (1024.0 * 1024.0)),
        n if n >= 1024 => format!("{:.0} KB", n as f64 / 1024.0),
        n => format!("{n} bytes"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filenames_cannot_escape_or_vanish() {
        assert_eq!(safe_filename("../../etc/passwd", 0), "_.._etc_passwd");
        assert_eq!(safe_filename(".env", 0), "env");
        assert_eq!(safe_filename("...", 3), "attachment-3");
        assert_eq!(safe_filename("notes v2.md", 0), "notes_v2.md");
        assert_eq!(safe_filename("ünï.txt", 0), "_n_.txt");
    }

    #[test]
    fn the_prompt_names_each_saved_file() {
        let p = prompt_with_files("summarise", &["a/b.txt".into()]);
        assert!(p.starts_with("summarise\n\n"));
        assert!(p.contains("- a/b.txt\n"));
        assert_eq!(prompt_with_files("x", &[]), "x");
    }

    #[tokio::test]
    async fn a_stalled_download_is_refused_instead_of_waited_for() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/notes.txt", listener.local_addr().unwrap());
        // Accepts and never answers.
        let _server = tokio::spawn(async move {
            let mut held = Vec::new();
            while let Ok((socket, _)) = listener.accept().await {
                held.push(socket);
            }
        });
        let dir = tempfile::tempdir().unwrap();
        let attachment = GatewayAttachment {
            filename: "notes.txt".into(),
            size: 10,
            url,
            content_type: Some("text/plain".into()),
        };
        let client = download_client(Duration::from_millis(200));
        let limit = Duration::from_secs(5);
        let intake = tokio::time::timeout(
            limit,
            take_in(&client, dir.path(), MessageId(1), &[attachment], 1024),
        )
        .await
        .expect("the download gives up by itself");
        assert!(intake.saved.is_empty());
        assert_eq!(intake.refused, vec!["`notes.txt` could not be downloaded"]);
    }

    #[test]
    fn text_types_are_recognised() {
        assert!(is_textual_type("text/plain; charset=utf-8"));
        assert!(is_textual_type("application/json"));
        assert!(!is_textual_type("image/png"));
        assert!(!is_textual_type("application/zip"));
    }
}
