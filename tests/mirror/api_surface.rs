//! The public contract (DESIGN section 2; STYLE habit 6), checked at compile time: every name is
//! reachable through `use bgcopy::*;` with exactly the listed signature, handles and data types
//! have their auto traits, and each interface trait works as a trait object. Most of this file
//! does its work by compiling; the tests also call through the trait objects.

use bgcopy::meter::{Rate, RateMeter};
use bgcopy::transport::{LocalTransport, TransferError, Transport};
use bgcopy::*;
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::collections::HashSet;
use std::fmt::{Debug, Display};
use std::hash::Hash;
use std::panic::{RefUnwindSafe, UnwindSafe};
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

// ---- auto traits --------------------------------------------------------------------------

fn send_sync<T: Send + Sync>() {}
fn send<T: Send>() {}
fn handle<T: Send + Sync + Clone + Debug + Unpin + 'static>() {}
fn plain<T: Debug + Clone + Copy + PartialEq + Eq + Hash + Serialize + DeserializeOwned>() {}
fn data<T: Debug + Clone + PartialEq + Eq + Hash + Serialize + DeserializeOwned>() {}
fn unwind_safe<T: UnwindSafe + RefUnwindSafe>() {}

#[test]
fn handles_are_send_sync_clone_and_debug() {
    handle::<Manager>();
    handle::<Job>();
    handle::<JobFile>();
    handle::<JobError>();
}

#[test]
fn drivers_can_move_to_another_thread() {
    send::<JobDriver>();
    send::<FileTransfer>();
}

#[test]
fn futures_and_subscriptions_are_send_unpin_and_static() {
    fn future<F: std::future::Future + Send + Unpin + 'static>() {}
    future::<JobSettled>();
    future::<Revoked>();
    fn stream<T: Iterator<Item = Notification> + Send + Sync + Unpin + Debug + 'static>() {}
    stream::<Subscription>();
    fn borrowed_future<
        'a,
        F: std::future::Future<Output = Option<Notification>> + Send + Unpin + 'a,
    >() {
    }
    borrowed_future::<Recv<'_>>();
    send_sync::<Notification>();
    fn meter<T: Send + Sync + Clone + Debug + Default>() {}
    meter::<RateMeter>();
    send_sync::<Rate>();
}

#[test]
fn the_wait_and_lifecycle_names_of_design_5_1_have_their_signatures() {
    let _: fn(&Job, Duration) -> BgJobState = Job::wait;
    let _: fn(&Job) -> JobSettled = Job::settled;
    let _: fn(&Job) -> Subscription = Job::subscribe;
    let _: fn(&Manager) -> Subscription = Manager::subscribe;
    let _: fn(&Manager, Duration) -> bool = Manager::shutdown;
    let _: fn(&JobDriver) -> Revoked = JobDriver::revoked;
}

#[test]
fn bg_error_and_every_data_type_are_send_sync() {
    send_sync::<BgError>();
    send_sync::<BgJobProgress>();
    send_sync::<BgFileProgress>();
    send_sync::<BgJobTimes>();
    send_sync::<BgFileInfo>();
    send_sync::<BgJobState>();
    send_sync::<BgJobPriority>();
    send_sync::<BgJobType>();
    send_sync::<BgErrorContext>();
    send_sync::<BgJobProxyUsage>();
    send_sync::<BgNotify>();
    send_sync::<BgProxySettings>();
    send_sync::<JobId>();
    send_sync::<BgSuccess>();
    send_sync::<TransferError>();
    fn error<T: std::error::Error + Send + Sync + 'static>() {}
    error::<BgError>();
}

#[test]
fn plain_data_types_are_copy_eq_hash_and_serde() {
    plain::<BgJobProgress>();
    plain::<BgFileProgress>();
    plain::<BgJobTimes>();
    plain::<BgJobState>();
    plain::<BgJobPriority>();
    plain::<BgJobType>();
    plain::<BgErrorContext>();
    plain::<BgJobProxyUsage>();
    plain::<BgNotify>();
    plain::<JobId>();
    plain::<BgSuccess>();
    // Those holding strings are not Copy, but everything else.
    data::<BgFileInfo>();
    data::<BgProxySettings>();
}

