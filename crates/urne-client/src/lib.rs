//! The HTTP client of an urne board (spec/13 for the interface, spec/15 §2 for this
//! client's rules), shared by the `urne` command, the witness, the end-to-end tests and the
//! verifier; and of a witness's C2SP `add-checkpoint` endpoint, which a board pushes its
//! checkpoints to (spec/14 §14.2).
//!
//! It speaks HTTPS through rustls and refuses plain `http://` to anything but a loopback
//! address unless told otherwise, follows no redirects, bounds every request in time and
//! every answer in size, and turns every failure into a [`ClientError`] naming the URL and,
//! when the board answered with its JSON error, the board's error code. It checks what the
//! board signs (checkpoints, quorums) but leaves proof verification to `urne_log`: it
//! fetches, it never decides that a proof is good.
//!
//! It must never open a listening socket, hold state about a board beyond one call, or
//! trust a proof it was handed.

use std::net::IpAddr;
use std::time::{Duration, Instant};

use serde::Deserialize;
use urne_log::note::{CosignatureVerifier, Note, NoteSignature, NoteVerifier, count_cosignatures};
use urne_log::tiles::TilePath;
use urne_log::witness_protocol::{
    ADD_CHECKPOINT_PATH, MAX_RESPONSE_BYTES, SIZE_CONTENT_TYPE, encode_request, parse_cosignatures,
    parse_size,
};
use urne_log::{Checkpoint, Hash};

/// What went wrong talking to a board. Every variant names the URL it was about.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ClientError {
    /// The board URL given is not one (no scheme, no host, a path or query in it).
    #[error("{url}: not a board URL: {reason}")]
    BadUrl {
        /// The URL as given.
        url: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// Plain `http://` to a host that is not loopback, without explicit permission.
    #[error(
        "{url}: plain http:// is allowed only to a loopback address (127.0.0.0/8, ::1, localhost); use https://, or allow plain http explicitly"
    )]
    PlainHttp {
        /// The URL as given.
        url: String,
    },
    /// No answer: connection refused, DNS, TLS, timeout, a body cut short.
    #[error("{method} {url}: {message}")]
    Transport {
        /// GET or POST.
        method: &'static str,
        /// The full URL.
        url: String,
        /// ureq's description of the failure.
        message: String,
    },
    /// The board answered with its JSON error (spec/13): its status and code.
    #[error("{method} {url}: the board answered {status} {code}: {message}{}", field.as_ref().map(|f| format!(" (field {f})")).unwrap_or_default())]
    Board {
        /// GET or POST.
        method: &'static str,
        /// The full URL.
        url: String,
        /// The HTTP status.
        status: u16,
        /// The board's error code (`not-found`, `invalid-body`, …).
        code: String,
        /// The board's message.
        message: String,
        /// The field at fault, when the board named one.
        field: Option<String>,
    },
    /// An unexpected status without the board's JSON error body (a proxy's page, say).
    #[error("{method} {url}: unexpected status {status}: {excerpt}")]
    Status {
        /// GET or POST.
        method: &'static str,
        /// The full URL.
        url: String,
        /// The HTTP status.
        status: u16,
        /// The first bytes of the body, lossily decoded.
        excerpt: String,
    },
    /// A 2xx answer whose body is not what spec/13 says it is.
    #[error("{url}: malformed answer: {what}")]
    Malformed {
        /// The full URL.
        url: String,
        /// What was wrong.
        what: String,
    },
    /// The checkpoint's signature, origin or text failed against the board key given.
    #[error("{url}: checkpoint refused: {what}")]
    Checkpoint {
        /// The full URL.
        url: String,
        /// Why.
        what: String,
    },
    /// Fewer known witnesses cosigned the checkpoint than required.
    #[error("{url}: checkpoint cosigned by {cosigned} known witnesses, {required} required")]
    Quorum {
        /// The full URL.
        url: String,
        /// Known witnesses that cosigned.
        cosigned: usize,
        /// Required.
        required: usize,
    },
    /// A record is on the board, but no signed checkpoint covered it before the deadline.
    #[error(
        "{url}: record {hash} is entry {index}, but after {waited:?} the newest checkpoint covers {size} entries"
    )]
    NotYetCheckpointed {
        /// The board URL.
        url: String,
        /// The record's leaf hash.
        hash: Hash,
        /// Its index in the log.
        index: u64,
        /// The size of the newest checkpoint seen.
        size: u64,
        /// How long the client waited.
        waited: Duration,
    },
}

