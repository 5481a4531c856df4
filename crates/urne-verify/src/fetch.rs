//! A board's public log fetched over its HTTP API (spec/13) into an [`Archive`].

use urne_client::{BoardClient, ClientError};
use urne_log::Checkpoint;
use urne_log::note::Note;

use crate::archive::Archive;

/// Why a board's log could not be fetched.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FetchError {
    /// The board did not answer as spec/13 says.
    #[error(transparent)]
    Client(#[from] ClientError),
    /// The board's verifier key is not the one the caller trusts.
    #[error("the board serves the key {served:?}, not the key given ({given:?})")]
    OtherKey {
        /// What the board says.
        served: String,
        /// What the caller gave.
        given: String,
    },
    /// The served checkpoint is not a checkpoint (its signature is the verifier's to check).
    #[error("the board's checkpoint: {0}")]
    Checkpoint(String),
    /// The board served fewer entries than its checkpoint covers.
    #[error("the checkpoint covers {size} entries, the board served {served}")]
    Short {
        /// Entries in the checkpoint.
        size: u64,
        /// Entries served.
        served: u64,
    },
}

/// The board's log up to its newest checkpoint. With `prior` (the state an earlier run kept,
/// spec/50 §50.6), only the entries after it are fetched, appended to its entries, and its
/// newest checkpoint is kept before the board's, so the verifier proves the old entries
/// unchanged. `board_vkey`, got out of band, must be the board's; None takes the board's
/// word for its own key (the report then only proves the log self-consistent).
pub fn fetch(
    client: &BoardClient,
    board_vkey: Option<&str>,
    prior: Option<&Archive>,
) -> Result<Archive, FetchError> {
    let served = client.board_info()?.vkey;
    if let Some(given) = board_vkey
        && given.trim() != served.trim()
    {
        return Err(FetchError::OtherKey {
            served,
            given: given.to_owned(),
        });
    }
    let text = client.checkpoint_text()?;
    let note = Note::parse(text.as_bytes()).map_err(|e| FetchError::Checkpoint(e.to_string()))?;
    let size = Checkpoint::parse(note.text())
        .map_err(|e| FetchError::Checkpoint(e.to_string()))?
        .size();
    let (mut entries, mut checkpoints) = match prior {
        Some(prior) => (
            prior.entries.clone(),
            prior.checkpoints.last().cloned().into_iter().collect(),
        ),
        None => (Vec::new(), Vec::new()),
    };
    let start = entries.len() as u64;
    if start < size {
        entries.extend(client.entries(start, size)?.into_iter().map(|e| e.record));
    }
    if entries.len() as u64 != size.max(start) {
        return Err(FetchError::Short {
            size,
            served: entries.len() as u64,
        });
    }
    checkpoints.push(text);
    Ok(Archive {
        board_vkey: served,
        checkpoints,
        entries,
    })
}
