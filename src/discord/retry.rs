//! Discord requests that fail for a while are tried again. Every request
//! has a deadline (`[discord] request_timeout_secs`, 15 s by default,
//! connect included), so a hung call
//! ends; a 429, a 5xx or a timeout is retried with growing waits until the
//! request's budget is spent: about two minutes for a post (an answer must
//! arrive), less for edits and deletes of the status message, none for
//! typing, which is advisory and renewed anyway. Other refusals (403, 404,
//! a bad body) are final at once. Against Discord itself serenity's
//! ratelimiter already waits out 429s by their headers; through
//! DISCORD_API_BASE it is off and these retries cover them.

use crate::actors::messages::Outgoing;
use serenity::http::HttpError;
use std::time::Duration;

const FIRST_WAIT: Duration = Duration::from_millis(500);
const LONGEST_WAIT: Duration = Duration::from_secs(20);

/// How long a request may keep being retried.
pub fn budget(msg: &Outgoing) -> Duration {
    match msg {
        Outgoing::Typing { .. } => Duration::ZERO,
        Outgoing::Post { .. } | Outgoing::Prompt { .. } => Duration::from_secs(120),
        Outgoing::Edit { .. } | Outgoing::Delete { .. } | Outgoing::ClosePrompt { .. } => {
            Duration::from_secs(20)
        }
    }
}

/// The wait before attempt `attempt + 1`, or `None` if the error is final.
pub fn wait_before_retry(error: &serenity::Error, attempt: u32) -> Option<Duration> {
    retryable(error).then(|| backoff(attempt))
}

fn retryable(error: &serenity::Error) -> bool {
    match error {
        serenity::Error::Http(HttpError::UnsuccessfulRequest(response)) => {
            let status = response.status_code.as_u16();
            status == 429 || (500..600).contains(&status)
        }
        serenity::Error::Http(HttpError::Request(e)) => e.is_timeout() || e.is_connect(),
        _ => false,
    }
}

fn backoff(attempt: u32) -> Duration {
    FIRST_WAIT
        .saturating_mul(2u32.saturating_pow(attempt))
        .min(LONGEST_WAIT)
}

/// The REST client: rustls, as serenity builds it, with a deadline.
pub fn http_client(deadline: Duration) -> reqwest::Client {
    reqwest::Client::builder()
        .use_rustls_tls()
        .connect_timeout(deadline)
        .timeout(deadline)
        .build()
        .unwrap_or_else(|e| {
            tracing::warn!(error = %e, "cannot build the REST client with a deadline; using the default");
            reqwest::Client::new()
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_grow_and_are_capped() {
        assert_eq!(backoff(0), Duration::from_millis(500));
        assert_eq!(backoff(1), Duration::from_secs(1));
        assert_eq!(backoff(3), Duration::from_secs(4));
        assert_eq!(backoff(10), LONGEST_WAIT);
        assert_eq!(backoff(u32::MAX), LONGEST_WAIT);
    }

    #[test]
    fn answers_get_the_longest_budget_and_typing_none() {
        let channel = crate::domain::ChannelId(1);
        let post = Outgoing::Post {
            channel,
            content: String::new(),
            reply_to: None,
            attachment: None,
            notify: false,
        };
        assert_eq!(budget(&post), Duration::from_secs(120));
        assert_eq!(budget(&Outgoing::Typing { channel }), Duration::ZERO);
    }
}