impl ClientError {
    /// The board's error code, when the board answered with one.
    pub fn board_code(&self) -> Option<&str> {
        match self {
            Self::Board { code, .. } => Some(code),
            _ => None,
        }
    }
}

/// How a client reaches a board.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct ClientOptions {
    /// Longest a whole request may take, connection to last byte.
    pub timeout: Duration,
    /// Longest the connection (DNS, TCP, TLS) may take.
    pub connect_timeout: Duration,
    /// Largest answer body read, in bytes.
    pub max_body: u64,
    /// Allow `http://` to hosts that are not loopback (a board behind a private network
    /// the operator trusts). Off by default: checkpoints are signed, but records and
    /// submissions would travel in the clear and could be dropped or replayed unseen.
    pub allow_plain_http: bool,
}

impl Default for ClientOptions {
    fn default() -> Self {
        Self {
            timeout: Duration::from_secs(30),
            connect_timeout: Duration::from_secs(10),
            // A bundle of 256 records of at most 64 KiB, with room for JSON pages of hex.
            max_body: 64 << 20,
            allow_plain_http: false,
        }
    }
}

impl ClientOptions {
    /// The defaults, with plain `http://` to any host allowed or not.
    pub fn allowing_plain_http(allow: bool) -> Self {
        Self {
            allow_plain_http: allow,
            ..Self::default()
        }
    }
}

/// A signed checkpoint, checked against the board's key, with its text and how many
/// known witnesses cosigned it.
#[derive(Clone, Debug)]
pub struct VerifiedCheckpoint {
    /// The checkpoint.
    pub checkpoint: Checkpoint,
    /// The note as served (to keep for a later consistency check).
    pub text: String,
    /// Known witnesses whose cosignatures verified.
    pub cosigned: usize,
}

/// An inclusion proof as the board serves it (not yet verified).
#[derive(Clone, Debug, Deserialize)]
pub struct InclusionProof {
    /// The entry's index.
    pub index: u64,
    /// The tree size the proof is for.
    pub size: u64,
    /// The leaf hash the board says is at `index`.
    #[serde(deserialize_with = "hash_hex")]
    pub leaf: Hash,
    /// The root the board says the tree of `size` has.
    #[serde(deserialize_with = "hash_hex")]
    pub root: Hash,
    /// The audit path.
    #[serde(deserialize_with = "hashes_hex")]
    pub proof: Vec<Hash>,
}

#[derive(Deserialize)]
struct ConsistencyBody {
    #[allow(
        dead_code,
        reason = "spec/13 sends it; the caller knows what it asked for"
    )]
    first: u64,
    #[allow(
        dead_code,
        reason = "spec/13 sends it; the caller knows what it asked for"
    )]
    second: u64,
    #[serde(deserialize_with = "hashes_hex")]
    proof: Vec<Hash>,
}

/// The board's receipt for a record: where it is in the log, once durable.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
pub struct Receipt {
    /// Index of the record in the log.
    pub index: u64,
    /// Its leaf hash.
    #[serde(deserialize_with = "hash_hex")]
    pub hash: Hash,
}

/// One entry of `GET /v1/entries`.
#[derive(Clone, Debug, Deserialize)]
pub struct Entry {
    /// Its index.
    pub index: u64,
    /// Its leaf hash, as the board computed it (not checked here).
    #[serde(deserialize_with = "hash_hex")]
    pub hash: Hash,
    /// The record bytes.
    #[serde(deserialize_with = "bytes_hex")]
    pub record: Vec<u8>,
}

// Answers are read leniently (unknown fields ignored): a board that adds a field to an
// answer must not break the clients already out there. What is read is read strictly.

