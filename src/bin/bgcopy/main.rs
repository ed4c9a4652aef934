//! `bgcopy`: the verbs of `bitsadmin` on bgcopy's durable store (DESIGN 5.4; cargo feature
//! `cli`).
//!
//! ```text
//! bgcopy [--store DIR] transfer URL DEST [URL DEST]... [--name NAME]
//! bgcopy [--store DIR] create NAME [--on-demand] | addfile ID URL DEST
//! bgcopy [--store DIR] addfilewithranges ID URL DEST offset:length[,...] | getfilledranges ID
//! bgcopy [--store DIR] cat ID [INDEX]
//! bgcopy [--store DIR] resume ID [--wait] | suspend ID | cancel ID | complete ID
//! bgcopy [--store DIR] list [--json] | info ID [--json] | monitor | serve
//! bgcopy [--store DIR] setremotename ID FILE URL | replaceremoteprefix ID OLD NEW
//! bgcopy [--store DIR] setnotifycmdline ID PROGRAM [PARAMETERS] | getresponseheaders ID [FILE]
//! ```
//!
//! `transfer` and `addfile` take `--header "Name: value"` and `--mirror URL` (repeatable);
//! every verb takes `--cache-host HOST[:PORT]`.
//!
//! Data goes to stdout, progress and messages to stderr. Exit codes: 0 done; 1 refused (the
//! HRESULT on stderr) or the job ended in `Error`; 2 usage; 3 no such job; 4 the store is held
//! by another process; 130 interrupted (Ctrl-C; 128 plus the signal's number for SIGTERM, 143,
//! and SIGHUP, 129). A closed stdout (`bgcopy list | head -1`) ends a verb
//! quietly with 0.
//!
//! | file | holds |
//! |---|---|
//! | `args.rs` | the command line (clap), the help texts with the JSON schema and exit codes |
//! | `location.rs` | where the store is by default |
//! | `open.rs` | opening the store when another process may hold it; holding it for a transfer |
//! | `snapshot.rs` | the view a holder publishes for other processes |
//! | `json.rs` | the stable JSON records of `list`, `info` and the snapshot |
//! | `events.rs` | the one queue a waiting verb sleeps on: notifications, signals, end of stdin |
//! | `follow.rs` | following a job to the end for `transfer` and `resume --wait` |
//! | `progress.rs` | a followed job's progress bar or plain lines, with rate and ETA |
//! | `text.rs` | how figures read, plain and human |
//! | `failure.rs` | why a verb failed: exit codes and messages |
//! | `output.rs` | writing data to stdout, which the reader may have closed |
//! | `transfer.rs`, `verbs.rs`, `monitor.rs`, `serve.rs` | the verbs |
//! | `ranges.rs` | the verbs of DESIGN 6.3: ranged files, filled ranges, `cat` |
//! | `sources.rs` | where the bytes come from: headers, mirrors, the cache host, remote names, the notify program, response headers |

/// `eprintln!` that never panics: a message stderr cannot take (a terminal that hung up, a pipe
/// whose reader left) is dropped, so that the verb still stops durably and exits with its code.
macro_rules! say {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr(), $($arg)*);
    }};
}

mod args;
mod events;
mod failure;
mod follow;
mod json;
mod location;
mod monitor;
mod open;
mod output;
mod progress;
mod ranges;
mod serve;
mod snapshot;
mod sources;
mod text;
mod transfer;
mod verbs;

use args::{Cli, Verb};
use failure::Outcome;
use std::process::ExitCode;
use verbs::Change;

fn main() -> ExitCode {
    let cli = Cli::parse_or_exit();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => failure.report(),
    }
}

fn run(cli: Cli) -> Outcome {
    sources::set_cache_host(cli.cache_host);
    let dir = location::store_dir(cli.store)?;
    let dir = dir.as_path();
    match cli.verb {
        Verb::Transfer { pairs, name, connections, max_bytes_per_second, sources } => {
            let limits = transfer::Limits { connections, max_bytes_per_second };
            transfer::transfer(dir, args::pairs(pairs), name, limits, &sources)
        }
        Verb::Create { name, on_demand } => verbs::create(dir, &name, on_demand),
        Verb::Addfile { id, url, dest, sources } => verbs::addfile(dir, id, &url, &dest, &sources),
        Verb::Addfilewithranges { id, url, dest, ranges } => {
            ranges::add_with_ranges(dir, id, &url, &dest, &ranges.0)
        }
        Verb::Getfilledranges { id } => ranges::filled(dir, id),
        Verb::Cat { id, index } => ranges::cat(dir, id, index),
        Verb::Resume { id, wait: true } => verbs::resume_and_wait(dir, id),
        Verb::Resume { id, wait: false } => verbs::change(dir, id, Change::Resume),
        Verb::Suspend { id } => verbs::change(dir, id, Change::Suspend),
        Verb::Cancel { id } => verbs::change(dir, id, Change::Cancel),
        Verb::Complete { id } => verbs::change(dir, id, Change::Complete),
        Verb::List { json } => verbs::list(dir, json),
        Verb::Info { id, json } => verbs::info(dir, id, json),
        Verb::Monitor => monitor::monitor(dir),
        Verb::Serve => serve::serve(dir),
        Verb::SetRemoteName { id, file, url } => sources::set_remote_name(dir, id, &file, &url),
        Verb::ReplaceRemotePrefix { id, old, new } => {
            sources::replace_remote_prefix(dir, id, &old, &new)
        }
        Verb::SetNotifyCmdLine { id, program, parameters } => {
            sources::set_notify_cmd_line(dir, id, &program, &parameters)
        }
        Verb::GetResponseHeaders { id, file } => {
            sources::get_response_headers(dir, id, file.as_deref())
        }
    }
}
