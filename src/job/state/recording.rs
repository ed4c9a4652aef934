//! How a job is recorded (see `record/recorder.rs` for what the store is asked): its snapshot,
//! taken under the job's lock ([`JobShared::snapshot`]); progress checkpoints
//! ([`JobShared::checkpoint`]: sync the temporary files, then record the bytes they hold); and
//! jobs rebuilt from snapshots on open ([`JobShared::restore`]).
//!
//! The ranges a record gives for a file are always bytes known to be on disk: the checkpoint
//! reads which ranges hold bytes (from the counters, or the segment table), syncs the file, and
//! only then extends the file's `durable` ranges, which are what every snapshot records; a
//! restart of the file clears them at once.

#[cfg(feature = "store")]
use crate::BgError;
use crate::job::context::JobContext;
use crate::job::record::recorder::recorded_bytes;
use crate::job::record::snapshot::{ErrorSnapshot, FileSnapshot, JobSnapshot};
use crate::job::state::counters::{FileCounters, JobCounters};
use crate::job::state::error::ErrorRecord;
use crate::job::state::file::FileDisk;
use crate::job::state::file::FileShared;
use crate::job::state::shared::{JobInner, JobShared};
use crate::job::validate::{self, MAX_CONNECTIONS};

/// The largest job, in bytes, that `HighPerformance` spares progress checkpoints (DESIGN 6.3):
/// 4 MiB, four times the on-demand chunk, a few seconds of a slow link to fetch again.
#[cfg(feature = "store")]
pub(crate) const SMALL_JOB_BYTES: u64 = 4 << 20;
use crate::{BgJobState, BgNotify, Result};
use std::collections::HashSet;
#[cfg(feature = "store")]
use std::path::PathBuf;
use std::sync::Arc;

/// A file whose ranges on disk moved since they were recorded, or whose temporary file's name
/// is not known to be durable yet.
#[cfg(feature = "store")]
struct Dirty {
    index: usize,
    temp: PathBuf,
    /// The ranges on disk when it was read.
    on_disk: Vec<(u64, u64)>,
    epoch: u64,
    entry_synced: bool,
}

/// The state a job is restored in: `Connecting` and `Transferring` come back `Queued`.
fn restored_state(state: BgJobState) -> BgJobState {
    match state {
        BgJobState::Connecting | BgJobState::Transferring => BgJobState::Queued,
        other => other,
    }
}

impl JobShared {
    /// What the store keeps of this job once the change under way (if any) is published: the
    /// draft's cold state and its pending hot state. Under the job lock.
    pub(crate) fn snapshot(&self, inner: &JobInner) -> JobSnapshot {
        let files = inner
            .files
            .iter()
            .zip(&inner.file_disk)
            .map(|(file, disk)| FileSnapshot {
                remote_name: file.remote_name.clone(),
                local_name: file.local_name.clone(),
                temp_path: disk.temp_path.clone(),
                size: file.counters.size(),
                ranges: disk.durable(),
                validator: disk.validator.clone(),
                transferred: JobShared::transferred_in(inner, file.index),
                completed: JobShared::completed_in(inner, file.index),
                expected_sha256: disk.expected_sha256.as_deref().copied(),
                sources: super::sources::file_snapshot(&disk.sources),
            })
            .collect();
        let error = inner.error.as_ref().map(|record| ErrorSnapshot {
            context: record.context,
            hresult: record.hresult,
            file_index: record.file_index.and_then(|i| u32::try_from(i).ok()),
            protocol: record.protocol.clone(),
            message: record.message.clone(),
        });
        JobSnapshot {
            id: self.id,
            seq: self.seq,
            job_type: self.job_type,
            display_name: inner.display_name.clone(),
            description: inner.description.clone(),
            owner: inner.owner.clone(),
            priority: inner.priority,
            notify_flags: inner.notify_flags.bits(),
            min_retry_delay: inner.min_retry_delay,
            no_progress_timeout: inner.no_progress_timeout,
            proxy: inner.proxy.clone(),
            headers: inner.options.headers.clone(),
            connect_timeout: inner.options.connect_timeout,
            read_timeout: inner.options.read_timeout,
            max_connections: inner.max_connections,
            max_bytes_per_second: inner.max_bytes_per_second,
            state: self.state_in(inner),
            error_count: inner.error_count,
            error,
            creation_time: self.creation_time,
            modification_time: inner.modification_time,
            transfer_completion_time: inner.transfer_completion_time,
            retry: inner.retry.clone(),
            intent: inner.intent,
            files,
            bytes_needed: super::properties::JobProperties::recorded(
                &inner.properties,
                &inner.files,
            ),
            sources: super::sources::job_snapshot(&inner.sources),
            http: inner.options.http.clone(),
        }
    }

