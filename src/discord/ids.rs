//! The one place serenity's ids and the domain's newtypes meet.

use crate::domain::{ChannelId, GuildId, MessageId, RoleId, UserId};
use serenity::all as s;

macro_rules! convert {
    ($ours:ident, $theirs:ident) => {
        impl From<s::$theirs> for $ours {
            fn from(id: s::$theirs) -> Self {
                $ours(id.get())
            }
        }

        impl From<$ours> for s::$theirs {
            fn from(id: $ours) -> Self {
                s::$theirs::new(id.get())
            }
        }
    };
}

convert!(ChannelId, ChannelId);
convert!(GuildId, GuildId);
convert!(MessageId, MessageId);
convert!(RoleId, RoleId);
convert!(UserId, UserId);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_keep_their_value_both_ways() {
        let ours = ChannelId(123_456_789_012_345_678);
        let theirs: s::ChannelId = ours.into();
        assert_eq!(theirs.get(), 123_456_789_012_345_678);
        assert_eq!(ChannelId::from(theirs), ours);
        assert_eq!(UserId::from(s::UserId::new(7)), UserId(7));
        assert_eq!(s::MessageId::from(MessageId(9)).get(), 9);
    }
}
