//! The web booth and the public pages in a real browser (spec/60, spec/61): headless
//! Chromium, driven over WebDriver by chromedriver, against `urne serve` started by the
//! test, with an election set up by the `urne` commands. A voter is refused an invalid
//! selection with its message, audits a ballot (which `urne audit` then checks), casts
//! one, downloads the receipt (which `urne receipt check` accepts) and checks it in the
//! page; another votes with the keyboard alone; traps in the module (while making the
//! ballot, auditing, casting, making the receipt) are recovered from, the trapped
//! instance's memory wiped;
//! after the tally the results page shows the totals. Screenshots of the main
//! pages go to `target/tmp/booth-browser/`, with the time to encrypt and prove a
//! 10-option approval ballot in the page (printed, never asserted).
//!
//! Without Chromium, chromedriver or the booth's WebAssembly bundle
//! (crates/urne-booth/build.sh) the test is skipped with a loud message — unless
//! `URNE_REQUIRE_BROWSER=1` (set by .ci/run), when it fails.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

mod common;
use common::{BoardProcess, Server, Walk, field, free_port};

/// The review of the choices the first voter makes in [`MANIFEST`]'s election.
const REVIEWED: &str = "President\nGrace\nProjects\nParks, Bike lanes\nBudget\nPark, Lanes";

const MANIFEST: &str = r#"title = "Urneville budget"

[[contest]]
title = "President"
kind = "single-choice"
blank = true
options = ["Ada", "Alan", "Grace"]

[[contest]]
title = "Projects"
kind = "approval"
min = 1
max = 2
options = ["Parks", "Library", "Bike lanes"]

[[contest]]
title = "Budget"
kind = "budget"
budget = 1000
min-spend = 100
min-projects = 1
max-projects = 3
rule = "greedy"
blank = true
options = ["Park", "Pool", "Lanes"]
costs = [600, 500, 200]
"#;

fn tool(var: &str, default: &str) -> PathBuf {
    std::env::var_os(var).map_or_else(|| PathBuf::from(default), PathBuf::from)
}

/// After a trap: `instances` instances made so far, every retired one's memory all
/// zeros (spec/60 §60.2), and none retired without a trap.
fn assert_retired_memory_wiped(browser: &Browser, instances: u64) {
    assert_retired(browser, instances, instances - 1);
}

/// `instances` made, `retired` of them retired, each retired memory all zeros when the
/// page let it go (the page keeps its size and first non-zero byte, not the memory).
fn assert_retired(browser: &Browser, instances: u64, retired: u64) {
    let seen = browser.script(
        "return [URNE_TEST.instances, URNE_TEST.retired.length,
                 URNE_TEST.retired.map(r => r.byteLength),
                 URNE_TEST.retired.map(r => r.firstNonZero)]",
        json!([]),
    );
    assert_eq!(seen[0], json!(instances), "{seen}");
    assert_eq!(seen[1], json!(retired), "{seen}");
    for size in seen[2].as_array().unwrap() {
        assert!(size.as_u64().unwrap() > 0, "{seen}");
    }
    for first_nonzero in seen[3].as_array().unwrap() {
        assert_eq!(
            first_nonzero,
            &json!(-1),
            "a retired instance's memory holds a non-zero byte: {seen}"
        );
    }
}

/// Everything the page's scripts hold (its globals, the top-level bindings of
/// common.js and booth.js, and what they refer to, data properties only) is walked: the
/// places found holding a WebAssembly memory or instance, the module's exports, or a
/// buffer the size of a memory (whole 64 KiB pages). spec/60 §60.2: no global of the page
/// refers to the module's exports or memory. `plant` is a script run first.
fn module_reachable_from_globals(browser: &Browser, plant: &str) -> Value {
    let web = Path::new(env!("CARGO_MANIFEST_DIR")).join("../urne-server/web");
    let mut names = Vec::new();
    for script in ["common.js", "booth.js"] {
        let source = std::fs::read_to_string(web.join(script)).unwrap();
        // Top-level declarations start their line.
        for line in source
            .lines()
            .filter(|l| !l.starts_with(char::is_whitespace))
        {
            let words: Vec<&str> = line.split_whitespace().collect();
            let name = match words.as_slice() {
                ["const" | "let" | "var" | "class" | "function", name, ..]
                | ["async", "function", name, ..] => *name,
                _ => continue,
            };
            let name: String = name
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_' || *c == '$')
                .collect();
            names.push(name);
        }
    }
    assert!(names.iter().any(|n| n == "booth") && names.iter().any(|n| n == "TEST_HOOKS"));
    // Named in the script itself (the page's policy allows no eval): each is read where
    // the page's scripts declared it, in the global scope.
    let bindings: String = names
        .iter()
        .map(|n| format!("try {{ w_stack.push(['{n}', {n}, 0]); }} catch (e) {{}}\n"))
        .collect();
    browser.script(
        &format!(
            "{plant}
             const w_frame = document.createElement('iframe');
             document.body.appendChild(w_frame);
             const w_builtin = new Set(Object.getOwnPropertyNames(w_frame.contentWindow));
             w_frame.remove();
             const w_stack = [];
             for (const k of Object.getOwnPropertyNames(window)) {{
               if (w_builtin.has(k)) continue;
               const d = Object.getOwnPropertyDescriptor(window, k);
               if (d && 'value' in d) w_stack.push(['window.' + k, d.value, 0]);
             }}
             {bindings}
             const w_roots = w_stack.length;
             const w_seen = new Set();
             const w_found = [];
             while (w_stack.length) {{
               const [path, v, depth] = w_stack.pop();
               if (v === null || (typeof v !== 'object' && typeof v !== 'function')) continue;
               if (w_seen.has(v) || v === window || v === document || v instanceof Node) continue;
               w_seen.add(v);
               if (v instanceof WebAssembly.Memory || v instanceof WebAssembly.Instance
                   || typeof v.booth_call === 'function'
                   || ((v instanceof ArrayBuffer || ArrayBuffer.isView(v))
                       && v.byteLength > 0 && v.byteLength % 65536 === 0)) {{
                 w_found.push(path);
                 continue;
               }}
               if (depth >= 10) continue;
               let keys = [];
               try {{ keys = Reflect.ownKeys(v); }} catch (e) {{}}
               for (const k of keys) {{
                 if (typeof k !== 'string') continue;
                 let d;
                 try {{ d = Object.getOwnPropertyDescriptor(v, k); }} catch (e) {{ continue; }}
                 if (d && 'value' in d) w_stack.push([path + '.' + k, d.value, depth + 1]);
               }}
               if (v instanceof Map || v instanceof Set) {{
                 for (const e of v) w_stack.push([path + '[…]', e, depth + 1]);
               }}
             }}
             return [w_roots, w_seen.size, w_found];"
        ),
        json!([]),
    )
}

/// Nothing of the module is reachable from the page's globals: a memory planted where
/// a global refers to it is found (the walk can see one), none is otherwise.
fn assert_module_unreachable(browser: &Browser) {
    let planted = module_reachable_from_globals(
        browser,
        "booth.probe = { deep: [{ memory: new WebAssembly.Memory({ initial: 1 }) }] };",
    );
    assert_eq!(
        planted[2],
        json!(["booth.probe.deep.0.memory"]),
        "{planted}"
    );
    let seen = module_reachable_from_globals(browser, "delete booth.probe;");
    assert!(seen[0].as_u64().unwrap() > 20, "the page's globals: {seen}");
    assert!(seen[1].as_u64().unwrap() > 50, "what they refer to: {seen}");
    assert_eq!(
        seen[2],
        json!([]),
        "the module's exports or memory are reachable from a global"
    );
}

/// Where crates/urne-booth/build.sh puts the bundle (or `URNE_BOOTH_WASM`).
fn wasm_bundle() -> PathBuf {
    if let Some(path) = std::env::var_os("URNE_BOOTH_WASM") {
        return PathBuf::from(path);
    }
    let target = std::env::var_os("CARGO_TARGET_DIR").map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target"),
        PathBuf::from,
    );
    target.join("booth/urne_booth.wasm")
}

/// What is missing to run the test, if anything.
fn missing() -> Vec<String> {
    let mut missing = Vec::new();
    for (var, default, what) in [
        (
            "URNE_CHROMIUM",
            "/usr/bin/chromium",
            "Chromium (apt-get install chromium)",
        ),
        (
            "URNE_CHROMEDRIVER",
            "/usr/bin/chromedriver",
            "chromedriver (apt-get install chromium-driver)",
        ),
    ] {
        if !tool(var, default).exists() {
            missing.push(format!("{what}: no {}", tool(var, default).display()));
        }
    }
    if !wasm_bundle().exists() {
        missing.push(format!(
            "the booth's WebAssembly bundle: no {} (run crates/urne-booth/build.sh)",
            wasm_bundle().display()
        ));
    }
    missing
}

