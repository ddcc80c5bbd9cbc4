//! An image a user attached, known by its bytes: Discord's `content_type`
//! comes from the file's name, so neither is trusted. The bytes are shared,
//! not copied, on their way from the download to the CLI's stdin.

use std::sync::Arc;

/// The formats Claude takes as image blocks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImageKind {
    Png,
    Jpeg,
    Gif,
    Webp,
}

impl ImageKind {
    /// The format these bytes begin with, if it is one of the four.
    pub fn sniff(bytes: &[u8]) -> Option<Self> {
        match bytes {
            [0x89, b'P', b'N', b'G', b'\r', b'\n', 0x1a, b'\n', ..] => Some(Self::Png),
            [0xff, 0xd8, 0xff, ..] => Some(Self::Jpeg),
            [b'G', b'I', b'F', b'8', b'7' | b'9', b'a', ..] => Some(Self::Gif),
            [
                b'R',
                b'I',
                b'F',
                b'F',
                _,
                _,
                _,
                _,
                b'W',
                b'E',
                b'B',
                b'P',
                ..,
            ] => Some(Self::Webp),
            _ => None,
        }
    }

    pub fn media_type(self) -> &'static str {
        match self {
            Self::Png => "image/png",
            Self::Jpeg => "image/jpeg",
            Self::Gif => "image/gif",
            Self::Webp => "image/webp",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Image {
    pub kind: ImageKind,
    pub bytes: Arc<[u8]>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_format_is_known_by_its_first_bytes() {
        let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR";
        assert_eq!(ImageKind::sniff(png), Some(ImageKind::Png));
        assert_eq!(
            ImageKind::sniff(b"\xff\xd8\xff\xe0\0\x10JFIF"),
            Some(ImageKind::Jpeg)
        );
        assert_eq!(ImageKind::sniff(b"GIF89a\x01\0"), Some(ImageKind::Gif));
        assert_eq!(ImageKind::sniff(b"GIF87a\x01\0"), Some(ImageKind::Gif));
        assert_eq!(
            ImageKind::sniff(b"RIFF\x24\0\0\0WEBPVP8 "),
            Some(ImageKind::Webp)
        );
        assert_eq!(ImageKind::Webp.media_type(), "image/webp");
    }

    #[test]
    fn text_lookalikes_and_truncated_headers_are_not_images() {
        for bytes in [
            &b"PNG is a format"[..],
            b"\x89PNG",
            b"GIF88a",
            b"RIFF\x24\0\0\0WAVEfmt ",
            b"",
            b"hello",
        ] {
            assert_eq!(ImageKind::sniff(bytes), None, "{bytes:?}");
        }
    }
}