#[test]
fn data_types_are_unwind_safe() {
    // Not BgError: its `Io` variant holds a std::io::Error, which is not unwind-safe itself.
    unwind_safe::<BgJobProgress>();
    unwind_safe::<BgFileProgress>();
    unwind_safe::<BgJobTimes>();
    unwind_safe::<BgFileInfo>();
    unwind_safe::<BgProxySettings>();
    unwind_safe::<BgJobState>();
    unwind_safe::<BgNotify>();
    unwind_safe::<JobId>();
    unwind_safe::<BgSuccess>();
}

#[test]
fn job_id_is_copy_ord_display_fromstr_and_serde() {
    fn id<T: Copy + Eq + Hash + Ord + Display + FromStr + Serialize + DeserializeOwned>() {}
    id::<JobId>();
    let a = JobId::new_random();
    let b: JobId = a.to_string().parse().unwrap();
    assert_eq!(a, b);
    assert_eq!(a.cmp(&b), std::cmp::Ordering::Equal);
}

// ---- trait objects ------------------------------------------------------------------------

fn use_manager(manager: &dyn BackgroundCopyManager<Job = Job>) -> Job {
    manager.create_job("dyn", BgJobType::Download).unwrap()
}

fn use_job(
    job: &dyn BackgroundCopyJob<File = JobFile, Error = JobError, Callback = dyn BackgroundCopyCallback>,
) -> BgJobState {
    job.set_description("through dyn").unwrap();
    job.get_state()
}

fn use_file(file: &dyn BackgroundCopyFile) -> PathBuf {
    file.get_local_name()
}

fn use_error(error: &dyn BackgroundCopyError<File = JobFile>) -> u32 {
    error.get_error().1
}

#[derive(Debug)]
struct Silent;
impl BackgroundCopyCallback for Silent {}

#[test]
fn each_interface_trait_works_as_a_trait_object() {
    let manager = Manager::builder().without_engine().build();
    let boxed: Box<dyn BackgroundCopyManager<Job = Job>> = Box::new(manager.clone());
    let job = use_manager(boxed.as_ref());
    assert_eq!(use_job(&job), BgJobState::Suspended);
    assert_eq!(job.get_description(), "through dyn");
    let dir = tempfile::tempdir().unwrap();
    job.add_file("https://example.com/a", &dir.path().join("a")).unwrap();
    let file = &job.enum_files()[0];
    assert_eq!(use_file(file), dir.path().join("a"));
    let boxed_file: Box<dyn BackgroundCopyFile> = Box::new(file.clone());
    assert_eq!(boxed_file.get_remote_name(), "https://example.com/a");
    job.resume().unwrap();
    let driver = job.claim().unwrap();
    driver
        .fail(TransferError::fatal(0x8007_0005, BgErrorContext::LocalFile, "denied"), Some(0))
        .unwrap();
    let report = job.get_error().unwrap();
    assert_eq!(use_error(&report), 0x8007_0005);
    let boxed_job: Box<
        dyn BackgroundCopyJob<
                File = JobFile,
                Error = JobError,
                Callback = dyn BackgroundCopyCallback,
            >,
    > = Box::new(job);
    assert_eq!(boxed_job.get_state(), BgJobState::Error);
    let callbacks: Vec<Box<dyn BackgroundCopyCallback>> =
        vec![Box::new(Silent), Box::new(NoopCallback)];
    assert_eq!(callbacks.len(), 2);
    let shared: Arc<dyn BackgroundCopyCallback> = Arc::new(Silent);
    boxed_job.set_notify_interface(Some(shared)).unwrap();
    let transport: Arc<dyn Transport> = Arc::new(LocalTransport);
    assert!(transport.schemes().contains(&"file"));
}

#[test]
fn job_error_is_a_std_error_that_says_its_hresult() {
    fn std_error<T: std::error::Error + Display + Send + Sync + 'static>() {}
    std_error::<JobError>();
    let manager = Manager::builder().without_engine().build();
    let job = manager.create_job("display", BgJobType::Download).unwrap();
    let dir = tempfile::tempdir().unwrap();
    job.add_file("https://example.com/a", &dir.path().join("a")).unwrap();
    job.resume().unwrap();
    job.claim()
        .unwrap()
        .fail(TransferError::fatal(0x8007_0005, BgErrorContext::LocalFile, "denied"), Some(0))
        .unwrap();
    let report = job.get_error().unwrap();
    assert_eq!(report.to_string(), "0x80070005 (LocalFile): denied");
    let boxed: Box<dyn std::error::Error> = Box::new(report);
    assert!(boxed.source().is_none());
}