/// One open context of `GET /v1/contexts`.
#[derive(Clone, Debug, Deserialize)]
pub struct ContextInfo {
    /// The context id, hex.
    pub id: String,
    /// Its name.
    pub name: String,
    /// The authority's public key, hex.
    pub authority: String,
    /// Its type's name (election, petition, sitting).
    pub context_type: String,
    /// Its phase's name.
    pub phase: String,
    /// Index of the record that opened it.
    pub opened_at: u64,
}

/// `GET /v1/board`: who the board says it is (to be checked against keys got out of band).
#[derive(Clone, Debug, Deserialize)]
pub struct BoardInfo {
    /// The log's origin.
    pub origin: String,
    /// The board's verifier key.
    pub vkey: String,
    /// Witness vkeys it gathers cosignatures from.
    pub witnesses: Vec<String>,
    /// Entries in the log (durable, maybe not yet checkpointed).
    pub size: u64,
}

#[derive(Deserialize)]
struct ErrorBody {
    code: String,
    message: String,
    #[serde(default)]
    field: Option<String>,
}

/// A client for one board.
pub struct BoardClient {
    base: String,
    agent: ureq::Agent,
    max_body: u64,
}

impl std::fmt::Debug for BoardClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BoardClient")
            .field("base", &self.base)
            .finish_non_exhaustive()
    }
}

/// Whether a URL's host is a loopback address, where plain HTTP never leaves the machine.
fn is_loopback_host(host: &str) -> bool {
    let bare = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host);
    bare.eq_ignore_ascii_case("localhost")
        || bare.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

impl BoardClient {
    /// A client for the board at `base` (`https://board.example`, or
    /// `http://127.0.0.1:8400`), with the default options.
    pub fn new(base: &str) -> Result<Self, ClientError> {
        Self::with_options(base, &ClientOptions::default())
    }

    /// A client for the board at `base` with these options.
    pub fn with_options(base: &str, options: &ClientOptions) -> Result<Self, ClientError> {
        let (base, agent) = connect(base, options)?;
        Ok(Self {
            base,
            agent,
            max_body: options.max_body,
        })
    }

    /// The board's base URL, without a trailing slash.
    pub fn base(&self) -> &str {
        &self.base
    }
}

/// Checks a base URL against the client's rules (https, or plain http to loopback unless
/// allowed; no query) and makes the agent: no redirects, bounded in time.
fn connect(base: &str, options: &ClientOptions) -> Result<(String, ureq::Agent), ClientError> {
    let trimmed = base.trim_end_matches('/');
    let bad = |reason| ClientError::BadUrl {
        url: base.to_owned(),
        reason,
    };
    let uri: ureq::http::Uri = trimmed.parse().map_err(|_| bad("unparsable"))?;
    let host = uri.host().ok_or_else(|| bad("no host"))?;
    match uri.scheme_str() {
        Some("https") => {}
        Some("http") => {
            if !options.allow_plain_http && !is_loopback_host(host) {
                return Err(ClientError::PlainHttp {
                    url: base.to_owned(),
                });
            }
        }
        _ => return Err(bad("the scheme must be https:// or http://")),
    }
    if uri.query().is_some() {
        return Err(bad("a query has no place in a board URL"));
    }
    let agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        // A redirect could lead from https to http, or to another board: none followed.
        .max_redirects(0)
        .https_only(!options.allow_plain_http && uri.scheme_str() == Some("https"))
        .timeout_global(Some(options.timeout))
        .timeout_connect(Some(options.connect_timeout))
        .user_agent(concat!("urne-client/", env!("CARGO_PKG_VERSION")))
        .build()
        .new_agent();
    Ok((trimmed.to_owned(), agent))
}

