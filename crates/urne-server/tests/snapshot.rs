//! An anonymous election's snapshot answer (spec/61 §61.2): the booth's `load` input,
//! encoded once and kept (within `max_snapshot_cache_bytes`) while the election votes,
//! served `immutable` with an entity tag (304 on `If-None-Match`), and refused with 503
//! `snapshot-too-large` over the server's cap; 409 before voting opens.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use ed25519_dalek::SigningKey;
use http_body_util::BodyExt;
use serde_json::{Value, json};
use tower::ServiceExt;
use urne_ballot::{Contest, ContestKind, Manifest};
use urne_board::kinds::{CONTEXT_OPEN, CONTEXT_PHASE};
use urne_board::{Board, BoardConfig, ContextId, ContextOpen, ContextType, Kind, Record, Registry};
use urne_ceremony::{CeremonyContext, CeremonyOpen, TrusteeSetup};
use urne_credential::registry::{Cosignature, Register, Registrars, SignedSnapshot, Snapshot};
use urne_credential::wallet::{ATTRIBUTE_DISTRICT, EnrolmentRequest, Wallet};
use urne_election::anonymous::Eligibility;
use urne_election::kinds::*;
use urne_election::{CloseRound, ManifestRecord};
use urne_server::{AppState, ServerConfig, router};
use zeroize::Zeroizing;

const REGISTRY: [u8; 32] = [0x42; 32];

fn authority() -> SigningKey {
    SigningKey::from_bytes(&[1; 32])
}

fn trustee_key(j: u16) -> SigningKey {
    SigningKey::from_bytes(&[10 + j as u8; 32])
}

fn registrar() -> SigningKey {
    SigningKey::from_bytes(&[0x60; 32])
}