// ---- names and signatures of DESIGN section 2 ---------------------------------------------

#[test]
fn constants_and_result_alias_are_as_listed() {
    const SIZE_UNKNOWN: u64 = BG_SIZE_UNKNOWN;
    assert_eq!(SIZE_UNKNOWN, u64::MAX);
    const NOT_FOUND: u32 = hresult::BG_E_NOT_FOUND;
    assert_eq!(NOT_FOUND, 0x8020_0001);
    // `Result<T>` defaults its error to BgError; a second parameter overrides it.
    fn parse(text: &str) -> Result<JobId> {
        text.parse()
    }
    fn io() -> Result<(), std::io::Error> {
        Err(std::io::Error::other("x"))
    }
    let failed: std::result::Result<JobId, BgError> = parse("not a guid");
    assert_eq!(failed.unwrap_err().hresult(), 0x8007_0057);
    assert!(io().is_err());
}

#[test]
fn data_structs_have_exactly_the_listed_fields() {
    let BgJobProgress { bytes_total, bytes_transferred, files_total, files_transferred } =
        BgJobProgress::default();
    let _: (u64, u64, u32, u32) = (bytes_total, bytes_transferred, files_total, files_transferred);
    let BgFileProgress { bytes_total, bytes_transferred, completed } = BgFileProgress::default();
    let _: (u64, u64, bool) = (bytes_total, bytes_transferred, completed);
    let times = BgJobTimes {
        creation_time: SystemTime::UNIX_EPOCH,
        modification_time: SystemTime::UNIX_EPOCH,
        transfer_completion_time: None,
    };
    let BgJobTimes { creation_time, modification_time, transfer_completion_time } = times;
    let _: (SystemTime, SystemTime, Option<SystemTime>) =
        (creation_time, modification_time, transfer_completion_time);
    let BgFileInfo { remote_name, local_name } = BgFileInfo::new("r", "/l");
    let _: (String, PathBuf) = (remote_name, local_name);
    let _ = BgFileInfo::new(String::from("r"), PathBuf::from("/l"));
    let _ = BgFileInfo::new("r", Path::new("/l"));
    let BgProxySettings { usage, proxy_list, bypass_list } =
        BgProxySettings { usage: BgJobProxyUsage::Preconfig, proxy_list: None, bypass_list: None };
    let _: (BgJobProxyUsage, Option<String>, Option<String>) = (usage, proxy_list, bypass_list);
}

// Exhaustive matches without a wildcard: a new or renamed variant fails to compile here.
fn state_value(state: BgJobState) -> u32 {
    use BgJobState::*;
    match state {
        Queued => 0,
        Connecting => 1,
        Transferring => 2,
        Suspended => 3,
        Error => 4,
        TransientError => 5,
        Transferred => 6,
        Acknowledged => 7,
        Cancelled => 8,
    }
}

fn priority_value(priority: BgJobPriority) -> u32 {
    match priority {
        BgJobPriority::Foreground => 0,
        BgJobPriority::High => 1,
        BgJobPriority::Normal => 2,
        BgJobPriority::Low => 3,
    }
}

fn type_value(job_type: BgJobType) -> u32 {
    match job_type {
        BgJobType::Download => 0,
        BgJobType::Upload => 1,
        BgJobType::UploadReply => 2,
    }
}

fn context_value(context: BgErrorContext) -> u32 {
    match context {
        BgErrorContext::None => 0,
        BgErrorContext::Unknown => 1,
        BgErrorContext::GeneralQueueManager => 2,
        BgErrorContext::QueueManagerNotification => 3,
        BgErrorContext::LocalFile => 4,
        BgErrorContext::RemoteFile => 5,
        BgErrorContext::GeneralTransport => 6,
        BgErrorContext::RemoteApplication => 7,
    }
}

