//! What every bench shares: a one-line description of the machine, and
//! rewriting only its own `## <name>` section of docs/PERFORMANCE.md.

use std::path::Path;

pub fn machine() -> String {
    let cpus = std::thread::available_parallelism().map_or(0, |n| n.get());
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find_map(|l| {
            l.strip_prefix("model name")?
                .split_once(':')
                .map(|(_, m)| m.trim().to_string())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    format!("{cpus} CPUs ({model})")
}

/// Writes `section` into docs/PERFORMANCE.md, and says so if it cannot.
pub fn save_section(name: &str, section: &str) {
    if let Err(e) = write_section(name, section) {
        eprintln!("could not update docs/PERFORMANCE.md: {e}");
    }
}

/// Replaces the section that starts with `## {name}` up to the next `## `
/// heading, or appends it; other sections are left byte for byte.
fn write_section(name: &str, section: &str) -> std::io::Result<()> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/PERFORMANCE.md");
    let current = std::fs::read_to_string(&path).unwrap_or_else(|_| "# Performance\n".into());
    let heading = format!("## {name}\n");
    let start = (current.starts_with(&heading).then_some(0))
        .or_else(|| current.find(&format!("\n{heading}")).map(|i| i + 1));
    let updated = match start {
        Some(start) => {
            let after = start + heading.len();
            let end = current[after..]
                .find("\n## ")
                .map_or(current.len(), |i| after + i);
            format!(
                "{}{}\n{}",
                &current[..start],
                section.trim_end(),
                &current[end..]
            )
        }
        None => format!("{}\n\n{}\n", current.trim_end(), section.trim_end()),
    };
    std::fs::write(path, updated)
}

/// When a measurement was taken, as the docs show it.
pub fn now_utc() -> String {
    chrono::Utc::now().format("%Y-%m-%d %H:%M UTC").to_string()
}
