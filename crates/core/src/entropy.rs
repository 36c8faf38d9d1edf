//! Randomness for ids (view ids): bytes from the [`Entropy`] port, which the binary fills from the
//! operating system's random source; core never draws them itself.

/// A secure source of random bytes.
pub trait Entropy: Send + Sync {
    /// Fills `bytes` with random bytes.
    fn fill(&self, bytes: &mut [u8]) -> Result<(), EntropyError>;
}

/// The random source failed (never the caller's fault).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the random source failed: {0}")]
pub struct EntropyError(pub String);