fn usage_value(usage: BgJobProxyUsage) -> u32 {
    match usage {
        BgJobProxyUsage::Preconfig => 0,
        BgJobProxyUsage::NoProxy => 1,
        BgJobProxyUsage::Override => 2,
        BgJobProxyUsage::Autodetect => 3,
    }
}

fn success_value(success: BgSuccess) -> u32 {
    match success {
        BgSuccess::Ok => 0,
        BgSuccess::PartialComplete => 0x0020_0017,
        BgSuccess::UnableToDeleteFiles => 0x0020_001A,
        BgSuccess::NoChange => 0x0000_0001,
    }
}

#[test]
fn enums_have_exactly_the_listed_variants_and_values() {
    for state in BgJobState::ALL {
        assert_eq!(state as u32, state_value(state), "{state:?}");
    }
    assert_eq!(BgJobState::ALL.len(), 9);
    for priority in
        [BgJobPriority::Foreground, BgJobPriority::High, BgJobPriority::Normal, BgJobPriority::Low]
    {
        assert_eq!(priority as u32, priority_value(priority), "{priority:?}");
    }
    for job_type in [BgJobType::Download, BgJobType::Upload, BgJobType::UploadReply] {
        assert_eq!(job_type as u32, type_value(job_type), "{job_type:?}");
    }
    for context in [
        BgErrorContext::None,
        BgErrorContext::Unknown,
        BgErrorContext::GeneralQueueManager,
        BgErrorContext::QueueManagerNotification,
        BgErrorContext::LocalFile,
        BgErrorContext::RemoteFile,
        BgErrorContext::GeneralTransport,
        BgErrorContext::RemoteApplication,
    ] {
        assert_eq!(context as u32, context_value(context), "{context:?}");
    }
    for usage in [
        BgJobProxyUsage::Preconfig,
        BgJobProxyUsage::NoProxy,
        BgJobProxyUsage::Override,
        BgJobProxyUsage::Autodetect,
    ] {
        assert_eq!(usage as u32, usage_value(usage), "{usage:?}");
    }
    let hresult: fn(BgSuccess) -> u32 = BgSuccess::hresult;
    for success in [
        BgSuccess::Ok,
        BgSuccess::PartialComplete,
        BgSuccess::UnableToDeleteFiles,
        BgSuccess::NoChange,
    ] {
        assert_eq!(hresult(success), success_value(success), "{success:?}");
    }
}

#[test]
fn bg_notify_has_the_listed_flags_and_operations() {
    let flags = [
        (BgNotify::JOB_TRANSFERRED, 0x1),
        (BgNotify::JOB_ERROR, 0x2),
        (BgNotify::DISABLE, 0x4),
        (BgNotify::JOB_MODIFICATION, 0x8),
        (BgNotify::FILE_TRANSFERRED, 0x10),
    ];
    for (flag, bits) in flags {
        let get: fn(&BgNotify) -> u32 = BgNotify::bits;
        assert_eq!(get(&flag), bits);
        let from: fn(u32) -> Option<BgNotify> = BgNotify::from_bits;
        assert_eq!(from(bits), Some(flag));
    }
    let both: BgNotify = BgNotify::JOB_TRANSFERRED | BgNotify::JOB_ERROR;
    assert!(both.contains(BgNotify::JOB_ERROR));
    assert!(!both.contains(BgNotify::DISABLE));
    assert_eq!(BgNotify::from_bits(0x20), None);
}

#[test]
fn bg_error_is_a_non_exhaustive_error_with_an_hresult() {
    let hresult: fn(&BgError) -> u32 = BgError::hresult;
    assert_eq!(
        hresult(&BgError::InvalidState {
            state: BgJobState::Cancelled,
            reason: InvalidStateReason::JobState
        }),
        0x8020_0002
    );
    let described: &dyn std::error::Error = &BgError::Empty;
    assert!(!described.to_string().is_empty());
}

