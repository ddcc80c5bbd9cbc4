//! Attachments: downloaded with a size cap and judged by their bytes (a
//! PNG, JPEG, GIF or WebP image, or UTF-8 text; nothing else), saved under
//! the project's `.claude-coordinator/attachments/<message id>/` and named
//! in the prompt so Claude's tools can open them. Images also go to Claude
//! as image blocks, at most `MAX_IMAGES` a message.

use super::messages::GatewayAttachment;
use crate::domain::{Image, ImageKind, MessageId, tame_file_name};
use crate::format::{byte_size, size_against};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

mod inside;

pub use crate::domain::ATTACHMENT_DIR;

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

/// What a message's files may be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// `max_attachment_bytes`: the cap of a text file.
    pub text_bytes: u64,
    /// `max_image_bytes`: the cap of an image.
    pub image_bytes: u64,
}

/// At most this many images go to Claude with one message.
pub const MAX_IMAGES: usize = 5;

/// What became of a message's attachments.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Intake {
    /// Paths relative to the project folder, images included.
    pub saved: Vec<String>,
    /// The images, for Claude to see as well.
    pub images: Vec<Image>,
    /// One line per refused file, for the user.
    pub refused: Vec<String>,
}

pub async fn take_in(
    client: &reqwest::Client,
    project_dir: &Path,
    message: MessageId,
    attachments: &[GatewayAttachment],
    limits: Limits,
) -> Intake {
    let mut intake = Intake::default();
    let mut taken = std::collections::HashSet::new();
    let cap = limits.text_bytes.max(limits.image_bytes);
    for (i, att) in attachments.iter().enumerate() {
        let name = unique_name(&mut taken, safe_filename(&att.filename, i), i);
        if att.size > cap {
            intake.refused.push(too_large(&name, att.size, cap));
            continue;
        }
        let body = match fetch(client, att, cap).await {
            Ok(body) => body,
            Err(why) => {
                intake.refused.push(why.describe(&name, cap));
                continue;
            }
        };
        let refusal = match judge(&body, limits, intake.images.len()) {
            Ok(kind) => keep(&mut intake, project_dir, message, &name, body, kind).await,
            Err(why) => Some(why.describe(&name, limits)),
        };
        intake.refused.extend(refusal);
    }
    intake
}

/// `name`, or `<i>-name` (again, until it is free) when a file of the
/// message already has it: two files of one name would overwrite each
/// other on disk.
fn unique_name(
    taken: &mut std::collections::HashSet<String>,
    mut name: String,
    i: usize,
) -> String {
    while !taken.insert(name.clone()) {
        name = format!("{i}-{name}");
    }
    name
}

/// What a downloaded file is (an image, or text), or why it does not go
/// to Claude.
fn judge(body: &[u8], limits: Limits, images: usize) -> Result<Option<ImageKind>, Unfit> {
    let len = body.len() as u64;
    match ImageKind::sniff(body) {
        Some(_) if len > limits.image_bytes => Err(Unfit::LargeImage(len)),
        Some(_) if images >= MAX_IMAGES => Err(Unfit::TooManyImages),
        Some(kind) => Ok(Some(kind)),
        None if body.contains(&0) || std::str::from_utf8(body).is_err() => Err(Unfit::Binary),
        None if len > limits.text_bytes => Err(Unfit::LargeText(len)),
        None => Ok(None),
    }
}

/// Saves a file that passed, and keeps an image's bytes; says why not
/// when it cannot be saved.
async fn keep(
    intake: &mut Intake,
    project_dir: &Path,
    message: MessageId,
    name: &str,
    body: Vec<u8>,
    kind: Option<ImageKind>,
) -> Option<String> {
    let bytes: Arc<[u8]> = body.into();
    let (dir, file, data) = (project_dir.to_path_buf(), name.to_string(), bytes.clone());
    // Off the actor's thread: five 5 MiB images took it for tens of ms.
    let saved = tokio::task::spawn_blocking(move || save(&dir, message, &file, &data))
        .await
        .unwrap_or_else(|e| Err(std::io::Error::other(e.to_string())));
    if let Err(e) = saved {
        tracing::error!(error = %e, "cannot save attachment");
        return Some(format!(
            "`{name}` could not be saved in the project (its attachments folder must be a real folder inside it)"
        ));
    }
    intake
        .saved
        .push(format!("{ATTACHMENT_DIR}/{message}/{name}"));
    if let Some(kind) = kind {
        intake.images.push(Image { kind, bytes });
    }
    None
}

/// Why a downloaded file does not go to Claude.
enum Unfit {
    LargeImage(u64),
    TooManyImages,
    LargeText(u64),
    Binary,
}

