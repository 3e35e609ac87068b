//! [`ShortStr`]: a string kept inline when it is short, for the request ids
//! the samples keep (one per kept call: a heap allocation each was a visible
//! share of the per-call cost).

use std::cmp::Ordering;
use std::fmt;
use std::ops::Deref;

/// Bytes kept inline: `req_000000001`, `chatcmpl-…` prefixes and UUIDs
/// without dashes fit; longer ids go to the heap.
const INLINE: usize = 22;

/// An immutable string, inline up to 22 bytes. Compares, orders, hashes and
/// prints as its text.
#[derive(Clone)]
pub struct ShortStr(Repr);

#[derive(Clone)]
enum Repr {
    Inline { len: u8, bytes: [u8; INLINE] },
    Heap(Box<str>),
}

impl ShortStr {
    pub fn as_str(&self) -> &str {
        match &self.0 {
            // Copied from a `str` whole, so valid UTF-8.
            Repr::Inline { len, bytes } => {
                std::str::from_utf8(&bytes[..usize::from(*len)]).expect("copied from a str")
            }
            Repr::Heap(s) => s,
        }
    }

    /// The text's bytes, without reading them back as text (comparing
    /// these orders as `str` does).
    pub fn as_bytes(&self) -> &[u8] {
        match &self.0 {
            Repr::Inline { len, bytes } => &bytes[..usize::from(*len)],
            Repr::Heap(s) => s.as_bytes(),
        }
    }
}

impl From<&str> for ShortStr {
    fn from(s: &str) -> ShortStr {
        if s.len() <= INLINE {
            let mut bytes = [0; INLINE];
            bytes[..s.len()].copy_from_slice(s.as_bytes());
            ShortStr(Repr::Inline {
                len: s.len() as u8,
                bytes,
            })
        } else {
            ShortStr(Repr::Heap(s.into()))
        }
    }
}

impl Deref for ShortStr {
    type Target = str;
    fn deref(&self) -> &str {
        self.as_str()
    }
}

// Byte order is `str` order, and cheaper than reading the text back.
impl Ord for ShortStr {
    fn cmp(&self, other: &ShortStr) -> Ordering {
        self.as_bytes().cmp(other.as_bytes())
    }
}

impl PartialOrd for ShortStr {
    fn partial_cmp(&self, other: &ShortStr) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for ShortStr {
    fn eq(&self, other: &ShortStr) -> bool {
        self.as_bytes() == other.as_bytes()
    }
}

impl Eq for ShortStr {}

impl std::hash::Hash for ShortStr {
    fn hash<H: std::hash::Hasher>(&self, h: &mut H) {
        self.as_str().hash(h);
    }
}

impl fmt::Debug for ShortStr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl fmt::Display for ShortStr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl crate::wire::Wire for ShortStr {
    fn put(&self, w: &mut Vec<u8>) {
        crate::wire::put_str(w, self.as_str());
    }
    fn get(r: &mut crate::wire::Reader<'_>) -> crate::wire::Result<Self> {
        crate::wire::get_str(r).map(ShortStr::from)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_and_long_strings_behave_as_their_text() {
        let texts = [
            "",
            "a",
            "req_000000001",
            "exactly-twenty-two-b22",
            "twenty-three-bytes-xx23",
            "chatcmpl-9f8e7d6c5b4a39281706f5e4d3c2b1a0",
            "héllo wörld ✓",
        ];
        for a in texts {
            let s = ShortStr::from(a);
            assert_eq!(s.as_str(), a);
            assert_eq!(s.to_string(), a);
            assert_eq!(format!("{s:?}"), format!("{a:?}"));
            for b in texts {
                let t = ShortStr::from(b);
                assert_eq!(s.cmp(&t), a.cmp(b), "{a} vs {b}");
                assert_eq!(s == t, a == b);
            }
        }
        assert!(matches!(
            ShortStr::from("exactly-twenty-two-b22").0,
            Repr::Inline { .. }
        ));
        assert!(matches!(
            ShortStr::from("twenty-three-bytes-xx23").0,
            Repr::Heap(_)
        ));
    }
}
