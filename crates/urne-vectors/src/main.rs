//! `urne-vectors`: writes or checks the golden vectors.
//!
//!     cargo run -p urne-vectors -- write [DIR]   # regenerate vectors/ (default DIR)
//!     cargo run -p urne-vectors -- check [DIR]   # check the files in DIR

use std::path::PathBuf;
use std::process::ExitCode;

fn default_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../vectors")
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let command = args.first().map(String::as_str).unwrap_or("write");
    let dir = args.get(1).map(PathBuf::from).unwrap_or_else(default_dir);
    match command {
        "write" => {
            if let Err(e) = std::fs::create_dir_all(&dir) {
                eprintln!("cannot create {}: {e}", dir.display());
                return ExitCode::FAILURE;
            }
            for file in urne_vectors::generate() {
                let path = dir.join(file.name);
                if let Err(e) = std::fs::write(&path, &file.contents) {
                    eprintln!("cannot write {}: {e}", path.display());
                    return ExitCode::FAILURE;
                }
                println!("wrote {}", path.display());
            }
            ExitCode::SUCCESS
        }
        "check" => match urne_vectors::check::check_dir(&dir) {
            Ok(n) => {
                println!("{n} checks passed in {}", dir.display());
                ExitCode::SUCCESS
            }
            Err(failures) => {
                for f in &failures {
                    eprintln!("FAILED {f}");
                }
                eprintln!("{} vector checks failed", failures.len());
                ExitCode::FAILURE
            }
        },
        other => {
            eprintln!("unknown command `{other}`; use `write [DIR]` or `check [DIR]`");
            ExitCode::from(2)
        }
    }
}
