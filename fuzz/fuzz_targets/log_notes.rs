//! Signed notes, checkpoints, vkeys, tile paths and tlog-witness requests and answers
//! (the log's request parsers): no panic, and what parses re-encodes to exactly the input.
#![no_main]

use libfuzzer_sys::fuzz_target;
use urne_log::Checkpoint;
use urne_log::note::{CosignatureVerifier, Note, NoteVerifier};
use urne_log::tiles::TilePath;
use urne_log::witness_protocol::{encode_request, encode_size, parse_request, parse_size};

fuzz_target!(|data: &[u8]| {
    if let Ok(note) = Note::parse(data) {
        assert_eq!(note.to_text().as_bytes(), data, "note round trip");
    }
    if let Ok(request) = parse_request(data) {
        let again = encode_request(
            request.old_size,
            &request.proof,
            &request.checkpoint.to_text(),
        );
        assert_eq!(again.as_bytes(), data, "add-checkpoint request round trip");
    }
    if let Ok(size) = parse_size(data) {
        assert_eq!(encode_size(size).as_bytes(), data, "409 size round trip");
    }
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(checkpoint) = Checkpoint::parse(text) {
            assert_eq!(checkpoint.to_text(), text, "checkpoint round trip");
        }
        if let Some(path) = TilePath::parse(text) {
            assert_eq!(path.to_path(), text, "tile path round trip");
        }
        if let Ok(v) = NoteVerifier::from_vkey(text) {
            assert_eq!(v.to_vkey(), text, "vkey round trip");
        }
        if let Ok(v) = CosignatureVerifier::from_vkey(text) {
            assert_eq!(v.to_vkey(), text, "cosignature vkey round trip");
        }
    }
});