    /// Rebuilds a job from its record. The store has already checked each file against its
    /// temporary file (the snapshot's bytes are on disk, or the file restarts from zero).
    pub(crate) fn restore(snapshot: JobSnapshot, ctx: Arc<JobContext>) -> JobShared {
        let counters = JobCounters::new(restored_state(snapshot.state));
        let mut files = Vec::with_capacity(snapshot.files.len());
        let mut file_disk = Vec::with_capacity(snapshot.files.len());
        let mut local_names = HashSet::with_capacity(snapshot.files.len());
        let needed = &snapshot.bytes_needed;
        let (mut on_disk, mut sizes) = (Vec::new(), Vec::new());
        for (index, file) in snapshot.files.into_iter().enumerate() {
            let protocol = validate::protocol_of(&file.remote_name);
            let given = needed.files.get(index).map(|f| f.given.clone()).unwrap_or_default();
            let shared = FileShared {
                index,
                remote_name: file.remote_name.clone(),
                local_name: file.local_name.clone(),
                protocol,
                counters: FileCounters::new(index),
                ranges: (!given.is_empty()).then(|| given.into_boxed_slice()),
                on_demand: std::sync::OnceLock::new(),
            };
            counters.add_file();
            let bytes = recorded_bytes(&file);
            restore_counters(&counters, &shared.counters, &file, bytes);
            let ranges = match (file.transferred, file.size) {
                (true, Some(size)) if size > 0 => vec![(0, size)],
                (true, _) => vec![],
                (false, _) => file.ranges,
            };
            local_names.insert(validate::normalized(&file.local_name));
            files.push(Arc::new(shared));
            let mut disk = FileDisk::default();
            disk.temp_path = file.temp_path;
            disk.validator = file.validator;
            disk.expected_sha256 = file.expected_sha256.map(Box::new);
            on_disk.push(ranges.clone());
            sizes.push(file.size);
            disk.sources = super::sources::file_restore(file.sources);
            disk.set_durable(ranges.clone());
            disk.set_base(ranges);
            file_disk.push(disk);
        }
        let shared =
            JobShared::new(snapshot.id, snapshot.seq, &snapshot.display_name, &snapshot.owner, ctx);
        let job = JobShared { creation_time: snapshot.creation_time, counters, ..shared };
        {
            let mut inner = job.inner.lock();
            inner.description = snapshot.description;
            inner.priority = snapshot.priority;
            inner.notify_flags = BgNotify::from_bits_truncate(snapshot.notify_flags);
            inner.min_retry_delay = snapshot.min_retry_delay;
            inner.no_progress_timeout = snapshot.no_progress_timeout;
            inner.proxy = snapshot.proxy;
            inner.options.headers = snapshot.headers;
            inner.options.connect_timeout = snapshot.connect_timeout;
            inner.options.read_timeout = snapshot.read_timeout;
            inner.options.http = snapshot.http;
            inner.error_count = snapshot.error_count;
            inner.error = snapshot.error.map(|e| {
                Arc::new(ErrorRecord {
                    context: e.context,
                    hresult: e.hresult,
                    file_index: e.file_index.map(|i| i as usize),
                    protocol: e.protocol,
                    message: e.message,
                })
            });
            inner.modification_time = snapshot.modification_time;
            inner.transfer_completion_time = snapshot.transfer_completion_time;
            inner.retry = snapshot.retry;
            inner.sources = super::sources::job_restore(snapshot.sources);
            inner.max_connections = snapshot.max_connections.clamp(1, MAX_CONNECTIONS);
            inner.max_bytes_per_second = snapshot.max_bytes_per_second.filter(|cap| *cap > 0);
            if inner.max_bytes_per_second.is_some() {
                job.ctx.limiter.set_job_cap(job.id, inner.max_bytes_per_second);
            }
            job.ctx.limiter.set_priority(job.id, inner.priority);
            inner.files = files;
            inner.file_disk = file_disk;
            inner.local_names = local_names;
            inner.properties = super::properties::JobProperties::restored(
                &snapshot.bytes_needed,
                &on_disk,
                &sizes,
            );
        }
        job
    }

