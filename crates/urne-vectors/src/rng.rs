//! A deterministic randomness source for the protocol vectors (ceremony, tally), whose
//! APIs take an RNG rather than a list of nonces.
//!
//! Its output is SHA-512("urne/v1/test-vectors/rng/" ‖ name ‖ u64 counter), block after
//! block, so the files regenerate byte for byte on every machine and with every version
//! of `rand`. It is not a cryptographic RNG for anything but test vectors: its seed is a
//! public name.

use core::convert::Infallible;

use sha2::{Digest, Sha512};
use urne_crypto::rand_core::{TryCryptoRng, TryRng};

/// The deterministic stream named `name`.
pub(crate) struct VectorRng {
    name: String,
    counter: u64,
    block: [u8; 64],
    used: usize,
}

impl VectorRng {
    pub(crate) fn new(name: &str) -> Self {
        Self {
            name: name.to_owned(),
            counter: 0,
            block: [0; 64],
            used: 64,
        }
    }

    fn refill(&mut self) {
        let digest = Sha512::new()
            .chain_update(b"urne/v1/test-vectors/rng/")
            .chain_update(self.name.as_bytes())
            .chain_update(self.counter.to_be_bytes())
            .finalize();
        self.block.copy_from_slice(&digest);
        self.counter += 1;
        self.used = 0;
    }
}

impl TryRng for VectorRng {
    type Error = Infallible;

    fn try_next_u32(&mut self) -> Result<u32, Infallible> {
        let mut bytes = [0u8; 4];
        self.try_fill_bytes(&mut bytes)?;
        Ok(u32::from_le_bytes(bytes))
    }

    fn try_next_u64(&mut self) -> Result<u64, Infallible> {
        let mut bytes = [0u8; 8];
        self.try_fill_bytes(&mut bytes)?;
        Ok(u64::from_le_bytes(bytes))
    }

    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Infallible> {
        for byte in dst {
            if self.used == self.block.len() {
                self.refill();
            }
            *byte = self.block[self.used];
            self.used += 1;
        }
        Ok(())
    }
}

impl TryCryptoRng for VectorRng {}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use urne_crypto::rand_core::Rng;

    #[test]
    fn the_stream_depends_on_its_name_only() {
        let mut a = VectorRng::new("a");
        let mut again = VectorRng::new("a");
        let mut b = VectorRng::new("b");
        let mut x = [0u8; 100];
        let mut y = [0u8; 100];
        let mut z = [0u8; 100];
        a.fill_bytes(&mut x);
        again.fill_bytes(&mut y);
        b.fill_bytes(&mut z);
        assert_eq!(x, y);
        assert_ne!(x, z);
        // Blocks follow each other: the 65th byte is the first of block 1.
        let block1 = Sha512::new()
            .chain_update(b"urne/v1/test-vectors/rng/a")
            .chain_update(1u64.to_be_bytes())
            .finalize();
        assert_eq!(x[64], block1[0]);
    }
}
