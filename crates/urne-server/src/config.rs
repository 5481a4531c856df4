//! The service's limits and timings (spec/13 §13.4 lists the defaults).

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Duration;

/// Limits and timings, with safe defaults (loopback only).
#[derive(Clone, Debug)]
pub struct ServerConfig {
    /// Where to listen. Default 127.0.0.1:8400: exposing the board is a decision.
    pub listen: SocketAddr,
    /// Largest request body (a hex-encoded record in JSON is about twice the record).
    /// A declared `Content-Length` above it is refused before any byte is read.
    pub max_body_bytes: usize,
    /// Requests served at once, all routes together; more are shed with 503.
    pub max_concurrent: usize,
    /// Reads (checkpoints, tiles, proofs, records by hash, health) served at once.
    pub max_concurrent_reads: usize,
    /// Writes (record submissions, cosignatures) served at once, uploads included.
    pub max_concurrent_writes: usize,
    /// Heavy reads (entry pages, entry bundles, the context list) served at once.
    pub max_concurrent_heavy: usize,
    /// Requests in flight from one client (an IPv4 address or an IPv6 /64).
    pub max_in_flight_per_client: usize,
    /// Time allowed per request, from its head to its answer.
    pub request_timeout: Duration,
    /// Time allowed for a request body to arrive in full: a slow or stalled upload
    /// gives its write slot back after this.
    pub body_timeout: Duration,
    /// Time allowed for a heavy answer (an entry bundle, a page) to be sent in full: a
    /// client that stops reading is cut off and gives its heavy slot back after this.
    pub send_timeout: Duration,
    /// Sustained record submissions per client per second (0: no limit).
    pub writes_per_second: u32,
    /// Burst of submissions per client.
    pub write_burst: u32,
    /// Sustained reads per client per second (0: no limit).
    pub reads_per_second: u32,
    /// Burst of reads per client.
    pub read_burst: u32,
    /// Proxies whose `Forwarded` / `X-Forwarded-For` headers name the client. From any
    /// other peer those headers are ignored: a client cannot pick its own address.
    pub trusted_proxies: Vec<IpAddr>,
    /// How often a new checkpoint is signed when entries were added.
    pub checkpoint_interval: Duration,
    /// Most entries one `/v1/entries` page holds.
    pub max_entries_per_request: u64,
    /// Most record bytes one `/v1/entries` page holds (the page ends early, with a cursor).
    pub max_entries_bytes: usize,
    /// Most bytes of an anonymous election's snapshot answer (spec/61 §61.2): above it
    /// the route answers `snapshot-too-large` rather than megabytes no booth could load.
    pub max_snapshot_bytes: usize,
    /// Most bytes of snapshot answers kept encoded, all elections together (spec/61
    /// §61.2): the least recently asked is dropped first, and one larger than this alone
    /// is served but not kept (so encoded again for every request).
    pub max_snapshot_cache_bytes: usize,
    /// Witnesses to push each new checkpoint to (tlog-witness `add-checkpoint`).
    pub push_witnesses: Vec<crate::push::PushWitness>,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from((Ipv4Addr::LOCALHOST, 8400)),
            max_body_bytes: 2 * urne_store::MAX_RECORD_BYTES + 64,
            max_concurrent: 4096,
            max_concurrent_reads: 1024,
            max_concurrent_writes: 512,
            max_concurrent_heavy: 16,
            max_in_flight_per_client: 64,
            request_timeout: Duration::from_secs(10),
            body_timeout: Duration::from_secs(5),
            send_timeout: Duration::from_secs(60),
            writes_per_second: 200,
            write_burst: 400,
            reads_per_second: 20_000,
            read_burst: 40_000,
            trusted_proxies: Vec::new(),
            checkpoint_interval: Duration::from_secs(1),
            max_entries_per_request: 1000,
            max_entries_bytes: 1 << 20,
            // 128 hex digits a person: about half a million people.
            max_snapshot_bytes: 64 << 20,
            // Four answers at the cap: a city's election and a few smaller ones at once.
            max_snapshot_cache_bytes: 256 << 20,
            push_witnesses: Vec::new(),
        }
    }
}

/// The board's origin (its log's identity and its key's name, spec/10 §10.2), from the
/// first of these that is given:
///
/// 1. `explicit` (`--origin`), taken as it is;
/// 2. `public_url` (`--public-url`), the URL prefix clients reach the board at, without
///    its scheme and trailing slashes, as C2SP tlog-tiles recommends;
/// 3. `existing`, the origin of the board already in the data directory: a log keeps
///    its identity when it moves to another address;
/// 4. `http://<bound>`, the address a new board listens on — refused when that is not
///    an address anyone could reach it at (all interfaces, port 0).
pub fn board_origin(
    explicit: Option<&str>,
    public_url: Option<&str>,
    existing: Option<&str>,
    bound: SocketAddr,
) -> Result<String, String> {
    if let Some(origin) = explicit {
        return Ok(origin.to_owned());
    }
    if let Some(url) = public_url {
        return urne_log::checkpoint::origin_of_prefix(url)
            .map_err(|why| format!("public URL {url}: {why}"));
    }
    if let Some(origin) = existing {
        return Ok(origin.to_owned());
    }
    if bound.ip().is_unspecified() || bound.port() == 0 {
        return Err(format!(
            "the board listens on {bound}, which is not the address clients reach it at: \
             give --public-url (the URL prefix clients use) or --origin"
        ));
    }
    urne_log::checkpoint::origin_of_prefix(&format!("http://{bound}"))
        .map_err(|why| format!("listen address {bound}: {why}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(address: &str) -> SocketAddr {
        address
            .parse()
            .unwrap_or_else(|_| SocketAddr::from((Ipv4Addr::LOCALHOST, 1)))
    }

    #[test]
    fn the_origin_is_the_first_of_flag_public_url_existing_board_and_listen_address() {
        let bound = at("127.0.0.1:8400");
        let url = Some("https://vote.example.org/board/");
        let existing = Some("old.example/board");
        assert_eq!(
            board_origin(Some("chosen.example/x"), url, existing, bound),
            Ok("chosen.example/x".to_owned())
        );
        assert_eq!(
            board_origin(None, url, existing, bound),
            Ok("vote.example.org/board".to_owned())
        );
        assert_eq!(
            board_origin(None, None, existing, bound),
            Ok("old.example/board".to_owned())
        );
        assert_eq!(
            board_origin(None, None, None, bound),
            Ok("127.0.0.1:8400".to_owned())
        );
        assert_eq!(
            board_origin(None, None, None, at("[::1]:8401")),
            Ok("[::1]:8401".to_owned())
        );
    }

    #[test]
    fn an_unreachable_listen_address_or_a_bad_public_url_is_refused_by_name() {
        for bound in ["0.0.0.0:8400", "[::]:8400", "127.0.0.1:0"] {
            let refused = board_origin(None, None, None, at(bound));
            assert!(
                refused
                    .as_ref()
                    .is_err_and(|e| e.contains(bound) && e.contains("--public-url")),
                "{bound}: {refused:?}"
            );
        }
        let refused = board_origin(None, Some("vote.example.org"), None, at("127.0.0.1:1"));
        assert!(
            refused
                .as_ref()
                .is_err_and(|e| e.contains("public URL vote.example.org")),
            "{refused:?}"
        );
        // An existing board or an explicit origin needs no reachable address.
        assert!(board_origin(None, None, Some("a.example/b"), at("0.0.0.0:0")).is_ok());
        assert!(board_origin(Some("a.example/b"), None, None, at("0.0.0.0:0")).is_ok());
    }
}
