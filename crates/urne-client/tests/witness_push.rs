//! The witness push client (`add-checkpoint`, spec/14 §14.2) against a real witness
//! behind a minimal HTTP server, and against answers a witness should never send.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::Arc;

use urne_client::{ClientError, ClientOptions, WitnessAnswer, WitnessClient};
use urne_log::note::{Cosigner, Note, NoteSigner};
use urne_log::{Checkpoint, leaf_hash, node_hash};
use urne_witness::Witness;

fn board_signer() -> NoteSigner {
    NoteSigner::from_seed("board.example/urne", &[3; 32]).unwrap()
}

/// A signed checkpoint of the two-entry log `a`, `b`.
fn checkpoint() -> String {
    let root = node_hash(&leaf_hash(b"a"), &leaf_hash(b"b"));
    let text = Checkpoint::new("board.example/urne", 2, root, vec![])
        .unwrap()
        .to_text();
    let mut note = Note::new(&text).unwrap();
    board_signer().sign(&mut note);
    note.to_text()
}

/// Serves `answer(body)` as text/plain for every request on a loopback port; returns
/// the URL.
fn serve(answer: impl Fn(&[u8]) -> (u16, String) + Send + 'static) -> String {
    serve_as("text/plain", answer)
}

/// Serves `answer(body)` as `content_type` for every request on a loopback port.
fn serve_as(
    content_type: &'static str,
    answer: impl Fn(&[u8]) -> (u16, String) + Send + 'static,
) -> String {
    serve_typed(move |body| {
        let (status, text) = answer(body);
        (status, content_type, text)
    })
}

/// Serves `answer(body)`, a status, a Content-Type and a body, on a loopback port.
fn serve_typed(answer: impl Fn(&[u8]) -> (u16, &'static str, String) + Send + 'static) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut request = Vec::new();
            let mut chunk = [0u8; 4096];
            let body = loop {
                let Ok(n) = stream.read(&mut chunk) else {
                    break None;
                };
                if n == 0 {
                    break None;
                }
                request.extend_from_slice(&chunk[..n]);
                let Some(end) = request.windows(4).position(|w| w == b"\r\n\r\n") else {
                    continue;
                };
                let head = String::from_utf8_lossy(&request[..end]).to_ascii_lowercase();
                let length: usize = head
                    .lines()
                    .find_map(|l| l.strip_prefix("content-length:"))
                    .and_then(|v| v.trim().parse().ok())
                    .unwrap_or(0);
                if request.len() >= end + 4 + length {
                    break Some(request[end + 4..end + 4 + length].to_vec());
                }
            };
            let Some(body) = body else { continue };
            let (status, content_type, text) = answer(&body);
            let _ = write!(
                stream,
                "HTTP/1.1 {status} X\r\ncontent-type: {content_type}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{text}",
                text.len()
            );
        }
    });
    url
}

fn client(url: &str, witness: &Cosigner) -> WitnessClient {
    WitnessClient::new(url, witness.verifier(), &ClientOptions::default()).unwrap()
}

#[test]
fn a_real_witness_cosigns_through_the_client_and_then_names_its_size() {
    let dir = std::env::temp_dir().join(format!("urne-push-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let cosigner = Cosigner::from_seed("witness.example", &[4; 32]).unwrap();
    let witness = Arc::new(
        Witness::new(
            board_signer().verifier(),
            Cosigner::from_seed("witness.example", &[4; 32]).unwrap(),
            &dir,
        )
        .unwrap(),
    );
    let serving = Arc::clone(&witness);
    let url = serve_typed(move |body| {
        let answer = serving.add_checkpoint(body, 1_700_000_000);
        (answer.status, answer.content_type, answer.body)
    });
    let client = client(&url, &cosigner);
    let note = checkpoint();

    let answer = client.add_checkpoint(0, &[], &note).unwrap();
    let WitnessAnswer::Cosigned(lines) = answer else {
        panic!("{answer:?}")
    };
    assert_eq!(lines.len(), 1);
    let mut cosigned = Note::parse(note.as_bytes()).unwrap();
    cosigned.add_signature(lines[0].clone());
    assert_eq!(
        urne_log::note::count_cosignatures(&cosigned, &[cosigner.verifier()]),
        1,
        "the line is the witness's valid cosignature"
    );

    // The witness now holds size 2: a request claiming 0 is answered with its size.
    assert_eq!(
        client.add_checkpoint(0, &[], &note).unwrap(),
        WitnessAnswer::Conflict { size: 2 }
    );
    drop(witness);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_cosignature_by_another_key_is_refused() {
    let impostor = Cosigner::from_seed("witness.example", &[5; 32]).unwrap();
    let note = checkpoint();
    let text = Note::parse(note.as_bytes()).unwrap().text().to_owned();
    let line = impostor.cosign(&text, 1_700_000_000).to_line();
    let url = serve(move |_| (200, line.clone()));
    let expected = Cosigner::from_seed("witness.example", &[4; 32]).unwrap();
    let err = client(&url, &expected)
        .add_checkpoint(0, &[], &note)
        .unwrap_err();
    assert!(
        matches!(&err, ClientError::Malformed { url: u, .. } if u.ends_with("/add-checkpoint")),
        "{err:?}"
    );
}

#[test]
fn a_409_without_a_size_and_an_unexpected_status_are_errors_naming_the_url() {
    let witness = Cosigner::from_seed("witness.example", &[4; 32]).unwrap();
    let url = serve_as("text/x.tlog.size", |_| (409, "not a size\n".to_owned()));
    let err = client(&url, &witness)
        .add_checkpoint(0, &[], &checkpoint())
        .unwrap_err();
    assert!(matches!(err, ClientError::Malformed { .. }), "{err:?}");

    // A size, but not the protocol's answer: a proxy's or another service's 409.
    let url = serve(|_| (409, "5\n".to_owned()));
    let err = client(&url, &witness)
        .add_checkpoint(0, &[], &checkpoint())
        .unwrap_err();
    assert!(
        matches!(&err, ClientError::Malformed { what, .. } if what.contains("text/plain")),
        "{err:?}"
    );
    let url = serve_as("text/x.tlog.size; charset=utf-8", |_| {
        (409, "5\n".to_owned())
    });
    assert_eq!(
        client(&url, &witness)
            .add_checkpoint(0, &[], &checkpoint())
            .unwrap(),
        WitnessAnswer::Conflict { size: 5 }
    );

    let url = serve(|_| (403, "unknown log\n".to_owned()));
    let err = client(&url, &witness)
        .add_checkpoint(0, &[], &checkpoint())
        .unwrap_err();
    match err {
        ClientError::Status {
            status, excerpt, ..
        } => {
            assert_eq!(status, 403);
            assert_eq!(excerpt, "unknown log\n");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn plain_http_to_a_witness_off_loopback_is_refused_unless_allowed() {
    let witness = Cosigner::from_seed("witness.example", &[4; 32]).unwrap();
    let err = WitnessClient::new(
        "http://witness.example",
        witness.verifier(),
        &ClientOptions::default(),
    )
    .unwrap_err();
    assert!(matches!(err, ClientError::PlainHttp { .. }), "{err:?}");
    assert!(
        WitnessClient::new(
            "http://witness.example",
            witness.verifier(),
            &ClientOptions::allowing_plain_http(true),
        )
        .is_ok()
    );
}