impl BoardClient {
    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    fn read(
        &self,
        method: &'static str,
        url: &str,
        mut response: ureq::http::Response<ureq::Body>,
        expected: u16,
    ) -> Result<(ureq::http::HeaderMap, Vec<u8>), ClientError> {
        let status = response.status().as_u16();
        let body = response
            .body_mut()
            .with_config()
            .limit(self.max_body)
            .read_to_vec()
            .map_err(|e| ClientError::Transport {
                method,
                url: url.to_owned(),
                message: format!("reading the answer: {e}"),
            })?;
        if status == expected {
            return Ok((response.headers().clone(), body));
        }
        Err(match serde_json::from_slice::<ErrorBody>(&body) {
            Ok(e) => ClientError::Board {
                method,
                url: url.to_owned(),
                status,
                code: e.code,
                message: e.message,
                field: e.field,
            },
            Err(_) => ClientError::Status {
                method,
                url: url.to_owned(),
                status,
                excerpt: String::from_utf8_lossy(&body[..body.len().min(200)]).into_owned(),
            },
        })
    }

    /// GET `path` (beginning with `/`), expecting 200; the headers and body.
    pub fn get(&self, path: &str) -> Result<(ureq::http::HeaderMap, Vec<u8>), ClientError> {
        let url = self.url(path);
        let response = self
            .agent
            .get(&url)
            .call()
            .map_err(|e| ClientError::Transport {
                method: "GET",
                url: url.clone(),
                message: e.to_string(),
            })?;
        self.read("GET", &url, response, 200)
    }

    /// POST `body` to `path`, expecting `expected`; the answer's body.
    fn post(
        &self,
        path: &str,
        content_type: &str,
        body: &[u8],
        expected: u16,
    ) -> Result<Vec<u8>, ClientError> {
        let url = self.url(path);
        let response = self
            .agent
            .post(&url)
            .header("content-type", content_type)
            .send(body)
            .map_err(|e| ClientError::Transport {
                method: "POST",
                url: url.clone(),
                message: e.to_string(),
            })?;
        Ok(self.read("POST", &url, response, expected)?.1)
    }

    fn get_json<T: for<'de> Deserialize<'de>>(&self, path: &str) -> Result<T, ClientError> {
        let (_, body) = self.get(path)?;
        serde_json::from_slice(&body).map_err(|e| ClientError::Malformed {
            url: self.url(path),
            what: e.to_string(),
        })
    }

    fn get_text(&self, path: &str) -> Result<String, ClientError> {
        let (_, body) = self.get(path)?;
        String::from_utf8(body).map_err(|_| ClientError::Malformed {
            url: self.url(path),
            what: "not UTF-8".into(),
        })
    }

    /// The latest checkpoint note as served, unverified (`GET /checkpoint`).
    pub fn checkpoint_text(&self) -> Result<String, ClientError> {
        self.get_text("/checkpoint")
    }

    /// The newest recent checkpoint cosigned by `quorum` of the board's witnesses, as
    /// served, unverified (`GET /v1/checkpoint?quorum=`).
    pub fn quorum_checkpoint_text(&self, quorum: usize) -> Result<String, ClientError> {
        self.get_text(&format!("/v1/checkpoint?quorum={quorum}"))
    }

    /// The latest checkpoint, its signature checked with the board's key, and the known
    /// witnesses that cosigned it: at least `quorum` of them, or [`ClientError::Quorum`].
    pub fn checkpoint(
        &self,
        board: &NoteVerifier,
        witnesses: &[CosignatureVerifier],
        quorum: usize,
    ) -> Result<VerifiedCheckpoint, ClientError> {
        let (path, text) = if quorum > 0 {
            let path = format!("/v1/checkpoint?quorum={quorum}");
            let text = self.get_text(&path)?;
            (path, text)
        } else {
            ("/checkpoint".to_owned(), self.checkpoint_text()?)
        };
        let url = self.url(&path);
        let refused = |what: String| ClientError::Checkpoint {
            url: url.clone(),
            what,
        };
        let note = Note::parse(text.as_bytes()).map_err(|e| refused(format!("note: {e}")))?;
        let checkpoint = Checkpoint::open(&note, board).map_err(|e| refused(e.to_string()))?;
        let cosigned = count_cosignatures(&note, witnesses);
        if cosigned < quorum {
            return Err(ClientError::Quorum {
                url,
                cosigned,
                required: quorum,
            });
        }
        Ok(VerifiedCheckpoint {
            checkpoint,
            text,
            cosigned,
        })
    }

