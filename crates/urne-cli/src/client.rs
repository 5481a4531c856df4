//! Talking to a board over HTTP, and checking what it says against its key.

use std::time::Duration;

use urne_log::note::{CosignatureVerifier, Note, NoteVerifier, count_cosignatures};
use urne_log::{Checkpoint, Hash};

/// A board's URL and the keys a client trusts for it.
pub struct BoardClient {
    base: String,
    agent: ureq::Agent,
}

impl BoardClient {
    /// A client for the board at `base` (`http://127.0.0.1:8400`).
    pub fn new(base: &str) -> Self {
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(30)))
            .build()
            .new_agent();
        Self {
            base: base.trim_end_matches('/').to_owned(),
            agent,
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// GET, returning status and body.
    pub fn get(&self, path: &str) -> Result<(u16, Vec<u8>), String> {
        let mut response = self
            .agent
            .get(&self.url(path))
            .call()
            .map_err(|e| format!("GET {path}: {e}"))?;
        let status = response.status().as_u16();
        let body = response
            .body_mut()
            .with_config()
            .limit(64 << 20)
            .read_to_vec()
            .map_err(|e| e.to_string())?;
        Ok((status, body))
    }

    /// POST bytes, returning status and body.
    pub fn post(
        &self,
        path: &str,
        content_type: &str,
        body: &[u8],
    ) -> Result<(u16, Vec<u8>), String> {
        let mut response = self
            .agent
            .post(&self.url(path))
            .header("content-type", content_type)
            .send(body)
            .map_err(|e| format!("POST {path}: {e}"))?;
        let status = response.status().as_u16();
        let body = response
            .body_mut()
            .read_to_vec()
            .map_err(|e| e.to_string())?;
        Ok((status, body))
    }

    /// GET that must succeed; a JSON error body becomes the message.
    pub fn get_ok(&self, path: &str) -> Result<Vec<u8>, String> {
        let (status, body) = self.get(path)?;
        if status != 200 {
            return Err(format!(
                "GET {path}: {status} {}",
                String::from_utf8_lossy(&body)
            ));
        }
        Ok(body)
    }

    /// The latest checkpoint, verified with the board's key, and the witnesses that
    /// cosigned it (if `quorum` > 0, at least that many, or an error).
    pub fn checkpoint(
        &self,
        board: &NoteVerifier,
        witnesses: &[CosignatureVerifier],
        quorum: usize,
    ) -> Result<(Checkpoint, String, usize), String> {
        let path = if quorum > 0 {
            format!("/v1/checkpoint?quorum={quorum}")
        } else {
            "/checkpoint".to_owned()
        };
        let text = String::from_utf8(self.get_ok(&path)?)
            .map_err(|_| "checkpoint is not UTF-8".to_owned())?;
        let note = Note::parse(text.as_bytes()).map_err(|e| format!("checkpoint note: {e}"))?;
        let checkpoint = Checkpoint::open(&note, board).map_err(|e| format!("checkpoint: {e}"))?;
        let cosigned = count_cosignatures(&note, witnesses);
        if cosigned < quorum {
            return Err(format!(
                "checkpoint cosigned by {cosigned} known witnesses, {quorum} required"
            ));
        }
        Ok((checkpoint, text, cosigned))
    }

    /// A consistency proof.
    pub fn consistency(&self, first: u64, second: u64) -> Result<Vec<Hash>, String> {
        let body = self.get_ok(&format!(
            "/v1/proof/consistency?first={first}&second={second}"
        ))?;
        hashes_field(&body, "proof")
    }
}

/// A JSON array of hex hashes under `field`.
pub fn hashes_field(body: &[u8], field: &str) -> Result<Vec<Hash>, String> {
    let value: serde_json::Value =
        serde_json::from_slice(body).map_err(|e| format!("response is not JSON: {e}"))?;
    value[field]
        .as_array()
        .ok_or_else(|| format!("response has no {field}"))?
        .iter()
        .map(|h| {
            h.as_str()
                .and_then(Hash::from_hex)
                .ok_or_else(|| format!("{field}: not a hash"))
        })
        .collect()
}

impl urne_witness::BoardSource for BoardClient {
    fn checkpoint(&mut self) -> Result<String, String> {
        String::from_utf8(self.get_ok("/checkpoint")?)
            .map_err(|_| "checkpoint is not UTF-8".to_owned())
    }

    fn consistency(&mut self, first: u64, second: u64) -> Result<Vec<Hash>, String> {
        BoardClient::consistency(self, first, second)
    }

    fn submit_cosignature(&mut self, note: &str) -> Result<(), String> {
        let (status, body) = self.post(
            "/v1/cosignatures",
            "text/plain; charset=utf-8",
            note.as_bytes(),
        )?;
        if status != 200 {
            return Err(format!(
                "board refused the cosignature: {status} {}",
                String::from_utf8_lossy(&body)
            ));
        }
        Ok(())
    }
}