#[test]
fn manager_has_the_listed_constructors_and_methods() {
    let _: fn() -> Manager = Manager::new;
    let _: fn() -> ManagerBuilder = Manager::builder;
    let _: fn(&Manager, &str, BgJobType) -> Result<Job> =
        <Manager as BackgroundCopyManager>::create_job;
    let _: fn(&Manager, JobId) -> Result<Job> = <Manager as BackgroundCopyManager>::get_job;
    let _: fn(&Manager) -> Vec<Job> = <Manager as BackgroundCopyManager>::enum_jobs;
    let _: fn(&Manager, u32) -> Result<String> =
        <Manager as BackgroundCopyManager>::get_error_description;
    // Called as methods with the trait in scope through the glob import.
    let manager = Manager::builder().without_engine().build();
    let job: Job = manager.create_job("m", BgJobType::Download).unwrap();
    let found: Job = manager.get_job(job.get_id()).unwrap();
    let listed: Vec<Job> = manager.enum_jobs();
    let text: String = manager.get_error_description(hresult::BG_E_NOT_FOUND).unwrap();
    assert_eq!(found.get_id(), job.get_id());
    assert_eq!(listed.len(), 1);
    assert!(!text.is_empty());
}

// Spelling each signature out in full is the point of this test.
#[allow(clippy::type_complexity)]
#[test]
fn job_has_every_listed_method_with_its_signature() {
    type J = Job;
    let _: fn(&J, &[BgFileInfo]) -> Result<()> = <J as BackgroundCopyJob>::add_file_set;
    let _: fn(&J, &str, &Path) -> Result<()> = <J as BackgroundCopyJob>::add_file;
    let _: fn(&J) -> Vec<JobFile> = <J as BackgroundCopyJob>::enum_files;
    let _: fn(&J) -> Result<()> = <J as BackgroundCopyJob>::suspend;
    let _: fn(&J) -> Result<()> = <J as BackgroundCopyJob>::resume;
    let _: fn(&J) -> Result<BgSuccess> = <J as BackgroundCopyJob>::cancel;
    let _: fn(&J) -> Result<BgSuccess> = <J as BackgroundCopyJob>::complete;
    let _: fn(&J) -> JobId = <J as BackgroundCopyJob>::get_id;
    let _: fn(&J) -> BgJobType = <J as BackgroundCopyJob>::get_type;
    let _: fn(&J) -> BgJobProgress = <J as BackgroundCopyJob>::get_progress;
    let _: fn(&J) -> BgJobTimes = <J as BackgroundCopyJob>::get_times;
    let _: fn(&J) -> BgJobState = <J as BackgroundCopyJob>::get_state;
    let _: fn(&J) -> Result<JobError> = <J as BackgroundCopyJob>::get_error;
    let _: fn(&J) -> String = <J as BackgroundCopyJob>::get_owner;
    let _: fn(&J, &str) -> Result<()> = <J as BackgroundCopyJob>::set_display_name;
    let _: fn(&J) -> String = <J as BackgroundCopyJob>::get_display_name;
    let _: fn(&J, &str) -> Result<()> = <J as BackgroundCopyJob>::set_description;
    let _: fn(&J) -> String = <J as BackgroundCopyJob>::get_description;
    let _: fn(&J, BgJobPriority) -> Result<()> = <J as BackgroundCopyJob>::set_priority;
    let _: fn(&J) -> BgJobPriority = <J as BackgroundCopyJob>::get_priority;
    let _: fn(&J, BgNotify) -> Result<()> = <J as BackgroundCopyJob>::set_notify_flags;
    let _: fn(&J) -> BgNotify = <J as BackgroundCopyJob>::get_notify_flags;
    let _: fn(&J, Option<Arc<dyn BackgroundCopyCallback>>) -> Result<()> =
        <J as BackgroundCopyJob>::set_notify_interface;
    let _: fn(&J) -> Option<Arc<dyn BackgroundCopyCallback>> =
        <J as BackgroundCopyJob>::get_notify_interface;
    let _: fn(&J, Duration) -> Result<()> = <J as BackgroundCopyJob>::set_minimum_retry_delay;
    let _: fn(&J) -> Duration = <J as BackgroundCopyJob>::get_minimum_retry_delay;
    let _: fn(&J, Duration) -> Result<()> = <J as BackgroundCopyJob>::set_no_progress_timeout;
    let _: fn(&J) -> Duration = <J as BackgroundCopyJob>::get_no_progress_timeout;
    let _: fn(&J) -> u32 = <J as BackgroundCopyJob>::get_error_count;
    let _: fn(&J, BgJobProxyUsage, Option<&str>, Option<&str>) -> Result<()> =
        <J as BackgroundCopyJob>::set_proxy_settings;
    let _: fn(&J) -> BgProxySettings = <J as BackgroundCopyJob>::get_proxy_settings;
    let _: fn(&J) -> Result<()> = <J as BackgroundCopyJob>::take_ownership;
}

