//! The verbs of DESIGN 6.3: `addfilewithranges` (bitsadmin's spelling and range list),
//! `getfilledranges`, and `cat`, which streams a file of an on-demand job to stdout while it
//! downloads.

use crate::failure::{Failure, Outcome};
use crate::location::absolute;
use crate::open::{self, Engine};
use crate::output;
use crate::verbs::find;
use bgcopy::{
    BG_LENGTH_TO_EOF, BackgroundCopyFile6, BackgroundCopyJob, BackgroundCopyJob3, BgError,
    BgFileRange, BgJobState, JobId,
};
use std::fmt::Write as _;
use std::io::Write as _;
use std::path::Path;

/// `offset:length[,offset:length...]`, `eof` for a length to the end of the file (bitsadmin's
/// `/AddFileWithRanges` list).
pub(crate) fn parse_ranges(text: &str) -> Result<Vec<BgFileRange>, String> {
    text.split(',')
        .map(|range| {
            let (offset, length) = range
                .trim()
                .split_once(':')
                .ok_or_else(|| format!("{range:?} is not offset:length"))?;
            let offset =
                offset.trim().parse().map_err(|_| format!("{offset:?} is not an offset"))?;
            let length = match length.trim() {
                eof if eof.eq_ignore_ascii_case("eof") => BG_LENGTH_TO_EOF,
                digits => digits.parse().map_err(|_| format!("{digits:?} is not a length"))?,
            };
            Ok(BgFileRange { initial_offset: offset, length })
        })
        .collect()
}

/// `addfilewithranges ID URL DEST RANGES`.
pub(crate) fn add_with_ranges(
    dir: &Path,
    id: JobId,
    url: &str,
    dest: &Path,
    ranges: &[BgFileRange],
) -> Outcome {
    let dest = absolute(dest)?;
    let manager = open::for_change(dir, Engine::Off)?;
    let job = find(&manager, id)?;
    job.add_file_with_ranges(url, &dest, ranges)
        .map_err(|e| Failure::of(format!("add {url} to job {id}"), Some(id), e))?;
    say!("bgcopy: added {} range(s) of {url} -> {} to job {id}", ranges.len(), dest.display());
    Ok(())
}

/// `getfilledranges ID`: each file's ranges on disk, one line per file on stdout:
/// `INDEX offset:length[,offset:length...]` (nothing after the index when none is).
pub(crate) fn filled(dir: &Path, id: JobId) -> Outcome {
    let manager = open::for_change(dir, Engine::Off)?;
    let job = find(&manager, id)?;
    let mut out = String::new();
    for file in job.enum_files() {
        let ranges: Vec<String> = file
            .get_filled_file_ranges()
            .iter()
            .map(|range| format!("{}:{}", range.initial_offset, range.length))
            .collect();
        let _ = writeln!(out, "{} {}", file.index(), ranges.join(","));
    }
    output::print(&out)
}

/// `cat ID [INDEX]`: holds the store, moves the on-demand job on, and streams the file to
/// stdout as it arrives, in order.
pub(crate) fn cat(dir: &Path, id: JobId, index: usize) -> Outcome {
    open::hold(dir, |manager| {
        let job = find(manager, id)?;
        let refused = |doing: &str, e| Failure::of(format!("{doing} job {id}"), Some(id), e);
        let file = job
            .enum_files()
            .into_iter()
            .nth(index)
            .ok_or_else(|| Failure::Usage(format!("job {id} has no file {index}")))?;
        let mut reader = file.open_reader().map_err(|e| refused("read a file of", e))?;
        if job.get_state() == BgJobState::Suspended {
            match job.resume() {
                Ok(()) | Err(BgError::Empty) => {}
                Err(e) => return Err(refused("resume", e)),
            }
        }
        let stdout = std::io::stdout();
        let mut out = stdout.lock();
        match std::io::copy(&mut reader, &mut out).and_then(|_| out.flush()) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Err(Failure::ReaderLeft),
            Err(e) => match e.into_inner().and_then(|inner| inner.downcast::<BgError>().ok()) {
                Some(error) => Err(refused("read a file of", *error)),
                None => Err(Failure::Output(std::io::Error::other("stdout or the file failed"))),
            },
        }
    })
}
