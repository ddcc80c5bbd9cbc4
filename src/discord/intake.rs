//! Which gateway messages become Claude requests: the rules, free of
//! serenity so they can be tested on plain data.

use super::messages::GatewayMessage;
use crate::config::{Config, Project, Trigger};
use crate::domain::UserId;

#[derive(Debug, Clone, PartialEq)]
pub enum Decision<'a> {
    /// Not for us; `why` is logged at debug level.
    Ignore { why: &'static str },
    /// A permitted user sent nothing to relay.
    Empty { project: &'a Project },
    /// Not a permitted user here.
    Deny { project: &'a Project },
    Accept {
        project: &'a Project,
        prompt: String,
    },
}

pub fn decide<'a>(msg: &GatewayMessage, config: &'a Config, bot: UserId) -> Decision<'a> {
    if msg.author_is_bot {
        return Decision::Ignore { why: "from a bot" };
    }
    if msg.guild.is_none() {
        return Decision::Ignore {
            why: "a direct message",
        };
    }
    let project = config
        .project_for_channel(msg.channel)
        .or_else(|| msg.parent.and_then(|p| config.project_for_channel(p)));
    let Some(project) = project else {
        return Decision::Ignore {
            why: "an unmapped channel",
        };
    };
    if config.discord.trigger == Trigger::Mention && !msg.mentions_bot {
        return Decision::Ignore {
            why: "no mention of the bot",
        };
    }
    let prompt = strip_mentions_of(&msg.content, bot);
    if is_blank(&prompt) && msg.attachments.is_empty() {
        if !project.is_user_allowed(&config.discord, msg.author, &msg.roles) {
            return Decision::Ignore {
                why: "an empty message from a user who may not run Claude",
            };
        }
        return Decision::Empty { project };
    }
    if !project.is_user_allowed(&config.discord, msg.author, &msg.roles) {
        return Decision::Deny { project };
    }
    Decision::Accept { project, prompt }
}

/// Removes `<@id>` and `<@!id>` mentions of the bot and trims the rest.
pub fn strip_mentions_of(content: &str, bot: UserId) -> String {
    let plain = format!("<@{bot}>");
    let nick = format!("<@!{bot}>");
    content
        .replace(&plain, "")
        .replace(&nick, "")
        .trim()
        .to_string()
}

/// Blank to a reader: whitespace and invisible format characters only.
pub fn is_blank(text: &str) -> bool {
    text.chars().all(|c| {
        c.is_whitespace() || matches!(c, '\u{200B}'..='\u{200F}' | '\u{2060}' | '\u{FEFF}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
    })
}

#[cfg(test)]
mod tests;