impl Unfit {
    fn describe(&self, name: &str, limits: Limits) -> String {
        match self {
            Self::LargeImage(n) => {
                let (size, limit) = size_against(*n, limits.image_bytes);
                format!("`{name}` is an image of {size} and the image limit is {limit}")
            }
            Self::TooManyImages => {
                format!("`{name}`: at most {MAX_IMAGES} images go with one message")
            }
            Self::LargeText(n) => too_large(name, *n, limits.text_bytes),
            Self::Binary => {
                format!("`{name}` is neither a text file nor a PNG, JPEG, GIF or WebP image")
            }
        }
    }
}

fn too_large(name: &str, size: u64, limit: u64) -> String {
    let (size, limit) = size_against(size, limit);
    format!("`{name}` is {size} and the limit is {limit}")
}

/// Why a download gave nothing to judge.
enum Fetch {
    TooLarge,
    Failed(anyhow::Error),
}

impl Fetch {
    /// Without its address: an attachment's URL carries the file's name
    /// and the signed query that opens it, neither of which may reach a log.
    fn failed(e: reqwest::Error) -> Self {
        Self::Failed(e.without_url().into())
    }

    fn describe(&self, name: &str, cap: u64) -> String {
        match self {
            Self::TooLarge => format!("`{name}` is over the limit of {}", byte_size(cap)),
            Self::Failed(e) => {
                tracing::warn!(error = %format!("{e:#}"), "cannot download attachment");
                format!("`{name}` could not be downloaded")
            }
        }
    }
}

/// The file's bytes, at most `cap` of them. Its `content_type` is not
/// looked at: Discord derives it from the name.
async fn fetch(
    client: &reqwest::Client,
    att: &GatewayAttachment,
    cap: u64,
) -> Result<Vec<u8>, Fetch> {
    let mut response = client
        .get(&att.url)
        .send()
        .await
        .and_then(|r| r.error_for_status())
        .map_err(Fetch::failed)?;
    // Sized from what Discord says once, not doubled (and copied) on the
    // way to a 5 MiB image; never above the cap, whatever it says.
    let expected = att.size.min(cap.saturating_add(1));
    let mut body = Vec::with_capacity(usize::try_from(expected).unwrap_or(0));
    while let Some(chunk) = response.chunk().await.map_err(Fetch::failed)? {
        body.extend_from_slice(&chunk);
        if body.len() as u64 > cap {
            return Err(Fetch::TooLarge);
        }
    }
    Ok(body)
}

/// Saves under `<project>/.claude-coordinator/attachments/<message>/`,
/// refusing any symlink below the project root on the way.
fn save(project: &Path, message: MessageId, name: &str, body: &[u8]) -> std::io::Result<()> {
    let message = message.to_string();
    let mut dirs: Vec<&str> = ATTACHMENT_DIR.split('/').collect();
    dirs.push(&message);
    inside::write_new_file(project, &dirs, name, body)
}

/// A name that cannot climb out of its folder or surprise a shell, at
/// most 100 characters.
pub fn safe_filename(name: &str, index: usize) -> String {
    let head: String = name.chars().take(100).collect();
    tame_file_name(&head).unwrap_or_else(|| format!("attachment-{index}"))
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

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(bytes: u64) -> Limits {
        Limits {
            text_bytes: bytes,
            image_bytes: bytes,
        }
    }

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
            take_in(
                &client,
                dir.path(),
                MessageId(1),
                &[attachment],
                limits(1024),
            ),
        )
        .await
        .expect("the download gives up by itself");
        assert!(intake.saved.is_empty());
        assert_eq!(intake.refused, vec!["`notes.txt` could not be downloaded"]);
    }

    #[test]
    fn names_given_to_keep_two_files_apart_are_never_taken_twice() {
        let mut taken = std::collections::HashSet::new();
        let names: Vec<String> = ["a.txt", "2-a.txt", "a.txt", "a.txt"]
            .iter()
            .enumerate()
            .map(|(i, n)| unique_name(&mut taken, (*n).to_string(), i + 1))
            .collect();
        assert_eq!(names, ["a.txt", "2-a.txt", "3-a.txt", "4-a.txt"]);
        let mut taken = std::collections::HashSet::new();
        let names: Vec<String> = ["a.txt", "2-a.txt", "a.txt"]
            .iter()
            .enumerate()
            .map(|(i, n)| unique_name(&mut taken, (*n).to_string(), i))
            .collect();
        assert_eq!(names, ["a.txt", "2-a.txt", "2-2-a.txt"]);
    }

    #[tokio::test]
    async fn a_failed_download_keeps_the_address_out_of_its_error() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        drop(listener);
        let attachment = GatewayAttachment {
            filename: "secret-plan.txt".into(),
            size: 10,
            url: format!("http://127.0.0.1:{port}/attachments/1/2/secret-plan.txt?ex=1&hm=sig"),
            content_type: None,
        };
        let client = download_client(Duration::from_secs(5));
        let Err(Fetch::Failed(e)) = fetch(&client, &attachment, 1024).await else {
            panic!("a closed port cannot be downloaded from");
        };
        let shown = format!("{e:#}");
        assert!(
            !shown.contains("secret-plan") && !shown.contains("hm=sig"),
            "{shown}"
        );
    }
}
