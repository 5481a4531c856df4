//! The record envelope: no panic; a parsed record is exactly its input bytes, and its
//! signature check answers without panicking.
#![no_main]

use libfuzzer_sys::fuzz_target;
use urne_record::{ENVELOPE_OVERHEAD, Record};

fuzz_target!(|data: &[u8]| {
    if let Ok(record) = Record::parse(data.to_vec()) {
        assert_eq!(record.bytes(), data, "a record is stored as the bytes received");
        let _ = record.verify_signature();
        assert_eq!(record.body().len() + ENVELOPE_OVERHEAD, data.len());
    }
});
