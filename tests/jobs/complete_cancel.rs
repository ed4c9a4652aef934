//! Files on disk, `complete()` and `cancel()` (spec section 3.6; DESIGN section 1 "Files on
//! disk"): temporary files next to the destination, owner-only and never through a symlink;
//! nothing visible before `complete()`; complete renames, cancel deletes, neither touches what
//! it must not.

use crate::support;

use bgcopy::transport::TransferSink;
use bgcopy::*;
use std::fs;
use std::path::{Path, PathBuf};
use support::*;

/// The names in `dir`, sorted.
fn listing(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// The temporary file names of `job`'s files (`None` where none exists).
fn temp_names(job: &Job) -> Vec<Option<PathBuf>> {
    job.enum_files().iter().map(JobFile::get_temporary_name).collect()
}

fn completed_flags(job: &Job) -> Vec<bool> {
    job.enum_files().iter().map(|f| f.get_progress().completed).collect()
}

/// A job with `count` files, resumed and claimed: file 0 fully written and finished, file 1 (if
/// any) half written, the others untouched.
fn partly_transferred(fx: &Fixture, count: usize) -> (Job, JobDriver) {
    let job = fx.job_with_files(count);
    job.resume().unwrap();
    let driver = claim_connected(&job);
    transfer_file(&driver, 0, &content(0));
    if count > 1 {
        let mut transfer = driver.open_file(1).unwrap();
        let data = content(1);
        transfer.set_size(Some(data.len() as u64)).unwrap();
        transfer.write(&data[..data.len() / 2]).unwrap();
    }
    (job, driver)
}

#[test]
fn complete_renames_every_transferred_file_into_place() {
    let fx = Fixture::new();
    let job = fx.job_with_files(3);
    run_to_transferred(&job);
    let temps: Vec<PathBuf> = temp_names(&job).into_iter().map(Option::unwrap).collect();
    for temp in &temps {
        assert!(temp.exists(), "{temp:?}");
    }
    assert_eq!(job.complete().unwrap(), BgSuccess::Ok);
    assert_eq!(job.get_state(), BgJobState::Acknowledged);
    for (index, temp) in temps.iter().enumerate() {
        assert_eq!(fs::read(fx.local(index)).unwrap(), content(index), "file {index}");
        assert!(!temp.exists(), "temporary file {index} is gone");
    }
    assert_eq!(temp_names(&job), vec![None, None, None]);
    assert_eq!(completed_flags(&job), vec![true, true, true]);
    assert_eq!(listing(fx.dir.path()), ["file-0.bin", "file-1.bin", "file-2.bin"]);
}

#[test]
fn files_are_invisible_at_their_local_name_until_complete() {
    let fx = Fixture::new();
    let job = fx.job_with_files(1);
    job.resume().unwrap();
    let driver = claim_connected(&job);
    let mut transfer = driver.open_file(0).unwrap();
    assert!(!fx.local(0).exists(), "after open_file");
    transfer.set_size(Some(6)).unwrap();
    transfer.write(b"abc").unwrap();
    assert!(!fx.local(0).exists(), "after a write");
    transfer.write(b"def").unwrap();
    transfer.finish().unwrap();
    assert!(!fx.local(0).exists(), "after the file finished");
    driver.finish().unwrap();
    assert!(!fx.local(0).exists(), "in Transferred");
    assert!(!job.enum_files()[0].get_progress().completed);
    job.complete().unwrap();
    assert_eq!(fs::read(fx.local(0)).unwrap(), b"abcdef");
}

#[test]
fn partial_complete_keeps_only_transferred_files_and_deletes_the_other_temporary_files() {
    let fx = Fixture::new();
    let (job, driver) = partly_transferred(&fx, 3);
    let temps = temp_names(&job);
    let partial = temps[1].clone().expect("file 1 has a temporary file");
    assert!(temps[2].is_none(), "file 2 was never opened");
    drop(driver);
    assert_eq!(job.complete().unwrap(), BgSuccess::PartialComplete);
    assert_eq!(job.get_state(), BgJobState::Acknowledged);
    assert_eq!(fs::read(fx.local(0)).unwrap(), content(0));
    assert!(!fx.local(1).exists());
    assert!(!fx.local(2).exists());
    assert!(!partial.exists(), "the partial temporary file is deleted");
    assert_eq!(completed_flags(&job), vec![true, false, false]);
    assert_eq!(listing(fx.dir.path()), ["file-0.bin"]);
}

#[test]
fn complete_while_transferring_keeps_the_finished_files_and_stops_the_driver() {
    let fx = Fixture::new();
    let (job, driver) = partly_transferred(&fx, 2);
    assert_eq!(job.complete().unwrap(), BgSuccess::PartialComplete);
    assert!(!driver.is_live());
    assert_eq!(listing(fx.dir.path()), ["file-0.bin"]);
}

#[test]
fn cancel_deletes_every_temporary_file_and_returns_ok() {
    let fx = Fixture::new();
    let (job, driver) = partly_transferred(&fx, 3);
    let temps: Vec<PathBuf> = temp_names(&job).into_iter().flatten().collect();
    assert_eq!(temps.len(), 2);
    assert_eq!(job.cancel().unwrap(), BgSuccess::Ok);
    assert!(!driver.is_live());
    assert_eq!(job.get_state(), BgJobState::Cancelled);
    for temp in temps {
        assert!(!temp.exists(), "{temp:?}");
    }
    assert!(listing(fx.dir.path()).is_empty());
    assert_eq!(completed_flags(&job), vec![false, false, false]);
}

#[test]
fn cancel_of_a_transferred_job_deletes_its_finished_temporary_files() {
    let fx = Fixture::new();
    let job = fx.job_with_files(2);
    run_to_transferred(&job);
    assert_eq!(job.cancel().unwrap(), BgSuccess::Ok);
    assert!(listing(fx.dir.path()).is_empty());
}

#[test]
fn cancel_never_touches_a_destination_that_existed_before() {
    let fx = Fixture::new();
    fs::write(fx.local(0), b"original 0").unwrap();
    fs::write(fx.local(1), b"original 1").unwrap();
    let (job, driver) = partly_transferred(&fx, 2);
    drop(driver);
    assert_eq!(job.cancel().unwrap(), BgSuccess::Ok);
    assert_eq!(fs::read(fx.local(0)).unwrap(), b"original 0");
    assert_eq!(fs::read(fx.local(1)).unwrap(), b"original 1");
    assert_eq!(listing(fx.dir.path()), ["file-0.bin", "file-1.bin"]);
}

#[test]
fn a_destination_that_existed_before_is_untouched_until_complete_replaces_it() {
    let fx = Fixture::new();
    fs::write(fx.local(0), b"original").unwrap();
    let job = fx.job_with_files(1);
    run_to_transferred(&job);
    assert_eq!(fs::read(fx.local(0)).unwrap(), b"original");
    job.complete().unwrap();
    assert_eq!(fs::read(fx.local(0)).unwrap(), content(0));
}

#[test]
fn temporary_files_are_created_in_the_destination_directory() {
    let fx = Fixture::new();
    let job = fx.job();
    fs::create_dir(fx.path("sub")).unwrap();
    job.add_file(&remote(0), &fx.path("sub/deep.bin")).unwrap();
    fx.add(&job, 1);
    job.resume().unwrap();
    let driver = claim_connected(&job);
    for (index, dir) in [(0, fx.path("sub")), (1, fx.dir.path().to_owned())] {
        let transfer = driver.open_file(index).unwrap();
        let temp = transfer.temp_path().to_owned();
        assert_eq!(temp.parent(), Some(dir.as_path()), "file {index}");
        assert!(temp.is_file());
        assert_eq!(job.enum_files()[index].get_temporary_name(), Some(temp.clone()));
        assert_ne!(temp, job.enum_files()[index].get_local_name());
    }
}

#[cfg(unix)]
#[test]
fn temporary_files_are_owner_only() {
    use std::os::unix::fs::PermissionsExt;
    let fx = Fixture::new();
    let job = fx.job_with_files(1);
    job.resume().unwrap();
    let driver = claim_connected(&job);
    let transfer = driver.open_file(0).unwrap();
    let mode = fs::metadata(transfer.temp_path()).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600, "{mode:o}");
}

