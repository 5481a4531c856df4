//! The anonymous mode from the command line: the citizen's wallet (spec/30 §30.5).

use std::path::{Path, PathBuf};

use clap::Subcommand;
use urne_credential::wallet::{
    ATTRIBUTE_AGE_BAND, ATTRIBUTE_DISTRICT, KdfParams, MAX_FILE_LEN, Wallet,
};
use zeroize::Zeroizing;

use crate::BoardArgs;
use crate::keys;
use crate::output::{Failure, say};

/// The commands of the anonymous mode.
#[derive(Subcommand)]
pub enum Command {
    /// A citizen's wallet: the secret key that signs petitions, kept on this device.
    Wallet {
        #[command(subcommand)]
        command: WalletCommand,
    },
}

/// `urne wallet …`.
#[derive(Subcommand)]
pub enum WalletCommand {
    /// Draw a new secret key on this device and write it, encrypted under a passphrase.
    New {
        #[command(flatten)]
        wallet: WalletFile,
        /// The district to register (kept as a commitment only the registrar can open).
        #[arg(long)]
        district: Option<u32>,
        /// The age band to register.
        #[arg(long)]
        age_band: Option<u32>,
    },
    /// Print the wallet's public key and registered attributes (never the secret).
    Show {
        #[command(flatten)]
        wallet: WalletFile,
    },
    /// Write the enrolment request to hand the registrar with your identity documents.
    Enrol {
        #[command(flatten)]
        wallet: WalletFile,
        /// The registry's id (64 hex digits).
        #[arg(long)]
        registry: String,
        /// Where to write the request (refuses to overwrite; mode 0600: it holds the
        /// openings of your attributes).
        #[arg(long)]
        out: PathBuf,
    },
}

/// The wallet file and its passphrase.
#[derive(clap::Args)]
pub struct WalletFile {
    /// The wallet file.
    #[arg(long)]
    wallet: PathBuf,
    /// A file whose first line is the wallet's passphrase.
    #[arg(long)]
    passphrase_file: PathBuf,
}

impl WalletFile {
    fn passphrase(&self) -> Result<Zeroizing<String>, Failure> {
        let path = &self.passphrase_file;
        let text = Zeroizing::new(
            std::fs::read_to_string(path)
                .map_err(|e| Failure::Message(format!("{}: {e}", path.display())))?,
        );
        let line = text.lines().next().unwrap_or_default();
        if line.is_empty() {
            return Err(Failure::Message(format!(
                "{}: the first line (the passphrase) is empty",
                path.display()
            )));
        }
        Ok(Zeroizing::new(line.to_owned()))
    }

    fn open(&self) -> Result<Wallet, Failure> {
        let path = &self.wallet;
        let size = std::fs::metadata(path)
            .map_err(|e| Failure::Message(format!("{}: {e}", path.display())))?
            .len();
        // Refused before it is read: a wallet file has a bounded length.
        if size > MAX_FILE_LEN as u64 {
            return Err(Failure::Message(format!(
                "{}: not a urne wallet file ({size} bytes)",
                path.display()
            )));
        }
        let bytes = std::fs::read(path)
            .map_err(|e| Failure::Message(format!("{}: {e}", path.display())))?;
        Wallet::open(&bytes, self.passphrase()?.as_bytes())
            .map_err(|e| Failure::Message(format!("{}: {e}", path.display())))
    }
}

/// Runs a command of the anonymous mode.
pub fn run(board: &BoardArgs, command: Command) -> Result<(), Failure> {
    let _ = board;
    match command {
        Command::Wallet { command } => wallet(command),
    }
}

fn write_new(path: &Path, bytes: &[u8]) -> Result<(), Failure> {
    urne_fsutil::write_new(path, bytes, 0o600)
        .map_err(|e| Failure::Message(format!("{}: {e}", path.display())))
}

fn wallet(command: WalletCommand) -> Result<(), Failure> {
    let mut rng = rand::rng();
    match command {
        WalletCommand::New {
            wallet,
            district,
            age_band,
        } => {
            let mut attributes = Vec::new();
            if let Some(d) = district {
                if d == 0 {
                    return Err("--district: districts are numbered from 1".into());
                }
                attributes.push((ATTRIBUTE_DISTRICT, d));
            }
            if let Some(a) = age_band {
                attributes.push((ATTRIBUTE_AGE_BAND, a));
            }
            let passphrase = wallet.passphrase()?;
            let w = Wallet::generate(&attributes, &mut rng).map_err(|e| e.to_string())?;
            let bytes = w
                .seal(passphrase.as_bytes(), KdfParams::RECOMMENDED, &mut rng)
                .map_err(|e| e.to_string())?;
            write_new(&wallet.wallet, &bytes)?;
            say!("key: {}", w.public_key().to_hex())
        }
        WalletCommand::Show { wallet } => {
            let w = wallet.open()?;
            say!("key: {}", w.public_key().to_hex())?;
            for a in w.attributes() {
                let name = match a.code {
                    ATTRIBUTE_DISTRICT => "district",
                    ATTRIBUTE_AGE_BAND => "age band",
                    _ => "attribute",
                };
                say!(
                    "{name} ({}): {} commitment {}",
                    a.code,
                    a.value,
                    a.commitment().to_hex()
                )?;
            }
            Ok(())
        }
        WalletCommand::Enrol {
            wallet,
            registry,
            out,
        } => {
            let registry = keys::parse_hex32(&registry, "--registry")?;
            let w = wallet.open()?;
            let request = w
                .enrolment_request(&registry, &mut rng)
                .map_err(|e| e.to_string())?;
            write_new(&out, &request.to_bytes())?;
            say!(
                "enrolment request for key {} written to {}: hand it to the registrar",
                w.public_key().to_hex(),
                out.display()
            )
        }
    }
}