#[test]
fn job_file_has_every_listed_method_with_its_signature() {
    let _: fn(&JobFile) -> String = <JobFile as BackgroundCopyFile>::get_remote_name;
    let _: fn(&JobFile) -> PathBuf = <JobFile as BackgroundCopyFile>::get_local_name;
    let _: fn(&JobFile) -> BgFileProgress = <JobFile as BackgroundCopyFile>::get_progress;
}

#[test]
fn job_error_has_every_listed_method_with_its_signature() {
    let _: fn(&JobError) -> (BgErrorContext, u32) = <JobError as BackgroundCopyError>::get_error;
    let _: fn(&JobError) -> Result<JobFile> = <JobError as BackgroundCopyError>::get_file;
    let _: fn(&JobError) -> String = <JobError as BackgroundCopyError>::get_error_description;
    let _: fn(&JobError) -> String =
        <JobError as BackgroundCopyError>::get_error_context_description;
    let _: fn(&JobError) -> Result<String> = <JobError as BackgroundCopyError>::get_protocol;
}

/// Implements no method at all: every callback method has a default body.
#[derive(Debug)]
struct Empty;
impl BackgroundCopyCallback for Empty {}

#[test]
fn callback_methods_have_the_listed_signatures_and_default_bodies() {
    let _: fn(&Empty, &Job) = <Empty as BackgroundCopyCallback>::job_transferred;
    let _: fn(&Empty, &Job, &JobError) = <Empty as BackgroundCopyCallback>::job_error;
    let _: fn(&Empty, &Job) = <Empty as BackgroundCopyCallback>::job_modification;
    let _: fn(&Empty, &Job, &JobFile) = <Empty as BackgroundCopyCallback>::file_transferred;
    fn needs_send_sync<T: BackgroundCopyCallback + Send + Sync + ?Sized>(_: &T) {}
    needs_send_sync(&Empty);
    let object: &dyn BackgroundCopyCallback = &Empty;
    needs_send_sync(object);
}

#[test]
fn handles_compare_and_hash_through_their_ids() {
    let manager = Manager::builder().without_engine().build();
    let a = manager.create_job("a", BgJobType::Download).unwrap();
    let b = manager.create_job("b", BgJobType::Download).unwrap();
    let ids: HashSet<JobId> = [a.get_id(), b.get_id(), a.clone().get_id()].into_iter().collect();
    assert_eq!(ids.len(), 2);
    assert!(format!("{a:?}").contains(&a.get_id().to_string()));
}

// ---- DESIGN section 6: the later interfaces -------------------------------------------------

fn flags<T: Debug + Clone + Copy + PartialEq + std::ops::BitOr<Output = T>>() {}