/// The temporary name the crate would pick for file `index` of the job whose file 0 got `first`
/// (files named by `Fixture::local`): the same pattern with the other file name and index.
#[cfg(unix)]
fn sibling_temp_name(first: &Path, index: usize) -> PathBuf {
    let name = first.file_name().unwrap().to_str().unwrap();
    let name = name.replacen("file-0.bin", &format!("file-{index}.bin"), 1);
    let at = name.rfind("-0").expect("the file index in the temporary name");
    first.with_file_name(format!("{}-{index}{}", &name[..at], &name[at + 2..]))
}

#[cfg(unix)]
#[test]
fn a_symlink_planted_at_the_temporary_name_is_not_followed() {
    use std::os::unix::fs::symlink;
    let fx = Fixture::new();
    let target = fx.path("target.txt");
    fs::write(&target, b"secret").unwrap();
    let dangling = fx.path("does-not-exist.txt");
    let job = fx.job_with_files(4);
    job.resume().unwrap();
    let driver = claim_connected(&job);
    let first = driver.open_file(0).unwrap().temp_path().to_owned();
    let second = driver.open_file(1).unwrap().temp_path().to_owned();
    assert_eq!(sibling_temp_name(&first, 1), second, "the temporary name pattern changed");
    // Plant symlinks where files 2 and 3 would put their temporary files.
    let planted =
        [(2, sibling_temp_name(&first, 2), &target), (3, sibling_temp_name(&first, 3), &dangling)];
    for (_, at, to) in &planted {
        symlink(to, at).unwrap();
    }
    for (index, at, _) in &planted {
        let mut transfer = driver.open_file(*index).expect("another name is used");
        assert_ne!(transfer.temp_path(), at.as_path());
        transfer.set_size(Some(4)).unwrap();
        transfer.write(b"evil").unwrap();
        transfer.finish().unwrap();
    }
    transfer_remaining(&driver);
    driver.finish().unwrap();
    job.complete().unwrap();
    assert_eq!(fs::read(&target).unwrap(), b"secret");
    assert!(!dangling.exists(), "nothing was created through the dangling symlink");
    assert_eq!(fs::read(fx.local(2)).unwrap(), b"evil");
    for (_, at, _) in &planted {
        assert!(fs::symlink_metadata(at).unwrap().file_type().is_symlink());
    }
}

