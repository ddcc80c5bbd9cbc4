//! Prompts that begin with `/`. The CLI runs its own slash commands from a
//! `-p` prompt: `/clear` starts a new session, `/compact` and `/context`
//! work on the conversation, `/model` and `/cost` answer locally, and
//! unknown `/words` go to the model as text. Each is decided here.

/// What to do with a prompt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Slash {
    /// Not a CLI command, or one that is useful as it is: run it.
    Run,
    /// `/clear`: the bot's reset, so the channel's state says the same.
    Clear,
    /// Would leave the channel's state and the CLI's disagreeing, or needs
    /// a terminal: answer with this instead.
    Refuse(&'static str),
}

const USE_MODEL: &str = "Use the bot's `/model` command: it keeps this channel's model.";
const USE_COST: &str = "Use the bot's `/cost` command for this channel's spending.";
const USE_RESET: &str = "Use the bot's `/reset` command to start a new conversation here.";
const TERMINAL_ONLY: &str = "That command works only in a terminal, not through the bot.";

/// The decision for `prompt` (already stripped of the bot's mention).
pub fn classify(prompt: &str) -> Slash {
    let Some(rest) = prompt.trim_start().strip_prefix('/') else {
        return Slash::Run;
    };
    let word = rest.split_whitespace().next().unwrap_or_default();
    match word.to_ascii_lowercase().as_str() {
        "clear" | "reset" | "new" => Slash::Clear,
        "model" => Slash::Refuse(USE_MODEL),
        "cost" | "usage" => Slash::Refuse(USE_COST),
        "resume" | "continue" => Slash::Refuse(USE_RESET),
        "login" | "logout" | "config" | "permissions" | "exit" | "quit" | "vim"
        | "terminal-setup" => Slash::Refuse(TERMINAL_ONLY),
        _ => Slash::Run,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_prompts_and_useful_commands_run() {
        for prompt in [
            "why does it fail?",
            "/compact",
            "/context",
            "/init",
            "/frobnicate x",
            " / spaced",
        ] {
            assert_eq!(classify(prompt), Slash::Run, "{prompt}");
        }
    }

    #[test]
    fn clear_is_the_bots_reset() {
        for prompt in ["/clear", "  /CLEAR  ", "/new please"] {
            assert_eq!(classify(prompt), Slash::Clear, "{prompt}");
        }
    }

    #[test]
    fn commands_that_would_confuse_the_channel_are_refused_with_a_pointer() {
        assert_eq!(classify("/model haiku"), Slash::Refuse(USE_MODEL));
        assert_eq!(classify("/cost"), Slash::Refuse(USE_COST));
        assert_eq!(classify("/resume 1234"), Slash::Refuse(USE_RESET));
        assert_eq!(classify("/login"), Slash::Refuse(TERMINAL_ONLY));
    }
}
