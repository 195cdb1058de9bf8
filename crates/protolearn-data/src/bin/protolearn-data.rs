//! The `protolearn-data` command: report where the IDX datasets are (`status`) and make them available (`fetch`).

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};
use indicatif::{ProgressBar, ProgressStyle};
use protolearn_data::download::{DownloadObserver, Downloader};
use protolearn_data::locate::{local_root, DirState};
use protolearn_data::{DataDirs, Error, IdxDataset};

/// Find, verify and download the datasets used by protolearn (MNIST, Fashion-MNIST).
///
/// Search order: --dir, $PROTOLEARN_DATA, ./data, /usr/share/datasets; dataset NAME lives in
/// <root>/NAME/ as the four standard IDX files, raw or .gz, verified by MD5.
#[derive(Parser)]
#[command(version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Show, for each dataset, every searched directory and what it holds. Exits with status 1
    /// unless every dataset is found and verified.
    Status {
        /// Data root searched first.
        #[arg(long)]
        dir: Option<PathBuf>,
    },
    /// Make the datasets available: nothing to do if found anywhere in the search order, else
    /// download the missing files into --dir.
    Fetch {
        /// Data root searched first and downloaded into [default: ./data].
        #[arg(long)]
        dir: Option<PathBuf>,
        /// Download from this base URL instead of the public mirrors.
        #[arg(long)]
        base_url: Option<String>,
        /// Which dataset.
        #[arg(long, value_enum, default_value_t = Which::All)]
        dataset: Which,
    },
}

/// Dataset selection on the command line.
#[derive(Clone, Copy, ValueEnum)]
enum Which {
    Mnist,
    FashionMnist,
    All,
}

impl Which {
    fn datasets(self) -> Vec<IdxDataset> {
        match self {
            Which::Mnist => vec![IdxDataset::Mnist],
            Which::FashionMnist => vec![IdxDataset::FashionMnist],
            Which::All => IdxDataset::ALL.to_vec(),
        }
    }
}

fn main() -> ExitCode {
    let ok = match Cli::parse().command {
        Command::Status { dir } => status(&DataDirs::new(dir)),
        Command::Fetch { dir, base_url, dataset } => fetch(dir, base_url, dataset),
    };
    if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

/// Prints every root's state for every dataset; true if all datasets are found and verified.
fn status(dirs: &DataDirs) -> bool {
    let mut all_found = true;
    for dataset in IdxDataset::ALL {
        let states = dirs.status(dataset);
        let found = states.iter().find(|(_, s)| !matches!(s, DirState::Absent | DirState::Incomplete(_)));
        match found {
            Some((dir, DirState::Verified(_))) => {
                println!("{dataset}: found in {} (checksums verified)", dir.display())
            }
            Some((dir, _)) => {
                all_found = false;
                println!("{dataset}: INVALID copy in {}", dir.display());
            }
            None => {
                all_found = false;
                println!("{dataset}: not found");
            }
        }
        for (dir, state) in &states {
            let what = match state {
                DirState::Absent => "absent".to_owned(),
                DirState::Incomplete(missing) => {
                    format!("incomplete, missing {}", missing.join(", "))
                }
                DirState::Verified(_) => "complete, checksums verified".to_owned(),
                DirState::Invalid(e) => format!("invalid: {e}"),
            };
            println!("  {}: {what}", dir.display());
        }
    }
    all_found
}

/// Fetches each selected dataset that is not already available; true on success.
fn fetch(dir: Option<PathBuf>, base_url: Option<String>, which: Which) -> bool {
    let dirs = DataDirs::new(dir.clone());
    let target = dir.unwrap_or_else(local_root);
    let mut downloader = Downloader::default();
    if let Some(url) = base_url {
        downloader = downloader.with_base_url(url);
    }
    let mut ok = true;
    for dataset in which.datasets() {
        match dirs.locate(dataset) {
            Ok(files) => {
                println!("{dataset}: already available in {}", files.dir.display());
                continue;
            }
            Err(Error::NotFound { .. }) => {}
            Err(e) => eprintln!("{dataset}: {e}\n{dataset}: downloading a fresh copy"),
        }
        println!("{dataset}: downloading into {}", target.join(dataset.name()).display());
        let mut bar = Bar::default();
        match downloader.fetch(dataset, &target, &mut bar) {
            Ok(files) => println!("{dataset}: ready in {}", files.dir.display()),
            Err(e) => {
                ok = false;
                eprintln!("error: {dataset}: {e}");
                eprintln!("{}", fix_hint(dataset, &target));
            }
        }
    }
    ok
}

/// What a user can do when a download fails (e.g. on a machine without internet).
fn fix_hint(dataset: IdxDataset, target: &std::path::Path) -> String {
    let name = dataset.name();
    let stems: Vec<&str> = dataset.files().iter().map(|f| f.stem).collect();
    let mut hint = format!(
        "To fix: copy the four IDX files ({}, raw or .gz) into {}/, \
         or set PROTOLEARN_DATA to a directory holding {name}/, \
         or rerun with --base-url pointing at a reachable mirror",
        stems.join(", "),
        target.join(name).display(),
    );
    if dataset == IdxDataset::FashionMnist {
        hint.push_str(", or `apt-get install dataset-fashion-mnist`");
    }
    hint
}

/// Renders download events as an indicatif progress bar per file.
#[derive(Default)]
struct Bar {
    bar: Option<ProgressBar>,
}

impl DownloadObserver for Bar {
    fn started(&mut self, file: &str, _url: &str, total_bytes: Option<u64>) {
        let bar = match total_bytes {
            Some(total) => ProgressBar::new(total),
            None => ProgressBar::new_spinner(),
        };
        let style = ProgressStyle::with_template("  {msg:28} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} eta {eta}")
            .map(|s| s.progress_chars("=> "))
            .unwrap_or_else(|_| ProgressStyle::default_bar());
        bar.set_style(style);
        bar.set_message(file.to_owned());
        self.bar = Some(bar);
    }

    fn progress(&mut self, received: u64) {
        if let Some(bar) = &self.bar {
            bar.set_position(received);
        }
    }

    fn finished(&mut self, file: &str) {
        if let Some(bar) = self.bar.take() {
            bar.finish_with_message(format!("{file} ok"));
        }
    }

    fn skipped(&mut self, file: &str) {
        println!("  {file}: already present and verified");
    }

    fn failed(&mut self, _file: &str, _error: &Error) {
        // The final error lists every mirror's failure; here only stop the bar.
        if let Some(bar) = self.bar.take() {
            bar.abandon();
        }
    }
}
