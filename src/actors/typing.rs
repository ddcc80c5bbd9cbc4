//! TypingActor: one per process. Keeps Discord's typing indicator alive in
//! every channel with a running request by renewing it on a fixed tick
//! (Discord drops it after about 10 s).
//!
//! Handles: `StartTyping`, `StopTyping`, `TypingTick`.

use super::messages::{Outgoing, StartTyping, StopTyping, TypingTick};
use crate::domain::ChannelId;
use actix::prelude::*;
use std::collections::BTreeSet;
use std::time::Duration;

/// Discord drops the indicator after about 10 s.
pub const TYPING_INTERVAL: Duration = Duration::from_secs(8);

pub struct TypingActor {
    discord: Recipient<Outgoing>,
    interval: Duration,
    active: BTreeSet<ChannelId>,
    ticking: bool,
}

impl TypingActor {
    pub fn new(discord: Recipient<Outgoing>, interval: Duration) -> Self {
        Self {
            discord,
            interval,
            active: BTreeSet::new(),
            ticking: false,
        }
    }

    fn send_typing(&self, channel: ChannelId) {
        // Typing is advisory: a refusal is not worth an error id, so no reply is awaited.
        self.discord.do_send(Outgoing::Typing { channel });
    }
}

impl Actor for TypingActor {
    type Context = Context<Self>;
}

impl Handler<StartTyping> for TypingActor {
    type Result = ();

    fn handle(&mut self, StartTyping(channel): StartTyping, ctx: &mut Self::Context) {
        // The timer starts with the first use, not in `started`: an actor
        // dropped unpolled (the daemon failing at start) runs `started` on
        // its way out, when there is no runtime left to hold a timer.
        if !self.ticking {
            self.ticking = true;
            ctx.run_interval(self.interval, |_, ctx| ctx.notify(TypingTick));
        }
        if self.active.insert(channel) {
            self.send_typing(channel);
        }
    }
}

impl Handler<StopTyping> for TypingActor {
    type Result = ();

    fn handle(&mut self, StopTyping(channel): StopTyping, _: &mut Self::Context) {
        self.active.remove(&channel);
    }
}

impl Handler<TypingTick> for TypingActor {
    type Result = usize;

    /// Returns how many channels were renewed.
    fn handle(&mut self, _: TypingTick, _: &mut Self::Context) -> usize {
        for channel in &self.active {
            self.send_typing(*channel);
        }
        self.active.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::actors::recorder::{Recording, RecordingDiscord};

    const NEVER: Duration = Duration::from_secs(3600);
    const LIMIT: Duration = Duration::from_secs(5);

    fn typing_count(events: &[Outgoing], channel: u64) -> usize {
        events
            .iter()
            .filter(|e| matches!(e, Outgoing::Typing { channel: c } if c.get() == channel))
            .count()
    }

    fn start(interval: Duration) -> (Addr<TypingActor>, Recording) {
        let (discord, recording) = RecordingDiscord::new();
        let discord = discord.start().recipient();
        (TypingActor::new(discord, interval).start(), recording)
    }

    #[actix_rt::test]
    async fn start_types_at_once_and_each_tick_renews() {
        let (typing, rec) = start(NEVER);
        typing.send(StartTyping(ChannelId(1))).await.unwrap();
        rec.wait_for(LIMIT, |e| typing_count(e, 1) == 1).await;
        assert_eq!(typing.send(TypingTick).await.unwrap(), 1);
        assert_eq!(typing.send(TypingTick).await.unwrap(), 1);
        rec.wait_for(LIMIT, |e| typing_count(e, 1) == 3).await;
    }

    #[actix_rt::test]
    async fn a_stopped_channel_is_not_renewed_and_stopping_twice_is_harmless() {
        let (typing, rec) = start(NEVER);
        typing.send(StartTyping(ChannelId(1))).await.unwrap();
        typing.send(StopTyping(ChannelId(1))).await.unwrap();
        typing.send(StopTyping(ChannelId(1))).await.unwrap();
        assert_eq!(typing.send(TypingTick).await.unwrap(), 0);
        typing.send(StartTyping(ChannelId(2))).await.unwrap();
        rec.wait_for(LIMIT, |e| typing_count(e, 2) == 1).await;
        assert_eq!(typing_count(&rec.events(), 1), 1);
    }

    #[actix_rt::test]
    async fn many_channels_are_renewed_on_each_tick() {
        let (typing, rec) = start(NEVER);
        for id in 1..=50 {
            typing.send(StartTyping(ChannelId(id))).await.unwrap();
        }
        typing.send(StopTyping(ChannelId(7))).await.unwrap();
        assert_eq!(typing.send(TypingTick).await.unwrap(), 49);
        let events = rec.wait_for(LIMIT, |e| e.len() == 50 + 49).await;
        assert_eq!(typing_count(&events, 7), 1);
        assert_eq!(typing_count(&events, 8), 2);
    }

    #[actix_rt::test]
    async fn starting_an_active_channel_again_does_not_double_the_signal() {
        let (typing, rec) = start(NEVER);
        typing.send(StartTyping(ChannelId(3))).await.unwrap();
        typing.send(StartTyping(ChannelId(3))).await.unwrap();
        assert_eq!(typing.send(TypingTick).await.unwrap(), 1);
        rec.wait_for(LIMIT, |e| typing_count(e, 3) == 2).await;
    }

    #[actix_rt::test]
    async fn the_timer_renews_without_being_asked() {
        let (typing, rec) = start(Duration::from_millis(20));
        typing.send(StartTyping(ChannelId(9))).await.unwrap();
        rec.wait_for(LIMIT, |e| typing_count(e, 9) >= 3).await;
        typing.send(StopTyping(ChannelId(9))).await.unwrap();
        assert_eq!(typing.send(TypingTick).await.unwrap(), 0);
    }
}