    /// Polls the checkpoint until it covers entry `index` (size > index) or `wait` has
    /// passed (spec/15 §15.3: a record acknowledged a moment ago is in the next
    /// checkpoint). With a quorum, a board that has no checkpoint cosigned by that many
    /// witnesses yet (404) is waited for in the same way: cosignatures come after the
    /// checkpoint.
    pub fn checkpoint_covering(
        &self,
        board: &NoteVerifier,
        witnesses: &[CosignatureVerifier],
        quorum: usize,
        hash: &Hash,
        index: u64,
        wait: Duration,
    ) -> Result<VerifiedCheckpoint, ClientError> {
        let started = Instant::now();
        let mut pause = Duration::from_millis(100);
        loop {
            let last = match self.checkpoint(board, witnesses, quorum) {
                Ok(checkpoint) if checkpoint.checkpoint.size() > index => return Ok(checkpoint),
                Ok(checkpoint) => Err(checkpoint.checkpoint.size()),
                Err(e @ (ClientError::Board { status: 404, .. } | ClientError::Quorum { .. }))
                    if quorum > 0 =>
                {
                    Ok(e)
                }
                Err(e) => return Err(e),
            };
            let waited = started.elapsed();
            if waited >= wait {
                return Err(match last {
                    Err(size) => ClientError::NotYetCheckpointed {
                        url: self.base.clone(),
                        hash: *hash,
                        index,
                        size,
                        waited,
                    },
                    Ok(no_quorum) => no_quorum,
                });
            }
            std::thread::sleep(pause.min(wait - waited));
            pause = (pause * 2).min(Duration::from_secs(1));
        }
    }

    /// A tlog-tiles resource: hash tile or entry bundle (`GET /tile/...`).
    pub fn tile(&self, tile: &TilePath) -> Result<Vec<u8>, ClientError> {
        Ok(self.get(&format!("/{}", tile.to_path()))?.1)
    }

    /// Entries `start..end`, each as the board sent it, walking the board's pages
    /// (`GET /v1/entries?start=&limit=`, spec/13 §13.5) until `end` or the log's end.
    /// Each page must continue where the last one stopped.
    pub fn entries(&self, start: u64, end: u64) -> Result<Vec<Entry>, ClientError> {
        #[derive(Deserialize)]
        struct Page {
            entries: Vec<Entry>,
            next: Option<u64>,
        }
        let mut out = Vec::new();
        let mut at = start;
        while at < end {
            let path = format!("/v1/entries?start={at}&limit={}", (end - at).min(1000));
            let page: Page = self.get_json(&path)?;
            let before = at;
            for entry in page.entries.into_iter().take((end - at) as usize) {
                if entry.index != at {
                    return Err(ClientError::Malformed {
                        url: self.url(&path),
                        what: format!("entry {} where entry {at} was due", entry.index),
                    });
                }
                out.push(entry);
                at += 1;
            }
            match page.next {
                Some(next) if next == at && at > before => {}
                _ => break,
            }
        }
        Ok(out)
    }