    /// Records the job as it is now (a new job), if the manager has a store.
    ///
    /// # Errors
    /// The store's error.
    pub(crate) fn record(self: &Arc<Self>) -> Result<()> {
        self.change(|inner| {
            inner.effects.save = true;
            Ok(())
        })
    }

    /// Whether the checkpointer leaves this job alone (DESIGN 6.3, `HighPerformance`: no
    /// progress checkpoints for small jobs): the job has `HighPerformance` and its total size is
    /// known and at most [`SMALL_JOB_BYTES`], or it has no byte yet. Such a job is fetched again from its last record
    /// after a restart, which costs less than a durable commit per checkpoint interval. Its
    /// state changes are still recorded, and an on-demand job still records what is on disk
    /// before it goes idle.
    #[cfg(feature = "store")]
    pub(crate) fn skips_progress_checkpoints(&self) -> bool {
        if !self.inner.lock().properties.high_performance {
            return false;
        }
        // Before its first byte the size may not be known yet: nothing to checkpoint either.
        let progress = self.counters.snapshot();
        progress.bytes_transferred == 0
            || (progress.bytes_total != crate::BG_SIZE_UNKNOWN
                && progress.bytes_total <= SMALL_JOB_BYTES)
    }

    /// Records the progress of the files that moved since the last checkpoint: reads their
    /// counters, syncs their temporary files (and, the first time, the directory entry of each),
    /// then records what was read (see the module docs). The syncs hold no lock of the job, so
    /// a `suspend()` never waits behind a large file's fsync; only the record takes the job's
    /// `serial` lock. Returns whether anything was recorded.
    ///
    /// # Errors
    /// The store's error, or the sync's.
    #[cfg(feature = "store")]
    pub(crate) fn checkpoint(self: &Arc<Self>) -> Result<bool> {
        let Some(persist) = self.ctx.persist.clone() else { return Ok(false) };
        let dirty: Vec<Dirty> = {
            let inner = self.inner.lock();
            inner
                .files
                .iter()
                .zip(&inner.file_disk)
                .filter_map(|(file, disk)| {
                    if file.counters.is_transferred() {
                        return None;
                    }
                    let temp = disk.temp_path.clone()?;
                    let on_disk = disk.on_disk(file.counters.transferred());
                    (on_disk != disk.durable() || !disk.entry_synced).then_some(Dirty {
                        index: file.index,
                        temp,
                        on_disk,
                        epoch: disk.epoch,
                        entry_synced: disk.entry_synced,
                    })
                })
                .collect()
        };
        if dirty.is_empty() {
            return Ok(false);
        }
        for file in &dirty {
            sync(&file.temp)?;
            if !file.entry_synced {
                // The record will name this file: its name must survive a power loss too.
                crate::job::temp_files::sync_dirs([file.temp.as_path()])
                    .map_err(|e| BgError::io("sync the directory of", file.temp.clone(), e))?;
            }
            crate::faults::point("checkpoint:synced", &file.temp);
        }
        let _serial = self.serial.lock();
        let snapshot = {
            let mut inner = self.inner.lock();
            for file in dirty {
                let disk = &mut inner.file_disk[file.index];
                // Ranges only grow within an epoch (a restart or a cut bumps it), so what was
                // read before the sync is on disk unless the epoch moved.
                if disk.epoch == file.epoch && disk.temp_path.as_ref() == Some(&file.temp) {
                    disk.set_durable(file.on_disk);
                    disk.entry_synced = true;
                }
            }
            self.snapshot(&inner)
        };
        persist.save(&snapshot)?;
        Ok(true)
    }
}

/// Puts a restored file's counters where its record says.
fn restore_counters(job: &JobCounters, file: &FileCounters, snapshot: &FileSnapshot, bytes: u64) {
    if let Some(size) = snapshot.size {
        job.set_file_size(file, Some(size));
    }
    if snapshot.transferred {
        job.add_file_bytes(file, snapshot.size.unwrap_or(bytes));
        job.finish_file(file);
        if snapshot.completed {
            job.mark_completed(file);
        }
    } else {
        job.add_file_bytes(file, bytes);
    }
}

/// Syncs a temporary file's data to disk.
#[cfg(feature = "store")]
pub(crate) fn sync(temp: &std::path::Path) -> Result<()> {
    let file =
        crate::job::temp_files::open_temp(temp, None).map_err(|e| BgError::io("sync", temp, e))?;
    file.sync_data().map_err(|e| BgError::io("sync", temp, e))
}
