//! What the booth wipes, observed where a wipe matters: in memory handed back to the
//! allocator. In the browser the page can read the module's whole linear memory, freed
//! blocks included (spec/60 §60.1), so a secret is wiped before its memory is freed or it
//! is not wiped at all. This test binary's allocator zero-fills every block it hands out
//! (so every byte of a freed block was written) and, while a test watches for a needle,
//! counts the blocks freed that still hold it. Each test below fails when the wipe it
//! names is removed.
#![allow(unsafe_code, clippy::unwrap_used, clippy::panic, missing_docs)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU8, AtomicUsize, Ordering};

use urne_ballot::{Contest, ContestKind, Manifest};
use urne_booth::abi::SecretBuffer;
use urne_booth::{Booth, ElectionParams, Seed, Selection};
use urne_credential::Credential;
use urne_crypto::SecretKey;
use urne_election::{AuditRecord, CastBallot};
use urne_record::Record;

const MAX_NEEDLE: usize = 128;
static NEEDLE: [AtomicU8; MAX_NEEDLE] = [const { AtomicU8::new(0) }; MAX_NEEDLE];
static NEEDLE_LEN: AtomicUsize = AtomicUsize::new(0);
static FOUND: AtomicUsize = AtomicUsize::new(0);
/// One watch at a time: the tests of this binary run on parallel threads.
static WATCH: Mutex<()> = Mutex::new(());

struct Watching;

fn holds_needle(block: &[u8], len: usize) -> bool {
    let first = NEEDLE[0].load(Ordering::Relaxed);
    block.windows(len).any(|w| {
        w[0] == first
            && w.iter()
                .zip(&NEEDLE[..len])
                .all(|(b, n)| *b == n.load(Ordering::Relaxed))
    })
}

