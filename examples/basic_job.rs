//! Copies a few sample files through one background job, with a live progress bar fed by the
//! job's notifications (no polling), then completes the job and checks the copies.
//!
//! ```text
//! cargo run --example basic_job
//! ```
//!
//! No arguments, no network: the sample files are created in a temporary directory that is
//! removed at the end.

use bgcopy::*;
use indicatif::{ProgressBar, ProgressStyle};
use std::error::Error;
use std::path::Path;
use std::time::{Duration, Instant};

/// Sample files: name and size.
const SAMPLES: [(&str, usize); 4] = [
    ("photos.tar", 24 << 20),
    ("video.mp4", 16 << 20),
    ("notes.txt", 300 << 10),
    ("music.flac", 8 << 20),
];

fn main() -> Result<(), Box<dyn Error>> {
    let dir = tempfile::tempdir()?;
    let sources = dir.path().join("server");
    let downloads = dir.path().join("downloads");
    std::fs::create_dir_all(&sources)?;
    std::fs::create_dir_all(&downloads)?;
    for (seed, (name, size)) in SAMPLES.iter().enumerate() {
        write_sample(&sources.join(name), *size, seed as u64)?;
    }

    // The manager runs the engine: worker threads that move queued jobs in the background.
    let manager = Manager::new();
    let job = manager.create_job("basic_job example", BgJobType::Download)?;
    for (name, _) in SAMPLES {
        // Plain absolute paths and file:// URLs are served by the built-in local transport.
        let remote = sources.join(name);
        let remote = remote.to_str().ok_or("the temporary directory is not UTF-8")?;
        job.add_file(remote, &downloads.join(name))?;
    }
    println!(
        "job {} holds {} files; a new job is {:?}",
        job.get_id(),
        SAMPLES.len(),
        job.get_state()
    );

    // Subscribe before resume() so that no event is missed: state changes as they happen, and
    // progress at most every 100 ms (transfers only bump atomics; a pacer samples them).
    let events = job.subscribe().with_progress_interval(Some(Duration::from_millis(100)));
    let started = Instant::now();
    job.resume()?;
    let bar = ProgressBar::new(0);
    bar.set_style(
        ProgressStyle::with_template(
            "{spinner} [{bar:40}] {bytes}/{total_bytes} {bytes_per_sec} {msg}",
        )?
        .progress_chars("=> "),
    );
    for event in events {
        match event {
            Notification::Progress { progress, .. } => {
                if progress.bytes_total != BG_SIZE_UNKNOWN {
                    bar.set_length(progress.bytes_total);
                }
                bar.set_position(progress.bytes_transferred);
                bar.set_message(format!(
                    "{}/{} files",
                    progress.files_transferred, progress.files_total
                ));
            }
            Notification::StateChanged { state: BgJobState::Transferred, .. } => break,
            Notification::StateChanged { state: BgJobState::Error, .. } => {
                bar.abandon();
                let error = job.get_error()?;
                return Err(format!(
                    "the job failed: {} ({})",
                    error.get_error_description(),
                    error.message()
                )
                .into());
            }
            _ => {}
        }
    }
    bar.finish_with_message("transferred");
    let elapsed = started.elapsed();

    // Until now the copies were temporary files; complete() makes them appear.
    let visible_before = downloads.join(SAMPLES[0].0).exists();
    let outcome = job.complete()?;
    let mut bytes = 0u64;
    for (name, _) in SAMPLES {
        let original = std::fs::read(sources.join(name))?;
        let copy = std::fs::read(downloads.join(name))?;
        if original != copy {
            return Err(format!("{name} differs from its source").into());
        }
        bytes += copy.len() as u64;
    }

    println!("complete(): {outcome:?}; visible before complete(): {visible_before}");
    println!(
        "{} files, {:.1} MiB, byte-identical, in {:.2?} ({:.0} MiB/s); final state {:?}",
        SAMPLES.len(),
        bytes as f64 / (1 << 20) as f64,
        elapsed,
        bytes as f64 / (1 << 20) as f64 / elapsed.as_secs_f64().max(1e-6),
        job.get_state(),
    );
    Ok(())
}

/// Writes `size` pseudo-random bytes (xorshift; fast and not compressible).
fn write_sample(path: &Path, size: usize, seed: u64) -> std::io::Result<()> {
    let mut state = 0x9E37_79B9_7F4A_7C15u64 ^ seed.wrapping_mul(0xA24B_AED4_963E_E407);
    let mut data = Vec::with_capacity(size + 8);
    while data.len() < size {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        data.extend_from_slice(&state.to_le_bytes());
    }
    data.truncate(size);
    std::fs::write(path, data)
}
