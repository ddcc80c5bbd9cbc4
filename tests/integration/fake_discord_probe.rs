//! Probes the fake Discord with the real serenity client: the handshake, a
//! mention answered with typing and a reply, edits, deletes, uploads,
//! downloads, an injected error, a slash command and a resume. A test of the
//! fake, so the handler is tiny.

mod harness;
mod messages;
mod poise;
mod sessions;