#[test]
#[allow(clippy::type_complexity, reason = "the signatures are spelled out as DESIGN gives them")]
fn the_names_of_design_6_2_have_their_signatures_through_the_glob() {
    // The traits extend the one before, as in COM.
    fn job_family<T: BackgroundCopyJob5 + BackgroundCopyJobHttpOptions>() {}
    fn file_family<T: BackgroundCopyFile6>() {}
    job_family::<Job>();
    file_family::<JobFile>();

    let _: fn(&Job, Option<&Path>, Option<&str>) -> Result<()> =
        <Job as BackgroundCopyJob2>::set_notify_cmd_line;
    let _: fn(&Job) -> Option<(PathBuf, String)> = <Job as BackgroundCopyJob2>::get_notify_cmd_line;
    let _: fn(&Job, &BgAuthCredentials) -> Result<()> =
        <Job as BackgroundCopyJob2>::set_credentials;
    let _: fn(&Job, BgAuthTarget, BgAuthScheme) -> Result<BgSuccess> =
        <Job as BackgroundCopyJob2>::remove_credentials;
    let _: fn(&Job, &str, &str) -> Result<BgSuccess> =
        <Job as BackgroundCopyJob3>::replace_remote_prefix;
    let _: fn(&Job, &str, &Path, &[BgFileRange]) -> Result<()> =
        <Job as BackgroundCopyJob3>::add_file_with_ranges;
    let _: fn(&Job, BgPeerCaching) -> Result<()> =
        <Job as BackgroundCopyJob4>::set_peer_caching_flags;
    let _: fn(&Job) -> BgPeerCaching = <Job as BackgroundCopyJob4>::get_peer_caching_flags;
    let _: fn(&Job, Duration) -> Result<()> =
        <Job as BackgroundCopyJob4>::set_maximum_download_time;
    let _: fn(&Job) -> Duration = <Job as BackgroundCopyJob4>::get_maximum_download_time;
    let _: fn(&Job, &[(&str, &str)]) -> Result<()> =
        <Job as BackgroundCopyJobHttpOptions>::set_custom_headers;
    let _: fn(&Job) -> Result<Vec<(String, String)>> =
        <Job as BackgroundCopyJobHttpOptions>::get_custom_headers;
    let _: fn(&Job) -> Result<()> =
        <Job as BackgroundCopyJobHttpOptions>::make_custom_headers_write_only;
    let _: fn(&Job, BgHttpSecurity) -> Result<()> =
        <Job as BackgroundCopyJobHttpOptions>::set_security_flags;
    let _: fn(&Job) -> BgHttpSecurity = <Job as BackgroundCopyJobHttpOptions>::get_security_flags;
    let _: fn(&Job, &str) -> Result<()> = <Job as BackgroundCopyJobHttpOptions>::set_http_method;
    let _: fn(&Job) -> String = <Job as BackgroundCopyJobHttpOptions>::get_http_method;

    let _: fn(&JobFile) -> Vec<BgFileRange> = <JobFile as BackgroundCopyFile2>::get_file_ranges;
    let _: fn(&JobFile, &str) -> Result<()> = <JobFile as BackgroundCopyFile2>::set_remote_name;
    let _: fn(&JobFile) -> Option<PathBuf> = <JobFile as BackgroundCopyFile3>::get_temporary_name;
    let _: fn(&JobFile, bool) -> Result<()> =
        <JobFile as BackgroundCopyFile3>::set_validation_state;
    let _: fn(&JobFile) -> bool = <JobFile as BackgroundCopyFile3>::get_validation_state;
    let _: fn(&JobFile) -> bool = <JobFile as BackgroundCopyFile3>::is_downloaded_from_peer;
    let _: fn(&JobFile) -> (u64, u64) = <JobFile as BackgroundCopyFile4>::get_peer_download_stats;
    let _: fn(&JobFile, BgFilePropertyId) -> Result<BgFileProperty> =
        <JobFile as BackgroundCopyFile5>::get_property;
    let _: fn(&JobFile, &[&str]) -> Result<()> = JobFile::set_mirrors;
    let _: fn(&JobFile) -> Vec<String> = JobFile::get_mirrors;
    let _: fn(&JobFile) -> String = JobFile::current_source;
    let _: fn(ManagerBuilder, &str) -> ManagerBuilder = ManagerBuilder::cache_host;
    let _: fn(ManagerBuilder, Duration) -> ManagerBuilder = ManagerBuilder::cache_fallback_delay;

    // The data types: plain enums, flags like BgNotify, a plain struct built with a literal.
    plain::<BgAuthTarget>();
    plain::<BgAuthScheme>();
    plain::<BgFilePropertyId>();
    data::<BgFileProperty>();
    flags::<BgPeerCaching>();
    flags::<BgHttpSecurity>();
    let credentials = BgAuthCredentials {
        target: BgAuthTarget::Proxy,
        scheme: BgAuthScheme::Basic,
        user_name: String::new(),
        password: String::new(),
    };
    assert_eq!(credentials.clone(), credentials);
    let client = BgPeerCaching::from_bits(BgPeerCaching::ENABLE_CLIENT.bits());
    assert_eq!(client, Some(BgPeerCaching::ENABLE_CLIENT));
    let policy = BgHttpSecurity::REDIRECT_POLICY_DISALLOW | BgHttpSecurity::ENABLE_CRL_CHECK;
    assert!(policy.contains(BgHttpSecurity::REDIRECT_POLICY_DISALLOW));
    assert_eq!(BgSuccess::NoChange.hresult(), 0x1);
    assert_eq!([BgAuthTarget::Server as u32, BgAuthTarget::Proxy as u32], [1, 2]);
    let schemes = [
        BgAuthScheme::Basic,
        BgAuthScheme::Digest,
        BgAuthScheme::Ntlm,
        BgAuthScheme::Negotiate,
        BgAuthScheme::Passport,
    ];
    assert_eq!(schemes.map(|s| s as u32), [1, 2, 3, 4, 5]);
    let security = [
        BgHttpSecurity::ENABLE_CRL_CHECK,
        BgHttpSecurity::IGNORE_CERT_CN_INVALID,
        BgHttpSecurity::IGNORE_CERT_DATE_INVALID,
        BgHttpSecurity::IGNORE_UNKNOWN_CA,
        BgHttpSecurity::IGNORE_CERT_WRONG_USAGE,
        BgHttpSecurity::REDIRECT_POLICY_ALLOW_SILENT,
        BgHttpSecurity::REDIRECT_POLICY_ALLOW_REPORT,
        BgHttpSecurity::REDIRECT_POLICY_DISALLOW,
        BgHttpSecurity::REDIRECT_POLICY_MASK,
        BgHttpSecurity::ALLOW_HTTPS_TO_HTTP_REDIRECT,
    ];
    assert_eq!(
        security.map(|f| f.bits()),
        [0x1, 0x2, 0x4, 0x8, 0x10, 0, 0x100, 0x200, 0x700, 0x800]
    );
    let caching = [
        BgPeerCaching::ENABLE_CLIENT,
        BgPeerCaching::ENABLE_SERVER,
        BgPeerCaching::DISABLE_BRANCH_CACHE,
    ];
    assert_eq!(caching.map(|f| f.bits()), [0x1, 0x2, 0x4]);
}