/// A WebDriver session on headless Chromium (W3C WebDriver over HTTP).
struct Browser {
    agent: ureq::Agent,
    base: String,
    _driver: Server,
}

const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";
// WebDriver's key codes (W3C WebDriver §17.4.2).
const TAB: &str = "\u{E004}";
const ENTER: &str = "\u{E007}";
const SPACE: &str = "\u{E00D}";

impl Browser {
    fn start(profile: &Path, downloads: &Path) -> Self {
        let port = free_port();
        let driver = Command::new(tool("URNE_CHROMEDRIVER", "/usr/bin/chromedriver"))
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let driver = Server(driver);
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(90)))
            .build()
            .into();
        let root = format!("http://127.0.0.1:{port}");
        let started = Instant::now();
        while agent.get(format!("{root}/status")).call().is_err() {
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "chromedriver did not start"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = std::fs::remove_dir_all(profile);
        std::fs::create_dir_all(profile).unwrap();
        let capabilities = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": tool("URNE_CHROMIUM", "/usr/bin/chromium"),
                "args": [
                    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                    "--no-first-run", "--disable-background-networking",
                    "--disable-component-update", "--disable-sync", "--window-size=1100,1400",
                    format!("--user-data-dir={}", profile.display()),
                ],
                "prefs": {
                    "download.default_directory": downloads,
                    "download.prompt_for_download": false,
                },
            },
        }}});
        let mut answer = agent
            .post(format!("{root}/session"))
            .header("content-type", "application/json")
            .send(capabilities.to_string())
            .unwrap();
        let answer: Value =
            serde_json::from_str(&answer.body_mut().read_to_string().unwrap()).unwrap();
        let session = answer["value"]["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no WebDriver session: {answer}"))
            .to_owned();
        Self {
            agent,
            base: format!("{root}/session/{session}"),
            _driver: driver,
        }
    }

    fn call(&self, method: &str, path: &str, body: Option<Value>) -> Result<Value, String> {
        let url = format!("{}{path}", self.base);
        let mut response = match (method, body) {
            ("GET", _) => self.agent.get(&url).call(),
            ("DELETE", _) => self.agent.delete(&url).call(),
            (_, body) => self
                .agent
                .post(&url)
                .header("content-type", "application/json")
                .send(body.unwrap_or(json!({})).to_string()),
        }
        .map_err(|e| e.to_string())?;
        let ok = response.status().is_success();
        let text = response
            .body_mut()
            .read_to_string()
            .map_err(|e| e.to_string())?;
        let answer: Value = serde_json::from_str(&text).map_err(|e| e.to_string())?;
        if ok {
            Ok(answer["value"].clone())
        } else {
            Err(answer["value"]["message"].to_string())
        }
    }

    fn go(&self, url: &str) {
        self.call("POST", "/url", Some(json!({ "url": url })))
            .unwrap();
    }

    fn find(&self, css: &str) -> Option<String> {
        self.call(
            "POST",
            "/element",
            Some(json!({"using": "css selector", "value": css})),
        )
        .ok()
        .and_then(|v| v[ELEMENT].as_str().map(str::to_owned))
    }

    /// The element, once the page shows it (the booth's steps render asynchronously).
    fn wait(&self, css: &str) -> String {
        let started = Instant::now();
        loop {
            if let Some(id) = self.find(css) {
                return id;
            }
            if started.elapsed() > Duration::from_secs(40) {
                let page = self.script("return document.body.innerText", json!([]));
                panic!("no {css} on the page after 40 s; the page shows: {page}");
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// The element's text, once it contains `needle` (a step's answer arrives
    /// asynchronously, into an element that may already hold an earlier one).
    fn wait_text(&self, css: &str, needle: &str) -> String {
        let started = Instant::now();
        loop {
            let text = self.text(css);
            if text.contains(needle) {
                return text;
            }
            assert!(
                started.elapsed() < Duration::from_secs(40),
                "{css} never showed {needle:?}; it shows {text:?}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn click(&self, css: &str) {
        let id = self.wait(css);
        self.call("POST", &format!("/element/{id}/click"), None)
            .unwrap_or_else(|e| panic!("clicking {css}: {e}"));
    }

    fn type_in(&self, css: &str, text: &str) {
        let id = self.wait(css);
        self.call(
            "POST",
            &format!("/element/{id}/value"),
            Some(json!({ "text": text })),
        )
        .unwrap();
    }

    /// The element's text. The page re-renders as its answers arrive: an element found a
    /// moment before may be replaced before its text is read, so it is found again.
    fn text(&self, css: &str) -> String {
        for _ in 0..50 {
            let id = self.wait(css);
            match self.call("GET", &format!("/element/{id}/text"), None) {
                Ok(text) => return text.as_str().unwrap().to_owned(),
                Err(e) if e.contains("stale element") => {
                    std::thread::sleep(Duration::from_millis(100))
                }
                Err(e) => panic!("reading {css}: {e}"),
            }
        }
        panic!("{css} kept being replaced while its text was read");
    }

    fn script(&self, script: &str, args: Value) -> Value {
        self.call(
            "POST",
            "/execute/sync",
            Some(json!({"script": script, "args": args})),
        )
        .unwrap_or_else(|e| panic!("script failed: {e}"))
    }

    fn script_async(&self, script: &str, args: Value) -> Value {
        self.call(
            "POST",
            "/execute/async",
            Some(json!({"script": script, "args": args})),
        )
        .unwrap_or_else(|e| panic!("script failed: {e}"))
    }

    /// Presses keys as a keyboard does (WebDriver key actions on whatever has the
    /// focus): no element is targeted, so only what the keyboard reaches is reached.
    fn keys(&self, keys: &str) {
        let actions: Vec<Value> = keys
            .chars()
            .flat_map(|k| {
                [
                    json!({"type": "keyDown", "value": k.to_string()}),
                    json!({"type": "keyUp", "value": k.to_string()}),
                ]
            })
            .collect();
        self.call(
            "POST",
            "/actions",
            Some(json!({"actions": [{"type": "key", "id": "keyboard", "actions": actions}]})),
        )
        .unwrap_or_else(|e| panic!("pressing {keys:?}: {e}"));
    }

    /// Presses Tab until the focus is on `css` (the page renders asynchronously, so it
    /// waits for the element first), and checks the focus is visible there.
    fn tab_to(&self, css: &str) {
        self.wait(css);
        for _ in 0..60 {
            let at = self.script(
                "return document.activeElement.matches(arguments[0])",
                json!([css]),
            );
            if at == json!(true) {
                // The site's own :focus-visible outline (urne.css: 3px solid #1a1a1a, 17:1
                // on white), not the browser's default, which a stylesheet can lose.
                let outline = self.script(
                    "const e = document.activeElement, s = getComputedStyle(e);
                     return [e.matches(':focus-visible'), s.outlineStyle, s.outlineWidth, s.outlineColor, s.outlineOffset]",
                    json!([]),
                );
                assert_eq!(
                    outline,
                    json!([true, "solid", "3px", "rgb(26, 26, 26)", "2px"]),
                    "the focus on {css} is not the site's visible outline"
                );
                return;
            }
            self.keys(TAB);
        }
        let at = self.script("return document.activeElement.outerHTML", json!([]));
        panic!("Tab never reached {css}; the focus is on {at}");
    }

    fn screenshot(&self, dir: &Path, name: &str) {
        let png = self.call("GET", "/screenshot", None).unwrap();
        use base64::Engine as _;
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(png.as_str().unwrap())
            .unwrap();
        std::fs::write(dir.join(format!("{name}.png")), bytes).unwrap();
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.call("DELETE", "", None);
    }
}

/// Follows the skip link as a keyboard user's Enter does (its default action included).
fn press_skip_link(browser: &Browser) {
    browser.script("document.querySelector('a.skip').click()", json!([]));
    std::thread::sleep(Duration::from_millis(300));
}

/// Whether the browser test must be skipped (loudly): Chromium, chromedriver or the
/// bundle is missing and `URNE_REQUIRE_BROWSER=1` is not set (with it, a panic).
fn skip_without_browser() -> bool {
    let missing = missing();
    if missing.is_empty() {
        return false;
    }
    let required = std::env::var("URNE_REQUIRE_BROWSER").is_ok_and(|v| v == "1");
    assert!(
        !required,
        "URNE_REQUIRE_BROWSER=1 and the browser test cannot run: {missing:?}"
    );
    // Straight to the process's stderr: libtest hides what a passing test prints with
    // eprintln!, and a skip must be seen.
    let bar = "!".repeat(80);
    let mut loud = format!(
        "\n{bar}\n!! SKIPPED: the browser test of the booth (booth_browser.rs) did not run:\n"
    );
    for m in &missing {
        loud += &format!("!!   missing {m}\n");
    }
    loud += "!! .ci/run installs them and sets URNE_REQUIRE_BROWSER=1 so it never skips there.\n";
    loud += &format!("{bar}\n\n");
    use std::io::Write as _;
    let _ = std::io::stderr().write_all(loud.as_bytes());
    true
}

/// A fresh directory and `urne serve` on it, with the booth's bundle: the directory,
/// where screenshots go, the site's address, the walk of `urne` commands against it, and
/// the server (stopped when dropped).
fn board(name: &str) -> (PathBuf, PathBuf, String, Walk, BoardProcess) {
    let dir = std::env::temp_dir().join(format!("urne-{name}-browser-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let shots = Path::new(env!("CARGO_TARGET_TMPDIR")).join("booth-browser");
    std::fs::create_dir_all(&shots).unwrap();
    std::fs::write(dir.join("serve.toml"), "checkpoint_interval_ms = 300\n").unwrap();
    let server = BoardProcess::start(&dir, &[], &[("URNE_BOOTH_WASM", &wasm_bundle())]);
    let site = server.url.clone();
    let walk = Walk {
        dir: dir.clone(),
        board: site.clone(),
        board_key_file: None,
    };
    (dir, shots, site, walk, server)
}

const AUTHORITY: [&str; 2] = ["--key", "data/authority.key"];

/// A trustee command's arguments (`ceremony` or `decrypt`) for trustee `t` of 2.
fn trustee_args(election: &str, t: u8, what: &str) -> Vec<String> {
    let mut args = vec![
        "trustee".to_owned(),
        what.to_owned(),
        "--election".to_owned(),
        election.to_owned(),
        "--key".to_owned(),
        format!("trustee{t}.key"),
        "--state".to_owned(),
        format!("trustee{t}.state"),
        "--passphrase-file".to_owned(),
        format!("pass{t}"),
    ];
    if what == "ceremony" {
        args.extend(["--timeout".to_owned(), "120".to_owned()]);
    }
    args
}

/// The authority creates the election of `manifest` and holds its 2-of-2 key ceremony
/// with two trustee processes; returns the election's id.
fn create_with_ceremony(walk: &Walk, manifest: &str) -> String {
    let created = walk.ok(&[
        "election",
        "create",
        AUTHORITY[0],
        AUTHORITY[1],
        "--manifest",
        manifest,
    ]);
    let election = field(&created, "election:").to_owned();
    let e = ["--election", election.as_str()];
    let mut ceremony = vec![
        "election",
        "ceremony",
        AUTHORITY[0],
        AUTHORITY[1],
        e[0],
        e[1],
    ];
    let mut keys = Vec::new();
    for t in 1..=2 {
        let out = walk.ok(&["trustee", "keygen", "--out", &format!("trustee{t}.key")]);
        keys.push(field(&out, "public key:").to_owned());
        std::fs::write(walk.dir.join(format!("pass{t}")), format!("pass {t}\n")).unwrap();
    }
    for key in &keys {
        ceremony.extend(["--trustee", key.as_str()]);
    }
    ceremony.extend(["--threshold", "2"]);
    walk.ok(&ceremony);
    let running: Vec<_> = (1..=2)
        .map(|t| {
            let args = trustee_args(&election, t, "ceremony");
            walk.spawn(&args.iter().map(String::as_str).collect::<Vec<_>>())
        })
        .collect();
    walk.ok(&[
        "election",
        "close-round",
        AUTHORITY[0],
        AUTHORITY[1],
        e[0],
        e[1],
        "--round",
        "5",
    ]);
    for child in running {
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    election
}

/// Closes the election, both trustees decrypt, the authority posts the result.
fn decrypt_and_tally(walk: &Walk, election: &str) {
    let e = ["--election", election];
    walk.ok(&["election", "close", AUTHORITY[0], AUTHORITY[1], e[0], e[1]]);
    for t in 1..=2 {
        let args = trustee_args(election, t, "decrypt");
        walk.ok(&args.iter().map(String::as_str).collect::<Vec<_>>());
    }
    walk.ok(&["tally", AUTHORITY[0], AUTHORITY[1], e[0], e[1]]);
}

#[test]
fn a_voter_audits_casts_and_checks_a_receipt_in_the_browser_and_the_results_page_shows_the_totals()
{
    if skip_without_browser() {
        return;
    }
    let (dir, shots, site, walk, _server) = board("booth");
    std::fs::write(dir.join("manifest.toml"), MANIFEST).unwrap();

    // The authority, two trustees and the registrar set the election up for voting.
    let authority = AUTHORITY;
    let election = create_with_ceremony(&walk, "manifest.toml");
    let e = ["--election", election.as_str()];
    std::fs::write(dir.join("voters.csv"), "id\nalice\nbob\ncarol\n").unwrap();
    walk.ok(&[
        "registrar",
        "issue",
        authority[0],
        authority[1],
        e[0],
        e[1],
        "--voters",
        "voters.csv",
        "--out",
        "credentials",
    ]);
    walk.ok(&["election", "open", authority[0], authority[1], e[0], e[1]]);
    let alice = std::fs::read_to_string(dir.join("credentials/alice.credential")).unwrap();

    let downloads = dir.join("downloads");
    std::fs::create_dir_all(&downloads).unwrap();
    let browser = Browser::start(&dir.join("chromium-profile"), &downloads);

    // The booth lists the elections open for voting; the election's page loads it and
    // hashes its context itself: the board's value. The test switch lets the test arm the
    // module's trap drill and see the memories of the instances the page retired.
    browser.go(&format!("{site}/booth/?test-hooks"));
    browser.click(&format!("a[href='#{election}']"));
    let shown_hash = browser.text("#context-hash");
    let agent = ureq::agent();
    let info: Value = serde_json::from_str(
        &agent
            .get(format!("{site}/v1/public/elections/{election}"))
            .call()
            .unwrap()
            .body_mut()
            .read_to_string()
            .unwrap(),
    )
    .unwrap();
    assert_eq!(shown_hash, info["context_hash"].as_str().unwrap());
    browser.screenshot(&shots, "booth-election");
    // The page shows the SHA-256 of the module it runs and of its scripts: those of the
    // bundle built from source and of web/ (review finding 4).
    browser.wait("#code-digests");
    let digests = browser.script(
        "return Object.fromEntries(Array.from(document.querySelectorAll('#code-digests tr'), r => [r.dataset.path, r.cells[1].textContent]))",
        json!([]),
    );
    let sha = |bytes: &[u8]| {
        use sha2::Digest as _;
        hex::encode(sha2::Sha256::digest(bytes))
    };
    let web = Path::new(env!("CARGO_MANIFEST_DIR")).join("../urne-server/web");
    assert_eq!(
        digests,
        json!({
            "/booth/urne_booth.wasm": sha(&std::fs::read(wasm_bundle()).unwrap()),
            "/booth/common.js": sha(&std::fs::read(web.join("common.js")).unwrap()),
            "/booth/booth.js": sha(&std::fs::read(web.join("booth.js")).unwrap()),
        })
    );

    // A mistyped credential is refused in the page, naming what is wrong.
    browser.type_in("#credential", "ABCD-not-a-credential");
    browser.click("#credential-continue");
    let refused = browser.text("#credential-error");
    assert!(refused.starts_with("Error: "), "{refused}");
    // The module's coded errors are worded in the page's language (spec/60 §60.2).
    browser.script(
        "document.getElementById('credential').value = ''",
        json!([]),
    );
    browser.type_in("#credential", "ABCD-EFGH-0JKL-MNPQ-RSTU-VWXY");
    browser.click("#credential-continue");
    assert_eq!(
        browser.text("#credential-error"),
        "Error: Character 9 of the credential, \u{201c}0\u{201d}, cannot be in a credential (there is no 0, O, I or l)."
    );
    browser.click("button.lang");
    browser.type_in("#credential", "ABCD-EFGH-0JKL-MNPQ-RSTU-VWXY");
    browser.click("#credential-continue");
    assert_eq!(
        browser.text("#credential-error"),
        "Erreur: Le caractère 9 du code, \u{ab} 0 \u{bb}, ne peut pas figurer dans un code de vote (il n'y a ni 0, ni O, ni I, ni l)."
    );
    browser.click("button.lang");
    browser.script(
        "document.getElementById('credential').value = ''",
        json!([]),
    );
    // A well-formed credential that is not on this election's list is refused too.
    let stranger = urne_credential::Credential::generate(&mut rand::rng());
    browser.type_in("#credential", stranger.to_text().as_str());
    browser.click("#credential-continue");
    browser.wait_text("#credential-error", "not on this election's list");
    assert_eq!(browser.text("#step"), "1. The election");
    browser.script(
        "document.getElementById('credential').value = ''",
        json!([]),
    );
    browser.type_in("#credential", alice.trim());
    browser.click("#credential-continue");

    // Three projects where at most two may be chosen, and two that overspend the budget:
    // refused, each with its rule's message.
    browser.click("#contest-0-option-2");
    // The skip link moves focus to the content and nothing else: the choice made stays,
    // the step stays, the hash still names the election (review finding 1).
    press_skip_link(&browser);
    assert_eq!(browser.text("#step"), "3. Your choices");
    assert_eq!(
        browser.script(
            "return [location.hash, document.activeElement.id, document.getElementById('contest-0-option-2').checked]",
            json!([])
        ),
        json!([format!("#{election}"), "main", true])
    );
    for o in 0..3 {
        browser.click(&format!("#contest-1-option-{o}"));
    }
    browser.click("#contest-2-option-0");
    browser.click("#contest-2-option-1");
    assert_eq!(
        browser.text("#contest-2-total"),
        "Your projects cost 1100 of the budget of 1000."
    );
    browser.click("#review");
    let errors = browser.text("#choice-errors");
    assert!(
        errors.contains("Choose at most 2 options (you chose 3)."),
        "{errors}"
    );
    assert!(
        errors.contains("Budget: Your projects cost 1100, over the budget of 1000."),
        "{errors}"
    );
    browser.screenshot(&shots, "booth-invalid-selection");
    // The same message in French.
    browser.click("button.lang");
    browser.click("#review");
    let errors = browser.text("#choice-errors");
    assert!(
        errors.contains("Choisissez au plus 2 options (vous en avez choisi 3)."),
        "{errors}"
    );
    assert!(
        errors.contains("Vos projets coûtent 1100, au-delà du budget de 1000."),
        "{errors}"
    );
    browser.click("button.lang");
    browser.click("#contest-1-option-1");
    browser.click("#contest-2-option-1");
    browser.click("#contest-2-option-2");
    browser.click("#review");
    assert_eq!(browser.text("#review-list"), REVIEWED);
    browser.screenshot(&shots, "booth-review");

    // The module checks the rules again: a selection the page's own check would have
    // stopped, handed to it directly, is refused naming its contest.
    browser.script(
        "window.savedChoice = booth.choices[1].values.slice(); booth.choices[1].values = [1, 1, 1];",
        json!([]),
    );
    browser.click("#encrypt");
    let refused = browser.text("#ballot-error");
    assert!(refused.contains("(selections[1])"), "{refused}");
    browser.script("booth.choices[1].values = window.savedChoice;", json!([]));

    // A trap in the module leaves that instance unusable, and its memory may hold the
    // credential's traces, a seed, the ballot's nonces. The page wipes that memory whole,
    // drops the instance, loads a fresh one, says so, and the voter makes the ballot again
    // (spec/60 §60.2). The trap drill makes the next ballot call trap inside the module.
    assert_eq!(
        browser.script(
            "return [URNE_TEST.instances, URNE_TEST.retired.length]",
            json!([])
        ),
        json!([1, 0]),
        "one instance"
    );
    assert_module_unreachable(&browser);
    browser.script("booth.call(OP.trapDrill, { op: OP.ballot })", json!([]));
    browser.click("#encrypt");
    let restarted = browser.text("#module-restarted");
    assert!(restarted.contains("has been restarted"), "{restarted}");
    assert_eq!(browser.text("#step"), "4. Review");
    assert_retired_memory_wiped(&browser, 2);
    assert_eq!(browser.text("#review-list"), REVIEWED);

    // An audit that ends in an error rather than a trap is interrupted too (spec/60
    // §60.2): here the board refuses the opening's post, then does not answer it at all.
    // The module has spent the ballot and its opening is lost: the page warns as for a
    // trap, naming this ballot's code, beside the error and the way to a new ballot, and
    // keeps warning at the review.
    for drill in [
        "Promise.resolve(new Response(JSON.stringify({ code: 'unavailable', message: 'drill: refused' }), { status: 503, headers: { 'content-type': 'application/json' } }))",
        "Promise.reject(new TypeError('drill: the board does not answer'))",
    ] {
        browser.click("#encrypt");
        browser.wait("#audit");
        let code = browser.text("#tracking-code");
        browser.script(
            &format!(
                "const real = window.fetch;
                 window.fetch = function (path, options) {{
                   if (path !== '/v1/records') return real(path, options);
                   window.fetch = real;
                   return {drill};
                 }};"
            ),
            json!([]),
        );
        browser.click("#audit");
        browser.wait("#new-ballot");
        let warning = browser.text("#post-error #audit-interrupted");
        assert!(
            warning.contains("your audit was interrupted") && warning.contains(code.as_str()),
            "{drill}: {warning}"
        );
        assert_eq!(
            browser.script(
                "return document.querySelectorAll('#audit-interrupted').length",
                json!([])
            ),
            json!(1),
            "{drill}: one warning, this ballot's"
        );
        browser.click("#new-ballot");
        assert_eq!(browser.text("#step"), "4. Review");
        assert!(
            browser.text("#audit-interrupted").contains(code.as_str()),
            "{drill}"
        );
    }
    assert_retired_memory_wiped(&browser, 2);

    // A trap during the audit: nothing was posted, a fresh instance serves, and the
    // voter's choices are still theirs to make the ballot again from.
    browser.click("#encrypt");
    browser.wait("#audit");
    // An interrupted audit is itself suspicious (a cheating device could abort every
    // audit and never be caught): the page says so plainly, in both languages, instead of
    // only asking for a new ballot, and keeps saying it at the review and the next
    // ballot (spec/60 §60.2).
    let interrupted_code = browser.text("#tracking-code");
    browser.script("booth.call(OP.trapDrill, { op: OP.audit })", json!([]));
    browser.click("#audit");
    let warning = browser.text("#audit-interrupted");
    for needle in [
        "your audit was interrupted",
        "An audit that does not finish is itself suspicious",
        "Report it to the election authority",
        interrupted_code.as_str(),
        "Do not simply make a new ballot and cast it on this device",
    ] {
        assert!(warning.contains(needle), "{needle:?} in {warning}");
    }
    assert!(
        browser.find("#module-restarted").is_none(),
        "not the plain restart notice"
    );
    assert_eq!(browser.text("#step"), "4. Review");
    assert_eq!(browser.text("#review-list"), REVIEWED);
    assert_retired_memory_wiped(&browser, 3);
    browser.click("button.lang");
    let avertissement = browser.text("#audit-interrupted");
    assert!(
        avertissement.contains("Un audit qui n'aboutit pas est suspect en soi")
            && avertissement.contains("Signalez-le"),
        "{avertissement}"
    );
    browser.click("button.lang");
    // After traps, with the test switch on, still nothing of the module is reachable
    // from a global: the page keeps the retired memories' sizes, not the memories.
    assert_module_unreachable(&browser);

    // Any exception out of a call is a trap, not only a WebAssembly RuntimeError (review
    // of issue 11, finding 2): a TypeError or a RangeError (a stack overflow) thrown while
    // the page writes the request, draws the seed or calls the module wipes that instance
    // and restarts the module the same way. Here crypto.getRandomValues throws once.
    for (error, instances) in [("TypeError", 4), ("RangeError", 5)] {
        browser.script(
            &format!(
                "crypto.getRandomValues = function () {{
                   delete crypto.getRandomValues;
                   throw new {error}('drill: thrown during a call');
                 }};"
            ),
            json!([]),
        );
        browser.click("#encrypt");
        let restarted = browser.text("#module-restarted");
        assert!(
            restarted.contains("has been restarted"),
            "{error}: {restarted}"
        );
        assert_eq!(browser.text("#step"), "4. Review", "{error}");
        assert_retired_memory_wiped(&browser, instances);
    }
    assert!(
        browser.find("#audit-interrupted").is_some(),
        "the interrupted audit is still reported"
    );

    // Audit: the opening is shown and posted; `urne audit` and the public lookup agree.
    browser.click("#encrypt");
    let audited_code = browser.text("#tracking-code");
    browser.screenshot(&shots, "booth-tracking-code");
    // The voter is told, EN and FR, that an audit publishes the choices with the credential.
    let warning = browser.text("#audit-warning");
    assert!(
        warning.contains("your credential's public key"),
        "{warning}"
    );
    browser.click("button.lang");
    let warning = browser.text("#audit-warning");
    assert!(
        warning.contains("la clé publique de votre identifiant"),
        "{warning}"
    );
    browser.click("button.lang");
    browser.click("#audit");
    browser.wait("#audit-done");
    assert_eq!(browser.text("#tracking-code"), audited_code);
    browser.screenshot(&shots, "booth-audit");
    // The page's table shows what the ballot encrypts: the chosen options with value 1,
    // every other 0, and a 64-hex-digit nonce on each row.
    let opened = browser.script(
        "return Array.from(document.querySelectorAll('section.opened'), s => [s.querySelector('h2').textContent,
           Array.from(s.querySelectorAll('tbody tr'), r => Array.from(r.cells, c => c.textContent))])",
        json!([]),
    );
    let mut chosen = Vec::new();
    for contest in opened.as_array().unwrap() {
        for row in contest[1].as_array().unwrap() {
            let nonce = row[2].as_str().unwrap();
            assert!(
                nonce.len() == 64 && nonce.bytes().all(|b| b.is_ascii_hexdigit()),
                "{row}"
            );
            match row[1].as_str().unwrap() {
                "0" => {}
                "1" => chosen.push(format!(
                    "{}: {}",
                    contest[0].as_str().unwrap(),
                    row[0].as_str().unwrap()
                )),
                other => panic!("value {other} in {row}"),
            }
        }
    }
    assert_eq!(
        chosen,
        [
            "President: Grace",
            "Projects: Parks",
            "Projects: Bike lanes",
            "Budget: Park",
            "Budget: Lanes"
        ]
    );
    let audit = walk.ok(&["audit", e[0], e[1], "--tracking-code", &audited_code]);
    assert!(audit.contains("President: Grace"), "{audit}");
    assert!(audit.contains("Projects: Parks, Bike lanes"), "{audit}");
    assert!(audit.contains("Budget: Park, Lanes"), "{audit}");
    let command = browser.text("#audit-command");
    assert!(command.contains(&audited_code), "{command}");

    // A fresh ballot, cast; the receipt is made, downloaded, and checked in the page.
    // The choices, the first step towards it, still carry the interrupted audit's warning
    // (spec/60 §60.2: every step that leads to a new ballot), and so does the ballot.
    browser.click("#again");
    assert_eq!(browser.text("#step"), "3. Your choices");
    assert!(
        browser
            .text("#audit-interrupted")
            .contains("your audit was interrupted"),
        "the choices warn of the interrupted audit"
    );
    browser.click("#review");
    // A trap during the cast: nothing was posted; back at the review, choices kept.
    browser.click("#encrypt");
    browser.wait("#cast");
    assert_eq!(browser.text("#step"), "5. Your encrypted ballot");
    assert!(
        browser.find("#audit-interrupted").is_some(),
        "the ballot warns of the interrupted audit"
    );
    browser.script("booth.call(OP.trapDrill, { op: OP.cast })", json!([]));
    browser.click("#cast");
    browser.wait_text("#module-restarted", "has been restarted");
    assert_eq!(browser.text("#step"), "4. Review");
    assert_eq!(browser.text("#review-list"), REVIEWED);
    assert_retired_memory_wiped(&browser, 6);
    browser.click("#encrypt");
    let cast_code = browser.text("#tracking-code");
    assert_ne!(cast_code, audited_code, "a fresh ballot after an audit");
    // A trap while making the receipt: the ballot is on the board, and a fresh instance
    // makes its receipt.
    browser.script("booth.call(OP.trapDrill, { op: OP.receipt })", json!([]));
    // The cast's post lands, but the answer a proxy gives is a 502 (it may be stored,
    // spec/13 §13.2, as after a 504 `timeout` or a 503 `maybe-stored`): the page keeps the
    // signed record and offers to look it up and send it again; the board holds it, so
    // its index is found and the receipt made.
    browser.script(
        "const real = window.fetch;
         window.fetch = function (path, options) {
           if (path !== '/v1/records') return real(path, options);
           window.fetch = real;
           return real(path, options).then(() => new Response(
             '<html><body>502 Bad Gateway</body></html>',
             { status: 502, headers: { 'content-type': 'text/html' } }));
         };",
        json!([]),
    );
    browser.click("#cast");
    browser.wait_text("#cast-uncertain", "did not say whether it stored");
    // Redrawn in the other language and back, the page still offers the kept record and
    // never the spent ballot's Cast or Audit (nor a false alarm of an interrupted audit).
    for _ in 0..2 {
        browser.click("button.lang");
        browser.wait("#resend-cast");
        let spent = browser.script(
            "return [document.querySelector('#cast').disabled, document.querySelector('#audit').disabled, document.querySelectorAll('#cast-uncertain').length]",
            json!([]),
        );
        assert_eq!(spent, json!([true, true, 1]), "after a redraw");
    }
    browser.click("#resend-cast");
    browser.wait("#receipt");
    assert_retired_memory_wiped(&browser, 7);
    browser.click("#check-receipt");
    let checked = browser.text("#receipt-ok");
    assert!(checked.starts_with("Receipt checked"), "{checked}");
    browser.screenshot(&shots, "booth-receipt");
    browser.click("#download-receipt");
    let downloaded = downloads.join(format!("urne-receipt-{cast_code}.json"));
    let started = Instant::now();
    while !downloaded.exists() {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "no {}",
            downloaded.display()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(
        std::fs::read_to_string(&downloaded).unwrap(),
        browser.text("#receipt"),
        "the file downloaded is the receipt shown"
    );
    let held = walk.ok(&[
        "receipt",
        "check",
        downloaded.to_str().unwrap(),
        "--later",
        "--board-key-file",
        "data/board.vkey",
    ]);
    assert!(held.contains("receipt holds"), "{held}");
    // Later, in a fresh page of the booth and of the board: the receipt file is loaded
    // from the voter's device and checked (review finding 3).
    let receipt_path = downloaded.canonicalize().unwrap();
    for (page, name) in [
        ("booth/", "booth-receipt-file"),
        ("board/", "board-receipt-file"),
    ] {
        browser.go(&format!("{site}/{page}"));
        browser.type_in("#receipt-file", receipt_path.to_str().unwrap());
        let checked = browser.text("#receipt-ok");
        assert!(checked.starts_with("Receipt checked"), "{page}: {checked}");
        // Unpinned, the page says whose word the key is, and what the check cannot prove.
        let key = browser.text("#receipt-key");
        assert!(
            key.starts_with("Checked under the key this board gives about itself"),
            "{key}"
        );
        assert!(
            browser
                .text("#receipt-limits")
                .contains("urne receipt check")
        );
        assert!(
            browser
                .text("#receipt-witnesses")
                .starts_with("This board names no witness")
        );
        browser.screenshot(&shots, name);
    }
    // Pinned to the authority's key, the check says so; pinned to another key, it fails
    // (review finding 2). The key is remembered only when the voter ticks the box.
    let board_vkey = std::fs::read_to_string(dir.join("data/board.vkey")).unwrap();
    let other_vkey =
        urne_log::note::NoteSigner::from_seed(board_vkey.split('+').next().unwrap(), &[7u8; 32])
            .unwrap()
            .verifier()
            .to_vkey();
    browser.go(&format!("{site}/board/"));
    browser.type_in("#board-key", &other_vkey);
    browser.type_in("#receipt-file", receipt_path.to_str().unwrap());
    let refused = browser.text("#receipt-file-result .error");
    assert!(refused.contains("not signed by the board"), "{refused}");
    browser.go(&format!("{site}/board/"));
    browser.type_in("#board-key", board_vkey.trim());
    browser.type_in("#receipt-file", receipt_path.to_str().unwrap());
    browser.wait("#receipt-ok");
    assert_eq!(
        browser.text("#receipt-key"),
        format!(
            "Checked under the board key you gave: {}",
            board_vkey.trim()
        )
    );
    assert_eq!(
        browser.script("return localStorage.getItem('urne-board-key')", json!([])),
        Value::Null,
        "not remembered unless asked"
    );
    browser.click("#board-key-remember");
    browser.go(&format!("{site}/board/"));
    browser.wait("#board-key");
    assert_eq!(
        browser.script(
            "return document.getElementById('board-key').value",
            json!([])
        ),
        json!(board_vkey.trim())
    );
    browser.script("localStorage.removeItem('urne-board-key')", json!([]));
    // A receipt altered on the voter's device is refused there, naming the field.
    let mut altered: Value =
        serde_json::from_str(&std::fs::read_to_string(&downloaded).unwrap()).unwrap();
    altered["index"] = json!(altered["index"].as_u64().unwrap() + 1);
    std::fs::write(downloads.join("altered-receipt.json"), altered.to_string()).unwrap();
    let altered_path = downloads
        .join("altered-receipt.json")
        .canonicalize()
        .unwrap();
    browser.go(&format!("{site}/board/"));
    browser.type_in("#receipt-file", altered_path.to_str().unwrap());
    let refused = browser.text("#receipt-file-result .error");
    assert!(refused.starts_with("Error: "), "{refused}");

    // The public lookup checks the audited ballot.
    browser.go(&format!("{site}/board/#lookup/{audited_code}"));
    let verdict = browser.text("#audit-verdict");
    assert!(
        verdict.starts_with("This board's check of the audit passed"),
        "{verdict}"
    );
    browser.screenshot(&shots, "board-lookup");

    // Bob votes from the command line (blank, Library, Pool); close, decrypt, tally.
    walk.ok(&[
        "vote",
        e[0],
        e[1],
        "--credential",
        "credentials/bob.credential",
        "--pick",
        "blank",
        "--pick",
        "2",
        "--pick",
        "2",
    ]);
    walk.ok(&["vote", "--cast", "credentials/bob.pending"]);
    // Carol votes with the keyboard alone: Tab to each control, Space to choose, Enter to
    // submit or press a button; the focus is visible wherever it lands (spec/60 §60.4).
    let carol = std::fs::read_to_string(dir.join("credentials/carol.credential")).unwrap();
    browser.go(&format!("{site}/booth/#{election}"));
    // Without the test switch, the page refuses to send the trap drill (op 9), and no
    // test global exists; the ballot made next shows nothing was armed.
    browser.wait("#credential");
    assert_eq!(
        browser.script(
            "try { booth.call(OP.trapDrill, { op: OP.ballot }); return 'sent'; }
             catch (e) { return [e.message, Boolean(e.trapped), typeof URNE_TEST]; }",
            json!([])
        ),
        json!([
            "the trap drill runs only under the test switch (?test-hooks)",
            false,
            "undefined"
        ])
    );
    assert_module_unreachable(&browser);
    browser.tab_to("#credential");
    browser.keys(carol.trim());
    browser.keys(ENTER);
    browser.wait_text("#step", "3. Your choices");
    browser.tab_to("#contest-0-option-0");
    browser.keys(SPACE);
    browser.tab_to("#contest-1-option-1");
    browser.keys(SPACE);
    browser.tab_to("#contest-2-blank");
    browser.keys(SPACE);
    browser.tab_to("#review");
    browser.keys(ENTER);
    browser.wait_text("#step", "4. Review");
    assert_eq!(
        browser.text("#review-list"),
        "President\nAda\nProjects\nLibrary\nBudget\nBlank vote"
    );
    browser.tab_to("#encrypt");
    browser.keys(ENTER);
    browser.tab_to("#cast");
    browser.keys(ENTER);
    browser.wait("#cast-done");
    browser.screenshot(&shots, "booth-keyboard-cast");
    // A trap while the page loads the election is recovered from as at any other step
    // (spec/60 §60.2): the trapped instance is wiped and never called again, a fresh one
    // loads the election (the same context hash), the page says it restarted, and the
    // voter goes on with the fresh instance.
    browser.go(&format!("{site}/booth/?test-hooks&load-trap#{election}"));
    browser.wait("#credential");
    browser.script(
        "booth.call(OP.trapDrill, { op: OP.load }); start();",
        json!([]),
    );
    let restarted = browser.wait_text("#module-restarted", "has been restarted");
    assert!(
        restarted.contains("while loading the election") && !restarted.contains("ballot"),
        "no ballot was begun: {restarted}"
    );
    assert_eq!(browser.text("#context-hash"), shown_hash);
    assert_retired_memory_wiped(&browser, 2);
    browser.type_in("#credential", carol.trim());
    browser.click("#credential-continue");
    browser.wait_text("#step", "3. Your choices");
    assert_retired_memory_wiped(&browser, 2);
    // A fresh instance that traps too (here while loading the election, right after a
    // first trap) leaves the page with no module: it fails closed, says so, and every
    // later call refuses, even once the fault is gone, until the page is reloaded.
    browser.go(&format!("{site}/booth/?test-hooks#{election}"));
    browser.wait("#credential");
    browser.script(
        "crypto.getRandomValues = function () { throw new TypeError('drill: every call'); };",
        json!([]),
    );
    browser.type_in("#credential", carol.trim());
    browser.click("#credential-continue");
    let failed = browser.wait_text("main", "could not be restarted");
    assert!(failed.contains("Reload the page"), "{failed}");
    assert_retired(&browser, 2, 2);
    browser.script("delete crypto.getRandomValues;", json!([]));
    browser.click("#retry");
    browser.wait_text("main", "could not be restarted");
    assert_eq!(
        browser
            .script(
                "try { booth.call(OP.credential, { credential: 'x' }); return 'called'; }
             catch (e) { return e.message; }",
                json!([])
            )
            .as_str()
            .map(|m| m.contains("could not be restarted")),
        Some(true)
    );
    assert_retired(&browser, 2, 2);
    decrypt_and_tally(&walk, &election);

    browser.go(&format!("{site}/board/#election/{election}"));
    browser.wait("#counted");
    let counts = browser.script(
        "return Array.from(document.querySelectorAll('td[data-count]'), td => Number(td.dataset.count))",
        json!([]),
    );
    // Ada, Alan, Grace, blank; Parks, Library, Bike lanes; Park, Pool, Lanes, blank.
    assert_eq!(counts, json!([1, 0, 1, 1, 1, 2, 1, 1, 1, 1, 1]));
    // Greedy funding of three projects with one approval each: Lanes (200) fits whatever
    // the order; the page names what the verified result funds.
    let funded = browser.text("#funded-2");
    assert!(
        funded.starts_with("Funded: ") && funded.contains("Lanes"),
        "{funded}"
    );
    assert!(browser.text("#counted").starts_with("3 ballots counted"));
    // On the board too, the skip link keeps the page it is on.
    press_skip_link(&browser);
    assert_eq!(
        browser.script(
            "return [location.hash, document.activeElement.id]",
            json!([])
        ),
        json!([format!("#election/{election}"), "main"])
    );
    assert!(browser.find("#counted").is_some(), "the results page stays");
    assert_eq!(browser.text("#audits"), "1");
    let shown = browser.text("main");
    assert!(
        !shown.contains("null") && !shown.contains("undefined"),
        "{shown}"
    );
    browser.screenshot(&shots, "board-results");
    browser.go(&format!("{site}/board/"));
    browser.wait("#checkpoint-size");
    let listed = browser.text("#contexts");
    assert!(listed.contains("published"), "{listed}");
    browser.screenshot(&shots, "board-home");

    // The measure of spec/60 §60.5: a 10-option approval ballot, encrypted and proven in
    // the page (median of 20). Printed, never asserted: timing is for benchmarks.
    let manifest = urne_ballot::Manifest::new(
        "Measure",
        vec![urne_ballot::Contest {
            title: "Ten".into(),
            kind: urne_ballot::ContestKind::Approval { min: 1, max: 10 },
            blank: false,
            options: (1..=10).map(|i| format!("Option {i}")).collect(),
        }],
    )
    .unwrap();
    let key = urne_crypto::SecretKey::generate(&mut rand::rng()).public_key();
    let credential = urne_credential::Credential::generate(&mut rand::rng());
    let params = json!({
        "election": "11".repeat(32), "origin": "measure.example/board",
        "manifest": hex::encode(manifest.to_bytes()), "joint_key": hex::encode(key.to_bytes()),
        "credential_root": "22".repeat(32),
    });
    let times = browser.script_async(
        "const [params, credential, done] = arguments;
         loadModule().then((call) => {
           call(OP.load, params);
           const selections = [{values: [1, 0, 1, 0, 1, 0, 1, 0, 1, 0]}];
           const times = [];
           for (let i = 0; i < 20; i++) {
             const t0 = performance.now();
             call(OP.ballot, {credential, selections});
             times.push(performance.now() - t0);
           }
           done(times);
         }).catch((e) => done(String(e)));",
        json!([params, credential.to_text().as_str()]),
    );
    let mut times: Vec<f64> = times
        .as_array()
        .unwrap_or_else(|| panic!("{times}"))
        .iter()
        .map(|t| t.as_f64().unwrap())
        .collect();
    times.sort_by(f64::total_cmp);
    let bundle = std::fs::metadata(wasm_bundle()).unwrap().len();
    let line = format!(
        "10-option approval ballot in headless Chromium: median {:.1} ms (min {:.1}, max {:.1}, 20 runs); bundle {bundle} bytes",
        times[10], times[0], times[19]
    );
    eprintln!("{line}");
    std::fs::write(shots.join("measure.txt"), format!("{line}\n")).unwrap();
    drop(browser);
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Three citizens make wallets (district 1, passphrase in `pass`) and enrol them with one
/// registrar, who cosigns snapshot 1 of the registry in buckets of 4 (`snapshot.bin`):
/// the registry id and the registrar's key.
fn registry_of_three(walk: &Walk) -> (String, String) {
    std::fs::write(walk.dir.join("pass"), "a citizen's passphrase").unwrap();
    std::fs::create_dir_all(walk.dir.join("requests")).unwrap();
    let registry = "5e".repeat(32);
    let registrar = walk.ok(&["keygen", "--role", "authority", "--out", "registrar.key"]);
    let registrar = field(&registrar, "public key:").to_owned();
    for i in 0..3 {
        let w = format!("wallet{i}.bin");
        let base = ["--wallet", w.as_str(), "--passphrase-file", "pass"];
        walk.ok(&[&["wallet", "new", "--district", "1"][..], &base].concat());
        let out = format!("requests/person{i}");
        walk.ok(&[
            &["wallet", "enrol", "--registry", &registry, "--out", &out][..],
            &["--registrar-threshold", "1", "--registrar", &registrar],
            &base,
        ]
        .concat());
    }
    walk.ok(&[
        "registry",
        "snapshot",
        "--registry",
        &registry,
        "--requests",
        "requests",
        "--bucket-bits",
        "2",
        "--out",
        "snapshot.bin",
    ]);
    walk.ok(&[
        "registry",
        "cosign",
        "--snapshot",
        "snapshot.bin",
        "--key",
        "registrar.key",
        "--registrar",
        "0",
    ]);
    (registry, registrar)
}

/// The public pages of a petition and of a sitting (spec/61 §61.4–§61.5), driven in the
/// browser: a petition signed by two wallets out of three and closed at its threshold,
/// and a sitting with a roll-call division; the list shows both with their counts, and
/// each page shows what the board's log holds, in English and in French.
#[test]
fn the_public_pages_show_a_petition_and_a_sitting_as_their_records_say() {
    if skip_without_browser() {
        return;
    }
    let (dir, shots, site, walk, _server) = board("pages");
    // Petition commands read the log under the board's key, given out of band.
    let walk = Walk {
        board_key_file: Some("data/board.vkey"),
        ..walk
    };
    let authority = ["--key", "data/authority.key"];

    // A petition: three wallets in one bucket of 4, one registrar, threshold 2.
    std::fs::write(dir.join("text.txt"), "Open the library on Sundays.\n").unwrap();
    let (registry, registrar) = registry_of_three(&walk);
    let registrars = ["--registrar-threshold", "1", "--registrar", &registrar];
    let created = walk.ok(&[
        &[
            "petition",
            "create",
            "--name",
            "Sunday library",
            "--text",
            "text.txt",
            "--threshold",
            "2",
            "--deadline",
            "1900000000",
            "--scope",
            "City council",
            "--registry",
            &registry,
            "--min-snapshot",
            "1",
            "--min-bucket-bits",
            "2",
            "--min-real-keys",
            "2",
        ][..],
        &registrars,
        &authority,
    ]
    .concat());
    let petition = field(&created, "petition:").to_owned();
    let p = ["--petition", petition.as_str()];
    walk.ok(&[
        &["petition", "open"][..],
        &p,
        &authority,
        &["--snapshot", "snapshot.bin"],
    ]
    .concat());
    for i in 0..2 {
        let w = format!("wallet{i}.bin");
        walk.ok(&[
            &[
                "petition",
                "sign",
                "--wallet",
                &w,
                "--passphrase-file",
                "pass",
            ][..],
            &p,
            &["--min-bucket", "4", "--min-real-keys", "2"],
        ]
        .concat());
    }
    walk.ok(&[&["petition", "close"][..], &p, &authority].concat());

    // A sitting: four members, three present, one roll-call division (2 for, 1 against).
    let clerk = walk.ok(&["keygen", "--role", "authority", "--out", "clerk.key"]);
    let clerk = field(&clerk, "public key:").to_owned();
    let mut roster = String::from("version = 1\ngroups = [\"Left\", \"Right\"]\n");
    for m in 0..4 {
        let out = walk.ok(&["keygen", "--role", "member", "--out", &format!("m{m}.key")]);
        roster.push_str(&format!(
            "\n[[member]]\nname = \"Member {m}\"\ngroup = \"{}\"\nkey = \"{}\"\n",
            if m % 2 == 0 { "Left" } else { "Right" },
            field(&out, "public key:")
        ));
    }
    std::fs::write(dir.join("roster.toml"), roster).unwrap();
    std::fs::write(dir.join("bill.txt"), "A bill.\n").unwrap();
    let officer = "data/authority.key";
    let opened = walk.ok(&[
        "assembly", "chamber", "open", "--key", officer, "--name", "Council", "--clerk", &clerk,
        "--quorum", "1/2",
    ]);
    let chamber = field(&opened, "chamber:").to_owned();
    let ch = ["--chamber", chamber.as_str()];
    walk.ok(&[
        "assembly",
        "roster",
        "post",
        ch[0],
        ch[1],
        "--key",
        "clerk.key",
        "--members",
        "roster.toml",
    ]);
    let opened = walk.ok(&[
        "assembly",
        "sitting",
        "open",
        "--key",
        officer,
        "--name",
        "Monday sitting",
        ch[0],
        ch[1],
    ]);
    let sitting = field(&opened, "sitting:").to_owned();
    let s = ["--sitting", sitting.as_str()];
    walk.ok(&[
        "assembly", "chamber", "start", ch[0], ch[1], "--key", officer,
    ]);
    walk.ok(&["assembly", "sitting", "start", s[0], s[1], "--key", officer]);
    for m in 0..3 {
        walk.ok(&[
            "assembly",
            "presence",
            s[0],
            s[1],
            "--key",
            &format!("m{m}.key"),
        ]);
    }
    walk.ok(&[
        "assembly", "division", "open", s[0], s[1], "--key", officer, "--text", "bill.txt",
        "--window", "0",
    ]);
    for (m, choice) in [(0, "for"), (1, "against"), (2, "for")] {
        walk.ok(&[
            "assembly",
            "vote",
            s[0],
            s[1],
            "--key",
            &format!("m{m}.key"),
            "--division",
            "1",
            "--choice",
            choice,
            "--board-key-file",
            "data/board.vkey",
        ]);
    }
    walk.ok(&[
        "assembly",
        "division",
        "close",
        s[0],
        s[1],
        "--key",
        officer,
        "--division",
        "1",
    ]);
    walk.ok(&["assembly", "result", s[0], s[1], "--post", "--key", officer]);

    let downloads = dir.join("downloads");
    std::fs::create_dir_all(&downloads).unwrap();
    let browser = Browser::start(&dir.join("chromium-profile"), &downloads);

    // The list: each context with its phase and counts.
    browser.go(&format!("{site}/board/"));
    browser.wait("#checkpoint-size");
    let rows = browser.script(
        "return Array.from(document.querySelectorAll('#contexts tbody tr'), r => Array.from(r.cells, c => c.textContent))",
        json!([]),
    );
    let row = |name: &str| {
        rows.as_array()
            .unwrap()
            .iter()
            .find(|r| r[0] == name)
            .unwrap_or_else(|| panic!("no {name} in {rows}"))
            .clone()
    };
    assert_eq!(
        row("Sunday library"),
        json!([
            "Sunday library",
            "petition",
            "reached",
            "2 signatures, 0 withdrawn"
        ])
    );
    let listed = row("Monday sitting");
    assert_eq!(listed[1], "sitting", "{listed}");
    assert_eq!(listed[3], "1 divisions, 3 present, 3 votes", "{listed}");
    browser.screenshot(&shots, "board-home-petition-sitting");

    // The petition's page, reached from the list.
    browser.click(&format!("a[href='#petition/{petition}']"));
    assert_eq!(browser.text("#signatures"), "2");
    assert_eq!(browser.text("#phase"), "reached");
    let chart = browser.script(
        "return document.querySelector('svg.chart').getAttribute('aria-label')",
        json!([]),
    );
    assert_eq!(chart, json!("signatures: 2; Threshold: 2"));
    browser.screenshot(&shots, "board-petition");

    // The sitting's page: members, presence, the division's counts as a chart.
    browser.go(&format!("{site}/board/#sitting/{sitting}"));
    browser.wait_text("main h1", "Monday sitting");
    let table = browser.script(
        "return Array.from(document.querySelectorAll('main table tbody tr'), r => [r.cells[0].textContent, r.cells[1].textContent])",
        json!([]),
    );
    assert_eq!(
        &table.as_array().unwrap()[1..3],
        &[json!(["Members", "4"]), json!(["present", "3"])]
    );
    let chart = browser.script(
        "return document.querySelector('svg.chart').getAttribute('aria-label')",
        json!([]),
    );
    assert_eq!(chart, json!("for: 2; against: 1; abstain: 0"));
    browser.screenshot(&shots, "board-sitting");
    // In French, the page's own words change; the board's data does not.
    browser.click("button.lang");
    browser.wait_text("main h2", "votes en séance");
    let members = browser.script(
        "return document.querySelectorAll('main table tbody tr')[1].cells[0].textContent",
        json!([]),
    );
    assert_eq!(members, json!("Membres"));
    assert_eq!(browser.text("#phase"), "en séance");
    browser.click("button.lang");
    drop(browser);
    std::fs::remove_dir_all(&dir).unwrap();
}

/// An anonymous election in the browser (spec/60 §60.2, spec/23 §23.11): the page asks
/// for the wallet file and its passphrase, refuses a wrong passphrase in the voter's
/// language, opens the wallet in the module, casts a ballot signed among the keys of the
/// wallet's bucket under its tag, and checks the receipt; after the tally the results page
/// shows the count and the election's anonymity.
#[test]
fn an_anonymous_voter_opens_a_wallet_in_the_page_and_casts() {
    if skip_without_browser() {
        return;
    }
    let (dir, shots, site, walk, _server) = board("anonymous");
    let walk = Walk {
        board_key_file: Some("data/board.vkey"),
        ..walk
    };
    // Three citizens' wallets, enrolled with one registrar; a snapshot in buckets of 4.
    let (registry, registrar) = registry_of_three(&walk);
    std::fs::write(
        dir.join("manifest.toml"),
        format!(
            "title = \"Anonymous choice\"\n\n[[contest]]\ntitle = \"Mayor\"\nkind = \"single-choice\"\nblank = false\noptions = [\"Ada\", \"Grace\"]\n\n\
             [eligibility]\nmode = \"anonymous\"\nregistry = \"{registry}\"\nregistrar-threshold = 1\nregistrars = [\"{registrar}\"]\n\
             min-bucket-bits = 2\nmin-registered-keys = 2\n"
        ),
    )
    .unwrap();
    let election = create_with_ceremony(&walk, "manifest.toml");
    let e = ["--election", election.as_str()];
    walk.ok(&[
        "election",
        "snapshot",
        AUTHORITY[0],
        AUTHORITY[1],
        e[0],
        e[1],
        "--snapshot",
        "snapshot.bin",
    ]);
    walk.ok(&["election", "open", AUTHORITY[0], AUTHORITY[1], e[0], e[1]]);

    let downloads = dir.join("downloads");
    std::fs::create_dir_all(&downloads).unwrap();
    let browser = Browser::start(&dir.join("chromium-profile"), &downloads);
    browser.go(&format!("{site}/booth/?test-hooks#{election}"));
    let anonymity = browser.text("#anonymity");
    assert!(
        anonymity.contains("3 people in all; buckets of 4 keys"),
        "{anonymity}"
    );
    let wallet = dir.join("wallet0.bin").canonicalize().unwrap();
    let wallet = wallet.to_str().unwrap();
    // A wrong passphrase is refused, in English and in French.
    browser.type_in("#wallet-file", wallet);
    browser.type_in("#wallet-passphrase", "not the passphrase");
    browser.click("#wallet-continue");
    browser.wait_text("#wallet-error", "Wrong passphrase");
    // The refused passphrase is cleared from its field, and the field has the focus.
    assert_eq!(
        browser.script(
            "const p = document.getElementById('wallet-passphrase'); return [p.value, document.activeElement === p]",
            json!([])
        ),
        json!(["", true])
    );
    browser.click("button.lang");
    browser.type_in("#wallet-file", wallet);
    browser.type_in("#wallet-passphrase", "not the passphrase");
    browser.click("#wallet-continue");
    browser.wait_text("#wallet-error", "Phrase secrète erronée");
    browser.click("button.lang");
    // A wallet that has signed from snapshot 2 of the registry already is refused an
    // election on snapshot 1 (a key replaced since may stand in it), in both languages.
    let mut newer = urne_credential::wallet::Wallet::open(
        &std::fs::read(dir.join("wallet1.bin")).unwrap(),
        b"a citizen's passphrase",
    )
    .unwrap();
    newer.see_snapshot(2).unwrap();
    let light = urne_credential::wallet::KdfParams {
        memory_kib: 8,
        iterations: 1,
        parallelism: 1,
    };
    std::fs::write(
        dir.join("newer.bin"),
        newer
            .seal(b"a citizen's passphrase", light, &mut rand::rng())
            .unwrap(),
    )
    .unwrap();
    let newer = dir.join("newer.bin").canonicalize().unwrap();
    for (language, needle) in [
        (
            "en",
            "older than snapshot no. 2, which your wallet has signed from already",
        ),
        (
            "fr",
            "plus ancien que l'instantané n° 2, dont votre portefeuille a déjà signé",
        ),
    ] {
        if language == "fr" {
            browser.click("button.lang");
        }
        browser.type_in("#wallet-file", newer.to_str().unwrap());
        browser.type_in("#wallet-passphrase", "a citizen's passphrase");
        browser.click("#wallet-continue");
        let refused = browser.wait_text("#wallet-error", needle);
        assert!(
            refused.contains("no. 1") || refused.contains("n° 1"),
            "{refused}"
        );
    }
    browser.click("button.lang");
    browser.screenshot(&shots, "booth-anonymous-wallet");
    // The right one opens it; the ballot is signed among the bucket's keys.
    browser.type_in("#wallet-file", wallet);
    browser.type_in("#wallet-passphrase", "a citizen's passphrase");
    browser.click("#wallet-continue");
    browser.wait_text("#step", "3. Your choices");
    browser.click("#contest-0-option-1");
    browser.click("#review");
    browser.click("#encrypt");
    let warning = browser.text("#audit-warning");
    assert!(warning.contains("your tag for this election"), "{warning}");
    // A trap during the cast: the wallet's secret went with the wiped instance, so the
    // voter opens the wallet again, in a fresh one, and finds their choices kept.
    browser.script("booth.call(OP.trapDrill, { op: OP.cast })", json!([]));
    browser.click("#cast");
    browser.wait_text("#module-restarted", "has been restarted");
    assert_eq!(browser.text("#step"), "1. The election");
    assert_retired_memory_wiped(&browser, 2);
    browser.type_in("#wallet-file", wallet);
    browser.type_in("#wallet-passphrase", "a citizen's passphrase");
    browser.click("#wallet-continue");
    browser.wait_text("#step", "4. Review");
    assert_eq!(browser.text("#review-list"), "Mayor\nGrace");
    browser.click("#encrypt");
    // The cast's post never reaches the board (the network drops it): the page keeps the
    // signed record, looks it up on the voter's word, does not find it, and sends the
    // same record again (spec/60 §60.4).
    browser.script(
        "const real = window.fetch;
         window.fetch = function (path, options) {
           if (path !== '/v1/records') return real(path, options);
           window.fetch = real;
           return Promise.reject(new TypeError('drill: the network dropped the post'));
         };",
        json!([]),
    );
    browser.click("#cast");
    browser.wait_text("#cast-uncertain", "did not say whether it stored");
    browser.click("#resend-cast");
    browser.wait("#receipt");
    browser.click("#check-receipt");
    let checked = browser.text("#receipt-ok");
    assert!(checked.starts_with("Receipt checked"), "{checked}");
    browser.screenshot(&shots, "booth-anonymous-receipt");

    decrypt_and_tally(&walk, &election);
    browser.go(&format!("{site}/board/#election/{election}"));
    browser.wait("#counted");
    let counts = browser.script(
        "return Array.from(document.querySelectorAll('td[data-count]'), td => Number(td.dataset.count))",
        json!([]),
    );
    assert_eq!(counts, json!([0, 1]));
    let anonymity = browser.text("#anonymity");
    assert!(anonymity.contains("3 people"), "{anonymity}");
    browser.screenshot(&shots, "board-anonymous-results");
    // The booth of the tallied election takes no ballot, and fetches no snapshot for it
    // (a snapshot is as large as the register, spec/60 §60.2).
    browser.go(&format!("{site}/booth/#{election}"));
    browser.wait_text("main", "ballots are accepted only while voting is open");
    assert_eq!(browser.text("#election-title"), "Anonymous choice");
    assert_eq!(
        browser.script(
            "return performance.getEntriesByType('resource').map(e => new URL(e.name).pathname).filter(p => p.endsWith('/snapshot'))",
            json!([])
        ),
        json!([]),
        "no snapshot fetched for an election that is not voting"
    );
    drop(browser);
    std::fs::remove_dir_all(&dir).unwrap();
}