fn board(name: &str) -> Arc<Board> {
    let dir = std::env::temp_dir().join(format!("urne-snapshot-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let config = BoardConfig::new(
        "test.example/board",
        Zeroizing::new([7; 32]),
        vec![authority().verifying_key().to_bytes()],
        vec![],
    );
    Arc::new(Board::open(&dir, config, Registry::standard()).unwrap().0)
}

fn post(board: &Board, key: &SigningKey, id: ContextId, kind: Kind, body: &[u8]) {
    board
        .submit(Record::sign(id, kind, body, key).unwrap().into_bytes())
        .unwrap();
}

/// Six people in buckets of 4, cosigned by the one registrar.
fn snapshot() -> Snapshot {
    let mut rng = rand::rng();
    let mut register = Register::new();
    for i in 0..6u8 {
        let wallet = Wallet::generate(&[(ATTRIBUTE_DISTRICT, 1)], &mut rng).unwrap();
        let bytes = wallet
            .enrolment_request(&REGISTRY, &mut rng)
            .unwrap()
            .to_bytes();
        let request = EnrolmentRequest::decode_and_verify(&bytes, &REGISTRY).unwrap();
        register.enrol([i; 32], &request, false).unwrap();
    }
    let (header, entries) = register.snapshot_header(REGISTRY, 1, [0; 32], 2);
    let id = header.id();
    let signed = SignedSnapshot {
        header,
        cosignatures: vec![Cosignature::sign(0, &registrar(), &id)],
    };
    Snapshot::new(signed, entries).unwrap()
}

/// An anonymous election (`nonce` tells elections apart) through its key ceremony, in
/// registration; with its snapshot posted and `open`, in voting.
///
/// The ceremony's driver repeats urne-board's (tests/election.rs, `open_and_ceremony`):
/// that one lives in a test target, which no other crate can import, and the one of the
/// command line's demo (urne-cli, `Trustees::run_ceremony`) is in a crate that depends
/// on this one. None is shared yet.
fn anonymous_election(board: &Board, snapshot: &Snapshot, nonce: u8, open: bool) -> ContextId {
    let mut rng = rand::rng();
    let a = authority();
    let record = ManifestRecord {
        manifest: Manifest::new(
            "Bureau",
            vec![Contest {
                title: "Présidence".into(),
                kind: ContestKind::SingleChoice,
                blank: false,
                options: vec!["Ada".into(), "Brahim".into()],
            }],
        )
        .unwrap(),
        eligibility: Some(Eligibility {
            min_bucket_bits: 2,
            min_real_keys: 2,
            min_snapshot: 1,
            registry: REGISTRY,
            registrars: Registrars::new(1, vec![registrar().verifying_key()]).unwrap(),
        }),
    };
    let body = ContextOpen {
        context_type: ContextType::ELECTION,
        nonce: [nonce; 16],
        name: "Bureau".into(),
        parameters: record.parameters_hash(),
    }
    .to_body()
    .unwrap();
    let id = ContextId::derive(a.verifying_key().as_bytes(), &body);
    post(board, &a, id, CONTEXT_OPEN, &body);
    post(board, &a, id, ELECTION_MANIFEST, &record.to_body());
    post(board, &a, id, CONTEXT_PHASE, &[1]);
    let identities = (1..=3)
        .map(|j| trustee_key(j).verifying_key().to_bytes())
        .collect();
    let ceremony_open = CeremonyOpen::new(2, identities).unwrap();
    post(board, &a, id, CEREMONY_OPEN, &ceremony_open.encode());
    let (setups, registrations): (Vec<_>, Vec<_>) =
        (1..=3).map(|j| TrusteeSetup::new(j, &mut rng)).unzip();
    for r in &registrations {
        post(
            board,
            &trustee_key(r.trustee),
            id,
            CEREMONY_REGISTER,
            &r.encode(),
        );
    }
    let context = CeremonyContext::new(id.0, ceremony_open, &registrations).unwrap();
    let (states, hashes): (Vec<_>, Vec<_>) = setups
        .into_iter()
        .map(|s| s.begin(context.clone(), &mut rng).unwrap())
        .unzip();
    for h in &hashes {
        post(
            board,
            &trustee_key(h.dealer),
            id,
            CEREMONY_COMMITMENT_HASH,
            &h.encode(),
        );
    }
    let (states, commitments): (Vec<_>, Vec<_>) =
        states.into_iter().map(|s| s.reveal(hashes.clone())).unzip();
    for c in &commitments {
        post(
            board,
            &trustee_key(c.dealer),
            id,
            CEREMONY_COMMITMENTS,
            &c.encode(),
        );
    }
    let dealt: Vec<_> = states
        .into_iter()
        .map(|s| s.deal(commitments.clone(), &mut rng).unwrap().1)
        .collect();
    for d in &dealt {
        post(
            board,
            &trustee_key(d.dealer),
            id,
            CEREMONY_SHARES,
            &d.encode(),
        );
    }
    post(
        board,
        &a,
        id,
        CEREMONY_CLOSE_ROUND,
        &CloseRound { round: 5 }.to_body(),
    );
    post(board, &a, id, CONTEXT_PHASE, &[2]);
    if open {
        post(
            board,
            &a,
            id,
            ELECTION_SNAPSHOT,
            &snapshot.signed().to_bytes(),
        );
        for part in snapshot.parts() {
            post(board, &a, id, ELECTION_SNAPSHOT_PART, &part.to_bytes());
        }
        post(board, &a, id, CONTEXT_PHASE, &[3]);
    }
    id
}

async fn get(
    app: &axum::Router,
    uri: &str,
    if_none_match: Option<&str>,
) -> (StatusCode, axum::http::HeaderMap, Vec<u8>) {
    let mut request = Request::builder().uri(uri);
    if let Some(tag) = if_none_match {
        request = request.header(header::IF_NONE_MATCH, tag);
    }
    let response = app
        .clone()
        .oneshot(request.body(Body::empty()).unwrap())
        .await
        .unwrap();
    let (parts, body) = response.into_parts();
    let bytes = body.collect().await.unwrap().to_bytes().to_vec();
    (parts.status, parts.headers, bytes)
}

fn app(board: &Arc<Board>, config: ServerConfig) -> axum::Router {
    router(AppState::new(Arc::clone(board), config))
}

/// A metric's value, from `/metrics`.
async fn metric(app: &axum::Router, name: &str) -> u64 {
    let (_, _, text) = get(app, "/metrics", None).await;
    let text = String::from_utf8(text).unwrap();
    text.lines()
        .find_map(|line| line.strip_prefix(name)?.strip_prefix(' '))
        .unwrap_or_else(|| panic!("no {name} in {text}"))
        .parse()
        .unwrap()
}

const ENCODINGS: &str = "urne_snapshot_encodings_total";
const KEPT: &str = "urne_snapshot_cache_bytes";

#[tokio::test]
async fn the_snapshot_is_served_immutable_with_an_etag_and_304_on_a_match() {
    let board = board("served");
    let snapshot = snapshot();
    let id = anonymous_election(&board, &snapshot, 4, true);
    let app = app(&board, ServerConfig::default());
    let uri = format!("/v1/public/elections/{}/snapshot", id.to_hex());

    assert_eq!(metric(&app, ENCODINGS).await, 0);
    let (status, headers, body) = get(&app, &uri, None).await;
    assert_eq!(status, StatusCode::OK, "{}", String::from_utf8_lossy(&body));
    let served: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(
        served,
        json!({
            "header": hex::encode(snapshot.signed().to_bytes()),
            "parts": snapshot.parts().iter().map(|p| hex::encode(p.to_bytes())).collect::<Vec<_>>(),
        })
    );
    assert_eq!(
        headers[header::CACHE_CONTROL],
        "public, max-age=31536000, immutable"
    );
    assert_eq!(headers[header::CONTENT_TYPE], "application/json");
    let etag = headers[header::ETAG].to_str().unwrap().to_owned();
    assert_eq!(
        etag,
        format!("\"snapshot-v1-{}\"", hex::encode(snapshot.id()))
    );

    // Asked again: the same bytes, the same tag, and no second encoding.
    assert_eq!(metric(&app, ENCODINGS).await, 1);
    let (status, again, body_again) = get(&app, &uri, None).await;
    assert_eq!((status, &body_again), (StatusCode::OK, &body));
    assert_eq!(again[header::ETAG], etag.as_str());
    assert_eq!(metric(&app, ENCODINGS).await, 1);

    // A cache that holds it revalidates for nothing: 304, no body, the tag again. A weak
    // tag, a list and `*` match; another tag does not.
    for tag in [
        etag.clone(),
        format!("W/{etag}"),
        format!("\"other\", {etag}"),
        "*".to_owned(),
    ] {
        let (status, headers, body) = get(&app, &uri, Some(&tag)).await;
        assert_eq!(status, StatusCode::NOT_MODIFIED, "{tag}");
        assert!(body.is_empty(), "{tag}");
        assert_eq!(headers[header::ETAG], etag.as_str(), "{tag}");
        assert_eq!(
            headers[header::CACHE_CONTROL],
            "public, max-age=31536000, immutable"
        );
    }
    let (status, _, body_other) = get(&app, &uri, Some("\"snapshot-v1-00\"")).await;
    assert_eq!((status, &body_other), (StatusCode::OK, &body));
}

#[tokio::test]
async fn a_snapshot_over_the_cap_is_refused_naming_its_size_and_the_cap() {
    let board = board("capped");
    let snapshot = snapshot();
    let id = anonymous_election(&board, &snapshot, 4, true);
    let uri = format!("/v1/public/elections/{}/snapshot", id.to_hex());
    // The answer's exact length: served at that cap, refused one byte under it.
    let (_, _, body) = get(&app(&board, ServerConfig::default()), &uri, None).await;
    let exact = ServerConfig {
        max_snapshot_bytes: body.len(),
        ..ServerConfig::default()
    };
    let (status, _, served) = get(&app(&board, exact), &uri, None).await;
    assert_eq!((status, served), (StatusCode::OK, body.clone()));
    let capped = ServerConfig {
        max_snapshot_bytes: body.len() - 1,
        ..ServerConfig::default()
    };
    let app = app(&board, capped);
    // The operator's cap, not a bug: 503, with no Retry-After (asking again does not help).
    let (status, headers, refused) = get(&app, &uri, None).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(headers.get(header::RETRY_AFTER).is_none());
    assert!(headers.get(header::ETAG).is_none());
    assert!(headers.get(header::CACHE_CONTROL).is_none());
    let refused: Value = serde_json::from_slice(&refused).unwrap();
    assert_eq!(refused["code"], "snapshot-too-large");
    assert_eq!(refused["field"], "id");
    let message = refused["message"].as_str().unwrap();
    assert!(
        message.contains(&format!("encodes to {} bytes", body.len()))
            && message.contains(&format!("cap of {} bytes", body.len() - 1)),
        "{message}"
    );
    // A conditional request is refused alike: a refusal has no tag to match.
    let (status, _, _) = get(&app, &uri, Some("*")).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
}

/// The kept answers stay within `max_snapshot_cache_bytes`: with room for one, a second
/// election's answer drops the first, which is encoded again when asked — the same bytes
/// and the same tag. A conditional request naming the tag is answered without encoding;
/// a closed election's answer is kept as any other.
#[tokio::test]
async fn the_kept_answers_are_bounded_and_an_evicted_one_comes_back_identical() {
    let board = board("bounded");
    let snapshot = snapshot();
    let a = anonymous_election(&board, &snapshot, 4, true);
    let b = anonymous_election(&board, &snapshot, 5, true);
    let uri = |id: ContextId| format!("/v1/public/elections/{}/snapshot", id.to_hex());
    let (_, _, body) = get(&app(&board, ServerConfig::default()), &uri(a), None).await;
    // Room for one answer (and its slot, a few hundred bytes), not two.
    let cap = body.len() * 3 / 2;
    let app = app(
        &board,
        ServerConfig {
            max_snapshot_cache_bytes: cap,
            ..ServerConfig::default()
        },
    );

    let (status, headers_a, body_a) = get(&app, &uri(a), None).await;
    assert_eq!((status, &body_a), (StatusCode::OK, &body));
    let kept_a = metric(&app, KEPT).await;
    assert!(
        kept_a as usize > body.len() && kept_a as usize <= cap,
        "{kept_a}"
    );
    get(&app, &uri(a), None).await;
    assert_eq!(metric(&app, ENCODINGS).await, 1);

    assert_eq!(get(&app, &uri(b), None).await.0, StatusCode::OK);
    assert_eq!(metric(&app, ENCODINGS).await, 2);
    assert!(metric(&app, KEPT).await as usize <= cap);

    // a was dropped for b: encoded again, identical, under the same tag.
    let (status, headers, again) = get(&app, &uri(a), None).await;
    assert_eq!((status, &again), (StatusCode::OK, &body_a));
    assert_eq!(headers[header::ETAG], headers_a[header::ETAG]);
    assert_eq!(metric(&app, ENCODINGS).await, 3);
    assert_eq!(metric(&app, KEPT).await, kept_a);

    // A client holding b's tag is answered 304 from the tag alone: b, dropped for a, is
    // not encoded again for it.
    let tag_b = snapshot_tag(&app, &uri(b)).await;
    let (status, headers, empty) = get(&app, &uri(b), Some(&tag_b)).await;
    assert_eq!((status, empty.len()), (StatusCode::NOT_MODIFIED, 0));
    assert_eq!(headers[header::ETAG], tag_b.as_str());
    assert_eq!(metric(&app, ENCODINGS).await, 4);
    let _ = get(&app, &uri(a), None).await;
    assert_eq!(metric(&app, ENCODINGS).await, 5);
    let (status, _, _) = get(&app, &uri(b), Some(&tag_b)).await;
    assert_eq!(status, StatusCode::NOT_MODIFIED);
    assert_eq!(metric(&app, ENCODINGS).await, 5);

    // Voting closes: the answer is still kept and served as it was, not encoded again for
    // each request.
    post(&board, &authority(), a, CONTEXT_PHASE, &[4]);
    for _ in 0..2 {
        let (status, headers, closed) = get(&app, &uri(a), None).await;
        assert_eq!((status, &closed), (StatusCode::OK, &body_a));
        assert_eq!(headers[header::ETAG], headers_a[header::ETAG]);
    }
    assert_eq!(metric(&app, ENCODINGS).await, 5);
    assert_eq!(metric(&app, KEPT).await, kept_a);
}

/// The tag of the answer at `uri` (asked unconditionally: one encoding, unless kept).
async fn snapshot_tag(app: &axum::Router, uri: &str) -> String {
    let (status, headers, _) = get(app, uri, None).await;
    assert_eq!(status, StatusCode::OK);
    headers[header::ETAG].to_str().unwrap().to_owned()
}

#[tokio::test]
async fn before_voting_opens_there_is_no_snapshot_to_serve_or_cache() {
    let board = board("registration");
    let snapshot = snapshot();
    let id = anonymous_election(&board, &snapshot, 4, false);
    let app = app(&board, ServerConfig::default());
    let uri = format!("/v1/public/elections/{}/snapshot", id.to_hex());
    let (status, headers, body) = get(&app, &uri, None).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(headers.get(header::ETAG).is_none());
    let body: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(
        (body["code"].as_str(), body["field"].as_str()),
        (Some("wrong-phase"), Some("id"))
    );
}