#[test]
fn the_names_of_design_6_3_have_their_signatures_through_the_glob() {
    let _: fn(&Job, BgJobProperty) -> Result<()> = <Job as BackgroundCopyJob5>::set_property;
    let _: fn(&Job, BgJobPropertyId) -> Result<BgJobProperty> =
        <Job as BackgroundCopyJob5>::get_property;
    let _: fn(&JobFile, u64) -> Result<()> =
        <JobFile as BackgroundCopyFile6>::update_download_position;
    let _: fn(&JobFile, &[BgFileRange]) -> Result<()> =
        <JobFile as BackgroundCopyFile6>::request_file_ranges;
    let _: fn(&JobFile) -> Vec<BgFileRange> =
        <JobFile as BackgroundCopyFile6>::get_filled_file_ranges;
    let _: fn(&JobFile) -> Result<FileReader> = JobFile::open_reader;
    fn reader<T: std::io::Read + std::io::Seek + Send>() {}
    reader::<FileReader>();
    plain::<BgFileRange>();
    plain::<BgJobPropertyId>();
    data::<BgJobProperty>();
    let range = BgFileRange { initial_offset: 0, length: BG_LENGTH_TO_EOF };
    assert_eq!(range.length, u64::MAX);
    let ids = [
        BgJobPropertyId::CostFlags,
        BgJobPropertyId::NotificationClsid,
        BgJobPropertyId::DynamicContent,
        BgJobPropertyId::HighPerformance,
        BgJobPropertyId::MaxDownloadSize,
        BgJobPropertyId::UseStoredCredentials,
        BgJobPropertyId::MinimumNotificationIntervalMs,
        BgJobPropertyId::OnDemandMode,
    ];
    assert_eq!(ids.map(|id| id as u32), [1, 2, 3, 4, 5, 7, 9, 10]);
    let values = [
        BgJobProperty::CostFlags(0),
        BgJobProperty::DynamicContent(false),
        BgJobProperty::HighPerformance(false),
        BgJobProperty::MaxDownloadSize(0),
        BgJobProperty::MinimumNotificationIntervalMs(500),
        BgJobProperty::OnDemandMode(false),
    ];
    assert_eq!(values.map(|v| v.id() as u32), [1, 3, 4, 5, 9, 10]);
}