    /// A record by its leaf hash, with its index (`GET /v1/records/<hash>`); the bytes
    /// are checked to hash to `hash`.
    pub fn record(&self, hash: &Hash) -> Result<(u64, Vec<u8>), ClientError> {
        let path = format!("/v1/records/{}", hash.to_hex());
        let (headers, body) = self.get(&path)?;
        let malformed = |what: &str| ClientError::Malformed {
            url: self.url(&path),
            what: what.to_owned(),
        };
        if urne_log::leaf_hash(&body) != *hash {
            return Err(malformed(
                "the record served does not hash to the hash asked for",
            ));
        }
        let index = headers
            .get("x-urne-index")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok())
            .ok_or_else(|| malformed("no x-urne-index header with a decimal index"))?;
        Ok((index, body))
    }

    /// The inclusion proof of the record with leaf hash `hash` in the tree of `size`
    /// (`GET /v1/proof/inclusion`), unverified.
    pub fn inclusion_proof(&self, hash: &Hash, size: u64) -> Result<InclusionProof, ClientError> {
        let path = format!("/v1/proof/inclusion?hash={}&size={size}", hash.to_hex());
        let proof: InclusionProof = self.get_json(&path)?;
        if proof.leaf != *hash || proof.size != size {
            return Err(ClientError::Malformed {
                url: self.url(&path),
                what: "the proof is for another leaf or size than asked".into(),
            });
        }
        Ok(proof)
    }

    /// The consistency proof between two tree sizes (`GET /v1/proof/consistency`),
    /// unverified.
    pub fn consistency_proof(&self, first: u64, second: u64) -> Result<Vec<Hash>, ClientError> {
        let body: ConsistencyBody = self.get_json(&format!(
            "/v1/proof/consistency?first={first}&second={second}"
        ))?;
        Ok(body.proof)
    }

    /// The open contexts (`GET /v1/contexts`).
    pub fn contexts(&self) -> Result<Vec<ContextInfo>, ClientError> {
        self.get_json("/v1/contexts")
    }

    /// What the board says about itself (`GET /v1/board`).
    pub fn board_info(&self) -> Result<BoardInfo, ClientError> {
        self.get_json("/v1/board")
    }

    /// Submits a record's bytes (`POST /v1/records`); the receipt once it is durable.
    /// The receipt's hash is checked against the bytes sent.
    pub fn post_record(&self, record: &[u8]) -> Result<Receipt, ClientError> {
        let body = self.post("/v1/records", "application/octet-stream", record, 201)?;
        let receipt: Receipt =
            serde_json::from_slice(&body).map_err(|e| ClientError::Malformed {
                url: self.url("/v1/records"),
                what: e.to_string(),
            })?;
        if receipt.hash != urne_log::leaf_hash(record) {
            return Err(ClientError::Malformed {
                url: self.url("/v1/records"),
                what: format!("the receipt names hash {}, not the record's", receipt.hash),
            });
        }
        Ok(receipt)
    }

    /// Hands a cosigned checkpoint note back to the board (`POST /v1/cosignatures`).
    pub fn post_cosignature(&self, note: &str) -> Result<(), ClientError> {
        self.post(
            "/v1/cosignatures",
            "text/plain; charset=utf-8",
            note.as_bytes(),
            200,
        )
        .map(drop)
    }
}

/// What a witness answered to `add-checkpoint` (C2SP tlog-witness; spec/14 §14.2).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum WitnessAnswer {
    /// 200: the witness cosigned; its cosignature lines, verified against its key over
    /// the checkpoint sent.
    Cosigned(Vec<NoteSignature>),
    /// 409: the witness's latest cosigned checkpoint has another size than the one the
    /// request claimed: send again with a consistency proof from this size.
    Conflict {
        /// The witness's latest cosigned size.
        size: u64,
    },
}

/// A client for one witness's `add-checkpoint` endpoint: what a board uses to push its
/// checkpoints to witnesses that follow C2SP tlog-witness.
pub struct WitnessClient {
    prefix: String,
    agent: ureq::Agent,
    verifier: CosignatureVerifier,
}

impl std::fmt::Debug for WitnessClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WitnessClient")
            .field("prefix", &self.prefix)
            .field("witness", &self.verifier.name())
            .finish_non_exhaustive()
    }
}

impl WitnessClient {
    /// A client for the witness whose submission prefix is `prefix`
    /// (`https://witness.example`), whose cosignatures `verifier` checks. The URL rules
    /// and bounds are a board client's ([`ClientOptions`]).
    pub fn new(
        prefix: &str,
        verifier: CosignatureVerifier,
        options: &ClientOptions,
    ) -> Result<Self, ClientError> {
        let (prefix, agent) = connect(prefix, options)?;
        Ok(Self {
            prefix,
            agent,
            verifier,
        })
    }

