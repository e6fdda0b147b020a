//! Errors for bad input: each names what was wrong and what is allowed.

#[derive(Clone, PartialEq, Eq)]
pub struct Error(pub String);

impl Error {
    pub fn new(text: impl Into<String>) -> Self {
        Error(text.into())
    }
}

/// Written as it reads, without `str`'s escaping: `Debug` of a string brings the Unicode
/// printable tables into the page (about 9 KB gzip), and an `expect` on our `Result` is
/// the only place this is called.
impl std::fmt::Debug for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Error({})", self.0)
    }
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Error {}

pub type Result<T> = std::result::Result<T, Error>;
