//! The probe client: the real serenity client pointed at a fresh fake, with
//! a tiny handler that reports what it saw and did.

use std::sync::Arc;
use std::time::Duration;

use serenity::all::{
    Client, ClientBuilder, Command, Context, CreateAllowedMentions, CreateAttachment,
    CreateCommand, CreateInteractionResponse, CreateInteractionResponseMessage, CreateMessage,
    EditMessage, EventHandler, GatewayIntents, Guild, Http, HttpBuilder, Interaction, Message,
    Ready, ShardManager,
};
use tokio::sync::mpsc;

use test_support::fake_discord::FakeDiscord;

pub(super) const LIMIT: Duration = Duration::from_secs(10);

#[derive(Debug)]
pub(super) enum Seen {
    Ready {
        application_id: Option<u64>,
    },
    GuildCreate {
        channels: Vec<u64>,
        threads: Vec<u64>,
    },
    Message {
        author_is_bot: bool,
        content: String,
        roles: Vec<u64>,
        attachment: Option<Vec<u8>>,
    },
    Replied(Result<u64, String>),
    Answered {
        options: Vec<String>,
        roles: Vec<u64>,
        result: Result<(), String>,
    },
}

struct Probe {
    bot_id: u64,
    seen: mpsc::UnboundedSender<Seen>,
}

#[serenity::async_trait]
impl EventHandler for Probe {
    async fn ready(&self, ctx: Context, _ready: Ready) {
        let _ = self.seen.send(Seen::Ready {
            application_id: ctx.http.application_id().map(|a| a.get()),
        });
        let _ = Command::set_global_commands(
            &ctx.http,
            vec![CreateCommand::new("ping").description("Ping")],
        )
        .await;
    }

    async fn guild_create(&self, _ctx: Context, guild: Guild, _is_new: Option<bool>) {
        let channels = guild.channels.keys().map(|c| c.get()).collect();
        let threads = guild.threads.iter().map(|t| t.id.get()).collect();
        let _ = self.seen.send(Seen::GuildCreate { channels, threads });
    }

    async fn message(&self, ctx: Context, msg: Message) {
        let attachment = match msg.attachments.first() {
            Some(a) => a.download().await.ok(),
            None => None,
        };
        let _ = self.seen.send(Seen::Message {
            author_is_bot: msg.author.bot,
            content: msg.content.clone(),
            roles: msg
                .member
                .as_ref()
                .map(|m| m.roles.iter().map(|r| r.get()).collect())
                .unwrap_or_default(),
            attachment,
        });
        if msg.author.bot || !msg.mentions.iter().any(|u| u.id.get() == self.bot_id) {
            return;
        }
        let _ = self.seen.send(Seen::Replied(
            reply(&ctx, &msg).await.map_err(|e| e.to_string()),
        ));
    }

    async fn interaction_create(&self, ctx: Context, interaction: Interaction) {
        if let Interaction::Command(command) = interaction {
            let answer = CreateInteractionResponse::Message(
                CreateInteractionResponseMessage::new()
                    .content(format!("pong {}", command.data.name)),
            );
            let options = command
                .data
                .options
                .iter()
                .map(|o| format!("{}={:?}", o.name, o.value))
                .collect();
            let roles = command
                .member
                .as_ref()
                .map(|m| m.roles.iter().map(|r| r.get()).collect())
                .unwrap_or_default();
            let result = command
                .create_response(&ctx.http, answer)
                .await
                .map_err(|e| e.to_string());
            let _ = self.seen.send(Seen::Answered {
                options,
                roles,
                result,
            });
        }
    }
}

/// Typing, then a reply that pings nobody; the words "edit", "delete" and
/// "file" in the message ask for an edit, a deletion or an upload.
async fn reply(ctx: &Context, msg: &Message) -> serenity::Result<u64> {
    msg.channel_id.broadcast_typing(&ctx.http).await?;
    let mut create = CreateMessage::new()
        .content(format!("echo: {}", msg.content))
        .allowed_mentions(CreateAllowedMentions::new())
        .reference_message(msg);
    if msg.content.contains("file") {
        create = create.add_file(CreateAttachment::bytes(
            b"whole answer".to_vec(),
            "answer.md",
        ));
    }
    let mut sent = msg.channel_id.send_message(&ctx.http, create).await?;
    if msg.content.contains("edit") {
        sent.edit(&ctx.http, EditMessage::new().content("edited answer"))
            .await?;
    }
    if msg.content.contains("delete") {
        sent.delete(&ctx.http).await?;
    }
    Ok(sent.id.get())
}

pub(super) struct Running {
    pub(super) fake: FakeDiscord,
    pub(super) channel: u64,
    pub(super) thread: u64,
    seen: mpsc::UnboundedReceiver<Seen>,
    backlog: Vec<Seen>,
    shards: Arc<ShardManager>,
    pub(super) http: Arc<Http>,
}

pub(super) fn intents() -> GatewayIntents {
    GatewayIntents::GUILDS | GatewayIntents::GUILD_MESSAGES | GatewayIntents::DIRECT_MESSAGES
}

pub(super) async fn start() -> Running {
    let fake = FakeDiscord::start().await;
    let (channel, thread) = (fake.new_id(), fake.new_id());
    fake.add_channel(channel, "project-a");
    fake.add_thread(thread, channel);
    let http = HttpBuilder::new(fake.token())
        .proxy(fake.api_base())
        .ratelimiter_disabled(true)
        .build();
    let (tx, seen) = mpsc::unbounded_channel();
    let probe = Probe {
        bot_id: fake.bot_user_id(),
        seen: tx,
    };
    let mut client: Client = ClientBuilder::new_with_http(http, intents())
        .event_handler(probe)
        .await
        .expect("client builds");
    let shards = Arc::clone(&client.shard_manager);
    let http = Arc::clone(&client.http);
    tokio::spawn(async move {
        let _ = client.start().await;
    });
    fake.wait_ready(LIMIT).await;
    Running {
        fake,
        channel,
        thread,
        seen,
        backlog: Vec::new(),
        shards,
        http,
    }
}

impl Running {
    /// The first event `pick` accepts; handler tasks run concurrently, so
    /// events it skips are kept for later calls.
    pub(super) async fn next(&mut self, what: &str, pick: impl Fn(&Seen) -> bool) -> Seen {
        if let Some(index) = self.backlog.iter().position(&pick) {
            return self.backlog.remove(index);
        }
        let deadline = tokio::time::Instant::now() + LIMIT;
        loop {
            match tokio::time::timeout_at(deadline, self.seen.recv()).await {
                Ok(Some(seen)) if pick(&seen) => return seen,
                Ok(Some(seen)) => self.backlog.push(seen),
                _ => panic!(
                    "the probe handler never saw {what}; requests: {:#?}",
                    self.fake.requests()
                ),
            }
        }
    }

    pub(super) async fn stop(self) {
        self.shards.shutdown_all().await;
        self.fake.shutdown().await;
    }
}