    /// The witness's submission prefix, without a trailing slash.
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// Asks the witness to cosign `checkpoint_note` (a signed checkpoint), claiming it
    /// holds `old_size` and proving consistency from there with `proof`.
    pub fn add_checkpoint(
        &self,
        old_size: u64,
        proof: &[Hash],
        checkpoint_note: &str,
    ) -> Result<WitnessAnswer, ClientError> {
        let url = format!("{}{ADD_CHECKPOINT_PATH}", self.prefix);
        let body = encode_request(old_size, proof, checkpoint_note);
        let mut response = self
            .agent
            .post(&url)
            .header("content-type", "text/plain; charset=utf-8")
            .send(body.as_bytes())
            .map_err(|e| ClientError::Transport {
                method: "POST",
                url: url.clone(),
                message: e.to_string(),
            })?;
        let status = response.status().as_u16();
        let content_type = response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .map(|v| {
                v.split(';')
                    .next()
                    .unwrap_or("")
                    .trim()
                    .to_ascii_lowercase()
            });
        let answer = response
            .body_mut()
            .with_config()
            .limit(MAX_RESPONSE_BYTES as u64)
            .read_to_vec()
            .map_err(|e| ClientError::Transport {
                method: "POST",
                url: url.clone(),
                message: format!("reading the answer: {e}"),
            })?;
        let malformed = |what: String| ClientError::Malformed {
            url: url.clone(),
            what,
        };
        match status {
            200 => {
                let note = Note::parse(checkpoint_note.as_bytes())
                    .map_err(|e| malformed(format!("the checkpoint sent: {e}")))?;
                let lines = parse_cosignatures(note.text(), &answer, &self.verifier)
                    .map_err(|e| malformed(format!("200 answer: {e}")))?;
                if lines.is_empty() {
                    return Err(malformed(format!(
                        "200 answer without a cosignature by {}",
                        self.verifier.name()
                    )));
                }
                Ok(WitnessAnswer::Cosigned(lines))
            }
            // A 409 from something other than the witness protocol (a proxy, another
            // service) must not be read as the witness's size.
            409 if content_type.as_deref() != Some(SIZE_CONTENT_TYPE) => Err(malformed(format!(
                "409 answer with Content-Type {}, not {SIZE_CONTENT_TYPE}",
                content_type.as_deref().unwrap_or("(none)")
            ))),
            409 => parse_size(&answer)
                .map(|size| WitnessAnswer::Conflict { size })
                .map_err(|e| malformed(format!("409 answer: {e}"))),
            _ => Err(ClientError::Status {
                method: "POST",
                url: url.clone(),
                status,
                excerpt: String::from_utf8_lossy(&answer[..answer.len().min(200)]).into_owned(),
            }),
        }
    }
}

fn hash_hex<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Hash, D::Error> {
    let text = String::deserialize(d)?;
    parse_hash(&text).ok_or_else(|| serde::de::Error::custom("not 64 lowercase hex digits"))
}

fn hashes_hex<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<Hash>, D::Error> {
    Vec::<String>::deserialize(d)?
        .iter()
        .map(|t| {
            parse_hash(t).ok_or_else(|| serde::de::Error::custom("not 64 lowercase hex digits"))
        })
        .collect()
}

fn bytes_hex<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
    let text = String::deserialize(d)?;
    decode_hex(&text).ok_or_else(|| serde::de::Error::custom("not lowercase hex"))
}

/// Strict lowercase hex (spec/02), by urne-log's one decoder.
pub fn decode_hex(text: &str) -> Option<Vec<u8>> {
    urne_log::strict_hex::decode(text)
}

/// A 32-byte value in strict lowercase hex.
pub fn decode_hex32(text: &str) -> Option<[u8; 32]> {
    urne_log::strict_hex::decode_array(text)
}

/// A hash in strict lowercase hex.
pub fn parse_hash(text: &str) -> Option<Hash> {
    decode_hex32(text).map(Hash)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_is_read_strictly_lowercase_and_of_the_right_length() {
        assert_eq!(decode_hex("00ff"), Some(vec![0, 255]));
        assert_eq!(decode_hex("00FF"), None);
        assert_eq!(decode_hex("0f0"), None);
        assert_eq!(decode_hex("+0"), None);
        assert_eq!(decode_hex32(&"ab".repeat(32)), Some([0xab; 32]));
        assert_eq!(decode_hex32(&"AB".repeat(32)), None);
        assert_eq!(decode_hex32(&"ab".repeat(31)), None);
        assert_eq!(decode_hex32(&"ab".repeat(33)), None);
        assert!(parse_hash(&" ab".repeat(32)).is_none());
    }
}
