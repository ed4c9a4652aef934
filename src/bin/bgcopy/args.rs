//! The command line: the verbs of `bitsadmin` (DESIGN 5.4), parsed with clap's derive API.
//! Usage errors (an unknown verb, a malformed job id, an odd number of `URL DEST` words) exit
//! with 2, through clap.

use crate::sources::SourceArgs;
use bgcopy::JobId;
use clap::{CommandFactory, Parser, Subcommand};
use std::ffi::OsString;
use std::path::PathBuf;

/// The JSON schema of `list --json` and `info --json`, shown by `bgcopy list --help` and
/// `bgcopy info --help` (the README has the same text).
const JSON_HELP: &str = "\
JSON output (--json), a stable schema:
  list --json prints one array of job objects; info ID --json prints one job object with
  `files` and `error` added. Fields may be added in later versions; none is removed or renamed.

  job object:
    id                 string   the job id in braces, as bgcopy prints it: \"{5CE34C0D-...}\"
    display_name       string
    state              string   the BgJobState name: Queued, Connecting, Transferring,
                                Suspended, Error, TransientError, Transferred, Acknowledged,
                                Cancelled
    bytes_total        number   or null while any file's size is unknown
    bytes_transferred  number
    files_total        number
    files_transferred  number
  info only:
    files              array of {remote: string, local: string, bytes_total: number or null,
                       bytes_transferred: number, completed: bool, response_headers: string
                       (absent before a response in the holding process)}, in the order added
    error              null, or {context: string (BgErrorContext name, e.g. \"RemoteFile\"),
                       hresult: number, hresult_hex: string (\"0x80190194\"),
                       description: string, message: string}
    max_connections    number   connections per file, 1 to 16
    max_bytes_per_second  number or null (no cap): the job's own bandwidth cap

  While another process holds the store, the output is that process's published view (a note
  on stderr says so); the schema is the same.";

/// The exit codes, shown by `bgcopy --help`.
const EXIT_HELP: &str = "\
Exit codes:
  0    done
  1    an operation was refused (its HRESULT and description on stderr), or the job ended in
       Error
  2    command-line usage
  3    no such job
  4    the store is held by another process (its process id on stderr)
  130  interrupted (Ctrl-C); an interrupted transfer is suspended, its bytes kept
  143  the same for SIGTERM, and 129 for SIGHUP (128 plus the signal's number)
A closed stdout (`bgcopy list | head -1`) stops a verb quietly with 0.";

/// bgcopy: background file transfers (the job model of Windows BITS) from the command line.
///
/// Jobs live in a durable store and survive an exit, a crash and a reboot. Data goes to
/// stdout; progress and messages go to stderr.
#[derive(Debug, Parser)]
#[command(name = "bgcopy", version, after_long_help = EXIT_HELP)]
pub(crate) struct Cli {
    /// The store directory [default: $BGCOPY_STORE, else the user's state directory]
    #[arg(long, global = true, value_name = "DIR", env = "BGCOPY_STORE", hide_env = true)]
    pub(crate) store: Option<PathBuf>,

    /// An HTTP cache on the LAN ("host[:port]") that `http://` requests go to first, with the
    /// origin in `?cacheHostOrigin=`; the origin serves when it fails (skipped 15 minutes)
    #[arg(long, global = true, value_name = "HOST[:PORT]")]
    pub(crate) cache_host: Option<String>,

    #[command(subcommand)]
    pub(crate) verb: Verb,
}

/// The verbs.
#[derive(Debug, Subcommand)]
pub(crate) enum Verb {
    /// Downloads each URL to its DEST: create, add, resume, wait, complete.
    ///
    /// Prints only the job id on stdout. The same command again (same URLs and DESTs, in
    /// order) continues the unfinished job that has exactly those files, e.g. after Ctrl-C,
    /// which suspends the job and keeps its bytes.
    Transfer {
        /// URL DEST pairs; a relative DEST is taken from the current directory
        #[arg(value_names = ["URL", "DEST"], num_args = 2.., required = true)]
        pairs: Vec<OsString>,
        /// The new job's display name [default: the first DEST's file name]
        #[arg(long)]
        name: Option<String>,
        /// Connections per file, 1 to 16 (segments where the server allows a validated range
        /// resume) [default: 1, or what the continued job has]
        #[arg(long, short = 'x', value_parser = clap::value_parser!(u32).range(1..=16))]
        connections: Option<u32>,
        /// The job's bandwidth cap in bytes per second; K, M, G (powers of 1024) may follow
        /// the number [default: no cap, or what the continued job has]
        #[arg(long, value_name = "RATE", value_parser = parse_rate)]
        max_bytes_per_second: Option<u64>,
        #[command(flatten)]
        sources: SourceArgs,
    },
    /// Creates a suspended job and prints its id, alone, on stdout.
    Create {
        /// The job's display name
        name: String,
        /// Fetches only what is asked for (`cat`, `getfilledranges` show it)
        #[arg(long)]
        on_demand: bool,
    },
    /// Adds a file to a job.
    Addfile {
        /// The job
        id: JobId,
        /// What to download (http://, https://, file:// or an absolute path)
        url: String,
        /// Where to put it; a relative DEST is taken from the current directory
        dest: PathBuf,
        #[command(flatten)]
        sources: SourceArgs,
    },
    /// Adds a file of which only some ranges are downloaded, back to back in the order given.
    Addfilewithranges {
        /// The job
        id: JobId,
        /// What to download (http://, https://, file:// or an absolute path)
        url: String,
        /// Where to put it; a relative DEST is taken from the current directory
        dest: PathBuf,
        /// offset:length[,offset:length...], `eof` for a length to the end of the file
        #[arg(value_parser = |text: &str| crate::ranges::parse_ranges(text).map(Ranges))]
        ranges: Ranges,
    },
    /// Prints each file's ranges on disk: `INDEX offset:length,...`, one line per file.
    Getfilledranges {
        /// The job
        id: JobId,
    },
    /// Streams a file of an on-demand job (`create --on-demand`) to stdout while it downloads.
    Cat {
        /// The job
        id: JobId,
        /// The file's index in the job
        #[arg(default_value_t = 0)]
        index: usize,
    },
    /// Queues a job for transfer (`bgcopy serve`, or --wait, transfers it).
    Resume {
        /// The job
        id: JobId,
        /// Transfers it in this process, showing progress, until it is transferred (not
        /// completed: `bgcopy complete ID` makes the files visible)
        #[arg(long)]
        wait: bool,
    },
    /// Suspends a job.
    Suspend {
        /// The job
        id: JobId,
    },
    /// Cancels a job and deletes its temporary files.
    Cancel {
        /// The job
        id: JobId,
    },
    /// Completes a transferred job: its files appear under their names.
    Complete {
        /// The job
        id: JobId,
    },
    /// Lists the jobs that are not final (every owner's).
    #[command(after_long_help = JSON_HELP)]
    List {
        /// Prints one JSON array (schema below)
        #[arg(long)]
        json: bool,
    },
    /// Shows one job: its state, progress, files and error.
    #[command(after_long_help = JSON_HELP)]
    Info {
        /// The job
        id: JobId,
        /// Prints one JSON object (schema below)
        #[arg(long)]
        json: bool,
    },
    /// A live view of every job: state, bytes, rate, ETA, errors.
    ///
    /// Redrawn on a terminal; plain lines on stdout otherwise. Ends on Ctrl-C (or SIGTERM,
    /// SIGHUP), when stdout closes, or when stdin, if it is not a terminal, reaches its end.
    Monitor,
    /// Holds the store and transfers its queued jobs until Ctrl-C (or SIGTERM, SIGHUP).
    Serve,
    /// Gives one file of a job a new URL (e.g. a signed URL that expired); the bytes on disk
    /// are kept when the new URL serves the same content (same size and strong validator).
    #[command(name = "setremotename")]
    SetRemoteName {
        /// The job
        id: JobId,
        /// The file: its index as `info` shows it (from 0), or its local name
        file: String,
        /// The new URL
        url: String,
    },
    /// Changes every file's URL that starts with OLD (case-sensitive) to start with NEW.
    #[command(name = "replaceremoteprefix")]
    ReplaceRemotePrefix {
        /// The job
        id: JobId,
        /// The prefix to replace, e.g. http://stageserver
        old: String,
        /// Its replacement, e.g. http://prodserver
        new: String,
    },
    /// Sets the program the process holding the store (e.g. `bgcopy serve`) runs, without a
    /// shell, when the job is transferred or in error.
    ///
    /// As bitsadmin: NULL for PROGRAM clears it (PARAMETERS must then be NULL or absent); the
    /// PARAMETERS, if any, start with the program's name and are split as a Windows command
    /// line (double quotes group words). Several words are joined with spaces.
    #[command(name = "setnotifycmdline")]
    SetNotifyCmdLine {
        /// The job
        id: JobId,
        /// The program (a path), or NULL
        program: String,
        /// Its command line, starting with its name, or NULL
        #[arg(allow_hyphen_values = true, trailing_var_arg = true)]
        parameters: Vec<String>,
    },
    /// Prints the headers of each file's last response (or of one file), after a `# URL`
    /// line; they are kept in memory by the process that holds the store while it transfers
    /// (`bgcopy serve`), not in the store.
    #[command(name = "getresponseheaders")]
    GetResponseHeaders {
        /// The job
        id: JobId,
        /// Only this file: its index (from 0) or its local name
        file: Option<String>,
    },
}

/// The ranges of `addfilewithranges` (a newtype: clap takes a `Vec` for many values).
#[derive(Debug, Clone)]
pub(crate) struct Ranges(pub(crate) Vec<bgcopy::BgFileRange>);

/// One `URL DEST` pair of `transfer`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Pair {
    pub(crate) url: String,
    pub(crate) dest: PathBuf,
}

impl Cli {
    /// The parsed command line; prints the usage error and exits with 2 (or prints the help
    /// and exits with 0) when it cannot be parsed.
    pub(crate) fn parse_or_exit() -> Cli {
        Cli::parse()
    }
}

/// A rate such as `500000`, `512K`, `4M` or `1G` (powers of 1024), above zero.
fn parse_rate(text: &str) -> Result<u64, String> {
    let (digits, scale) = match text.trim().char_indices().last() {
        Some((at, unit)) if unit.is_ascii_alphabetic() => {
            let scale = match unit.to_ascii_uppercase() {
                'K' => 1 << 10,
                'M' => 1 << 20,
                'G' => 1 << 30,
                _ => return Err(format!("{text:?}: the unit is K, M or G")),
            };
            (&text.trim()[..at], scale)
        }
        _ => (text.trim(), 1),
    };
    let number: u64 = digits.parse().map_err(|_| format!("{text:?} is not a rate"))?;
    match number.checked_mul(scale) {
        Some(0) => Err("a cap of 0 bytes per second: leave the option out for no cap".into()),
        Some(rate) => Ok(rate),
        None => Err(format!("{text:?} is too large")),
    }
}

/// `transfer`'s words as pairs; exits with 2 (usage) for an odd count or a URL that is not
/// UTF-8.
pub(crate) fn pairs(words: Vec<OsString>) -> Vec<Pair> {
    if !words.len().is_multiple_of(2) {
        usage_error("URL and DEST come in pairs: every URL needs its DEST");
    }
    words
        .chunks(2)
        .map(|pair| {
            let url = pair[0].to_str().map(str::to_owned);
            let url = url.unwrap_or_else(|| usage_error("a URL must be valid UTF-8"));
            Pair { url, dest: PathBuf::from(&pair[1]) }
        })
        .collect()
}

/// Prints a usage error of `transfer` the way clap prints its own, and exits with 2.
fn usage_error(message: &str) -> ! {
    let mut command = Cli::command();
    let transfer = command.find_subcommand_mut("transfer").cloned();
    transfer.unwrap_or(command).error(clap::error::ErrorKind::WrongNumberOfValues, message).exit()
}

#[cfg(test)]
mod tests {
    use super::parse_rate;

    #[test]
    fn rates_take_binary_suffixes_and_refuse_zero_and_overflow() {
        assert_eq!(parse_rate("500000"), Ok(500_000));
        assert_eq!(parse_rate("512K"), Ok(512 * 1024));
        assert_eq!(parse_rate("4m"), Ok(4 << 20));
        assert_eq!(parse_rate("1G"), Ok(1 << 30));
        for bad in ["0", "0M", "", "M", "4T", "-1", "1.5M", "99999999999999999999G"] {
            assert!(parse_rate(bad).is_err(), "{bad}");
        }
    }
}