// SAFETY: every call is passed on to the system allocator with its own arguments; a block
// is read (never written) between its allocation and its deallocation, and every byte of
// it was initialised, since blocks are handed out zero-filled (`realloc` is the default:
// allocate here, copy, free here).
unsafe impl GlobalAlloc for Watching {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        let len = NEEDLE_LEN.load(Ordering::SeqCst);
        if len > 0 && layout.size() >= len {
            let block = unsafe { std::slice::from_raw_parts(ptr, layout.size()) };
            if holds_needle(block, len) {
                FOUND.fetch_add(1, Ordering::SeqCst);
            }
        }
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOCATOR: Watching = Watching;

/// Held for a whole test: what one test frees after its watch must not land in
/// another's.
fn serial() -> std::sync::MutexGuard<'static, ()> {
    WATCH
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Runs `f`, and answers how many blocks freed meanwhile still held `needle`.
fn freed_holding(needle: &[u8], f: impl FnOnce()) -> usize {
    assert!(!needle.is_empty() && needle.len() <= MAX_NEEDLE);
    for (slot, byte) in NEEDLE.iter().zip(needle) {
        slot.store(*byte, Ordering::Relaxed);
    }
    FOUND.store(0, Ordering::SeqCst);
    NEEDLE_LEN.store(needle.len(), Ordering::SeqCst);
    f();
    NEEDLE_LEN.store(0, Ordering::SeqCst);
    FOUND.load(Ordering::SeqCst)
}

/// The watch itself sees a block freed with the needle in it: a test below that counts
/// none could not have counted one either, were it never looking.
#[test]
fn the_watch_sees_a_secret_freed_unwiped() {
    let _serial = serial();
    let needle = b"a secret nobody wiped, freed as it is";
    assert_eq!(
        freed_holding(needle, || drop(std::hint::black_box(needle.to_vec()))),
        1
    );
    assert_eq!(
        freed_holding(needle, || {
            let mut wiped = needle.to_vec();
            zeroize::Zeroize::zeroize(&mut wiped);
            drop(std::hint::black_box(wiped));
        }),
        0
    );
}

const MARKER: &[u8] = b"passphrase: correct horse battery staple";

/// A request's room is zeros whatever it held before (the old content wiped, not only
/// written over where the new one goes), and a wipe empties it.
#[test]
fn the_secret_buffer_zeroes_its_room() {
    let _serial = serial();
    let mut buffer = SecretBuffer::new();
    buffer.zeroed(MARKER.len()).copy_from_slice(MARKER);
    assert_eq!(buffer.zeroed(MARKER.len() + 6), vec![0u8; MARKER.len() + 6]);
    buffer.zeroed(MARKER.len()).copy_from_slice(MARKER);
    assert_eq!(buffer.zeroed(4), &[0u8; 4], "shorter: not what was there");
    buffer.wipe();
    assert!(buffer.as_slice().is_empty());
}

/// The buffer grown keeps its content, and the allocation it outgrew was wiped before it
/// was freed (a `Vec` growing by itself frees its old bytes as they are).
#[test]
fn the_secret_buffer_wipes_the_allocation_it_outgrows() {
    let _serial = serial();
    use std::io::Write as _;
    let mut buffer = SecretBuffer::new();
    // Made before the watch: a plain `Vec` growing frees its old bytes as they are.
    let mut expected = MARKER.to_vec();
    for i in 0..200u8 {
        expected.extend_from_slice(&[i; 7]);
    }
    let found = freed_holding(MARKER, || {
        buffer.write_all(MARKER).unwrap();
        for i in 0..200u8 {
            buffer.write_all(&[i; 7]).unwrap();
        }
    });
    assert_eq!(buffer.as_slice(), expected.as_slice());
    assert_eq!(
        found, 0,
        "an outgrown allocation was freed holding the request"
    );
    // And the request's room, grown from a smaller one that held it.
    let mut buffer = SecretBuffer::new();
    let found = freed_holding(MARKER, || {
        buffer.zeroed(MARKER.len()).copy_from_slice(MARKER);
        assert_eq!(buffer.zeroed(4096).len(), 4096);
    });
    assert_eq!(found, 0);
}

/// Dropped, the buffer is wiped before its memory goes back to the allocator.
#[test]
fn the_secret_buffer_is_wiped_when_dropped() {
    let _serial = serial();
    let found = freed_holding(MARKER, || {
        let mut buffer = SecretBuffer::new();
        buffer.zeroed(MARKER.len()).copy_from_slice(MARKER);
        drop(buffer);
    });
    assert_eq!(found, 0);
}

/// A seed is wiped when dropped, wherever it went.
#[test]
fn a_seed_is_wiped_when_dropped() {
    let _serial = serial();
    let bytes: [u8; 32] = core::array::from_fn(|i| 0x40 + i as u8);
    let found = freed_holding(&bytes, || {
        let seed = Seed::take(&mut bytes.clone());
        drop(std::hint::black_box(seed));
    });
    assert_eq!(found, 0);
}

fn params(key: &urne_crypto::PublicKey, manifest: &Manifest) -> ElectionParams {
    ElectionParams {
        election: hex::encode([9u8; 32]),
        origin: "example.org/urne-booth-wipe".into(),
        manifest: hex::encode(manifest.to_bytes()),
        joint_key: hex::encode(key.to_bytes()),
        credential_root: hex::encode([7u8; 32]),
        eligibility: None,
        snapshot: None,
    }
}

fn choices() -> Vec<Selection> {
    vec![Selection {
        blank: false,
        values: vec![0, 1, 0],
    }]
}

fn seed(byte: u8) -> Seed {
    Seed::take(&mut [byte; 32])
}

/// The booth signs both decisions before the voter decides (spec/60 §60.2); the one not
/// released, the authority to take the other decision, is wiped: when the other is
/// released (cast or audit), and when the ballot is dropped undecided (a new ballot).
/// The signatures a seed makes are learnt from booths that released them; the watch is
/// for the commitment A of each (bytes 1..33 of its encoding, spec/22 §22.4), which
/// only the signature holds, encoded or not: the device's self-check of the proof keeps
/// A only as a curve point, and it keeps z as it is, so z is no needle (z alone
/// authorises nothing: the signature is checked against A).
#[test]
fn an_unreleased_ballot_signature_is_wiped() {
    let _serial = serial();
    let mut rng = rand::rng();
    let manifest = Manifest::new(
        "Wipe",
        vec![Contest {
            title: "Mayor".into(),
            kind: ContestKind::SingleChoice,
            blank: false,
            options: vec!["Ada".into(), "Grace".into(), "Edsger".into()],
        }],
    )
    .unwrap();
    let params = params(&SecretKey::generate(&mut rng).public_key(), &manifest);
    let credential = Credential::generate(&mut rng);
    let text = credential.to_text();
    let booth = || {
        let mut booth = Booth::default();
        booth.load(&params).unwrap();
        booth
    };
    let body = |hex_record: &str| {
        Record::parse(hex::decode(hex_record).unwrap())
            .unwrap()
            .body()
            .to_vec()
    };
    let mut one = booth();
    one.make_ballot(Some(&text), &choices(), seed(1)).unwrap();
    let cast = CastBallot::decode(&body(&one.cast(seed(2)).unwrap().record))
        .unwrap()
        .signature
        .to_bytes()[1..33]
        .to_vec();
    let mut two = booth();
    two.make_ballot(Some(&text), &choices(), seed(1)).unwrap();
    let audit = AuditRecord::decode(&body(&two.audit(seed(3)).unwrap().record))
        .unwrap()
        .signature
        .to_bytes()[1..33]
        .to_vec();
    assert_ne!(cast, audit);

    // Audited: the cast's signature is gone.
    let mut booth_ = booth();
    let found = freed_holding(&cast, || {
        booth_
            .make_ballot(Some(&text), &choices(), seed(1))
            .unwrap();
        booth_.audit(seed(4)).unwrap();
    });
    assert_eq!(
        found, 0,
        "an audit left its ballot's cast signature in memory"
    );
    // Cast: the audit's signature is gone.
    let found = freed_holding(&audit, || {
        booth_
            .make_ballot(Some(&text), &choices(), seed(1))
            .unwrap();
        booth_.cast(seed(5)).unwrap();
    });
    assert_eq!(
        found, 0,
        "a cast left its ballot's audit signature in memory"
    );
    // Dropped undecided (a new ballot replaces it, the booth goes): both are gone.
    for signature in [&cast, &audit] {
        let found = freed_holding(signature, || {
            let mut booth_ = booth();
            booth_
                .make_ballot(Some(&text), &choices(), seed(1))
                .unwrap();
            booth_
                .make_ballot(Some(&text), &choices(), seed(6))
                .unwrap();
            booth_
                .make_ballot(Some(&text), &choices(), seed(1))
                .unwrap();
            drop(booth_);
        });
        assert_eq!(found, 0, "a ballot dropped undecided left a signature");
    }
}

/// An anonymous election's parameters (spec/23 §23.11): six people in buckets of 4, one
/// registrar, and the sealed wallet file of one of them.
fn anonymous_params() -> (ElectionParams, Vec<u8>) {
    use urne_credential::registry::{Cosignature, Register, Registrars, SignedSnapshot, Snapshot};
    use urne_credential::wallet::{ATTRIBUTE_DISTRICT, Enrolment, KdfParams, Wallet};
    use urne_election::anonymous::Eligibility;
    const REGISTRY: [u8; 32] = [0x5e; 32];
    const KDF: KdfParams = KdfParams {
        memory_kib: 8,
        iterations: 1,
        parallelism: 1,
    };
    let mut rng = rand::rng();
    let registrar = ed25519_dalek::SigningKey::from_bytes(&[3u8; 32]);
    let registrars = Registrars::new(1, vec![registrar.verifying_key()]).unwrap();
    let mut register = Register::new();
    let mut file = Vec::new();
    for person in 0..6u8 {
        let mut wallet = Wallet::generate(&[(ATTRIBUTE_DISTRICT, 1)], &mut rng).unwrap();
        wallet
            .record_enrolment(Enrolment {
                registry: REGISTRY,
                registrars: registrars.clone(),
            })
            .unwrap();
        let request = wallet.enrolment_request(&REGISTRY, &mut rng).unwrap();
        register.enrol([person; 32], &request, false).unwrap();
        file = wallet.seal(WALLET_PASS.as_bytes(), KDF, &mut rng).unwrap();
    }
    let (header, entries) = register.snapshot_header(REGISTRY, 1, [0; 32], 2);
    let cosignature = Cosignature::sign(0, &registrar, &header.id());
    let snapshot = Snapshot::new(
        SignedSnapshot {
            header,
            cosignatures: vec![cosignature],
        },
        entries,
    )
    .unwrap();
    let eligibility = Eligibility {
        min_bucket_bits: 2,
        min_real_keys: 2,
        min_snapshot: 1,
        registry: REGISTRY,
        registrars,
    };
    let mut params = params(
        &SecretKey::generate(&mut rng).public_key(),
        &three_options(),
    );
    params.credential_root = hex::encode(snapshot.id());
    params.eligibility = Some(hex::encode(eligibility.to_bytes()));
    params.snapshot = Some(urne_booth::SnapshotParams {
        header: hex::encode(snapshot.signed().to_bytes()),
        parts: snapshot
            .parts()
            .iter()
            .map(|p| hex::encode(p.to_bytes()))
            .collect(),
    });
    (params, file)
}

const WALLET_PASS: &str = "a voter's passphrase";

fn three_options() -> Manifest {
    Manifest::new(
        "Wipe",
        vec![Contest {
            title: "Mayor".into(),
            kind: ContestKind::SingleChoice,
            blank: false,
            options: vec!["Ada".into(), "Grace".into(), "Edsger".into()],
        }],
    )
    .unwrap()
}

/// In an anonymous election the booth makes both ring signatures (spec/23 §23.12) before
/// the voter decides; a Triptych signature keeps X, Y and f on the heap. The one not
/// released is wiped, value and encoding, before its memory is freed: the watch is for
/// its X[0] (bytes 161..193 of its encoding, spec/08 §8.6: version, J, A, B, C, D, then
/// X), learnt from a booth that released it.
#[test]
fn an_unreleased_ring_signature_is_wiped() {
    let _serial = serial();
    let (params, file) = anonymous_params();
    let booth = || {
        let mut booth = Booth::default();
        booth.load(&params).unwrap();
        booth.open_wallet(&file, WALLET_PASS).unwrap();
        booth
    };
    let body = |hex_record: &str| {
        Record::parse(hex::decode(hex_record).unwrap())
            .unwrap()
            .body()
            .to_vec()
    };
    let x0 = |signature: &[u8]| signature[161..193].to_vec();
    let mut one = booth();
    one.make_ballot(None, &choices(), seed(1)).unwrap();
    let cast = x0(&urne_election::anonymous::AnonymousCast::decode(&body(
        &one.cast(seed(2)).unwrap().record,
    ))
    .unwrap()
    .signature
    .bytes);
    let mut two = booth();
    two.make_ballot(None, &choices(), seed(1)).unwrap();
    let audit = x0(&urne_election::anonymous::AnonymousAudit::decode(&body(
        &two.audit(seed(3)).unwrap().record,
    ))
    .unwrap()
    .signature
    .bytes);
    assert_ne!(cast, audit);

    // Audited: the cast's ring signature is gone.
    let mut three = booth();
    let found = freed_holding(&cast, || {
        three.make_ballot(None, &choices(), seed(1)).unwrap();
        three.audit(seed(4)).unwrap();
    });
    assert_eq!(
        found, 0,
        "an audit left the cast's ring signature in memory"
    );
    // Cast: the audit's ring signature is gone.
    let mut four = booth();
    let found = freed_holding(&audit, || {
        four.make_ballot(None, &choices(), seed(1)).unwrap();
        four.cast(seed(5)).unwrap();
    });
    assert_eq!(found, 0, "a cast left the audit's ring signature in memory");
}