#[cfg(unix)]
#[test]
fn a_symlink_swapped_in_for_a_temporary_file_is_not_followed_on_resume() {
    use std::os::unix::fs::symlink;
    let fx = Fixture::new();
    let target = fx.path("target.txt");
    fs::write(&target, b"secret").unwrap();
    let job = fx.job_with_files(1);
    job.resume().unwrap();
    let driver = claim_connected(&job);
    let mut transfer = driver.open_file(0).unwrap();
    transfer.set_size(Some(6)).unwrap();
    transfer.write(b"abc").unwrap();
    let temp = transfer.temp_path().to_owned();
    drop(transfer);
    driver.release().unwrap();
    fs::remove_file(&temp).unwrap();
    symlink(&target, &temp).unwrap();
    let driver = claim_connected(&job);
    match driver.open_file(0) {
        Ok(mut transfer) => {
            assert_ne!(transfer.temp_path(), temp.as_path());
            transfer.write(b"def").unwrap();
        }
        Err(err) => assert_eq!(err.context(), BgErrorContext::LocalFile, "{err:?}"),
    }
    assert_eq!(fs::read(&target).unwrap(), b"secret");
}

#[test]
fn complete_with_a_vanished_destination_directory_is_io_error_and_the_job_stays() {
    let fx = Fixture::new();
    let job = fx.job();
    fs::create_dir(fx.path("kept")).unwrap();
    fs::create_dir(fx.path("gone")).unwrap();
    job.add_file(&remote(0), &fx.path("kept/a.bin")).unwrap();
    job.add_file(&remote(1), &fx.path("gone/b.bin")).unwrap();
    run_to_transferred(&job);
    fs::remove_dir_all(fx.path("gone")).unwrap();
    let err = job.complete().unwrap_err();
    assert!(matches!(err, BgError::Io { .. }), "{err:?}");
    assert_eq!(err.hresult(), 0x8007_0002, "the file is not found");
    assert_eq!(job.get_state(), BgJobState::Transferred, "the job stays");
    assert!(fx.manager.get_job(job.get_id()).is_ok());
    assert_eq!(fx.manager.enum_jobs().len(), 1);
    // The file that could be renamed is available, and says so.
    assert_eq!(fs::read(fx.path("kept/a.bin")).unwrap(), content(0));
    assert_eq!(completed_flags(&job), vec![true, false]);
    // A second try fails the same way and leaves the renamed file alone.
    assert!(matches!(job.complete(), Err(BgError::Io { .. })));
    assert_eq!(fs::read(fx.path("kept/a.bin")).unwrap(), content(0));
    // Cancel ends it; the completed file stays.
    job.cancel().unwrap();
    assert_eq!(job.get_state(), BgJobState::Cancelled);
    assert_eq!(fs::read(fx.path("kept/a.bin")).unwrap(), content(0));
}

#[test]
fn a_failed_complete_outside_transferred_leaves_the_job_suspended() {
    let fx = Fixture::new();
    let job = fx.job();
    fs::create_dir(fx.path("gone")).unwrap();
    job.add_file(&remote(0), &fx.path("gone/a.bin")).unwrap();
    fx.add(&job, 1);
    job.resume().unwrap();
    let driver = claim_connected(&job);
    transfer_file(&driver, 0, b"zero");
    driver.fail(fatal(hresult::E_ACCESSDENIED), Some(1)).unwrap();
    fs::remove_dir_all(fx.path("gone")).unwrap();
    assert!(matches!(job.complete(), Err(BgError::Io { .. })));
    assert_eq!(job.get_state(), BgJobState::Suspended);
    assert_eq!(job.cancel().unwrap(), BgSuccess::Ok);
}
