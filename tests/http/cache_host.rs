//! A cache host against a real HTTP cache (DESIGN 6.2): the second nginx of `.ci/nginx.sh`, which
//! fetches `http://<cacheHostOrigin>/<path>` in 1 MiB slices, keeps them, and lets one request
//! per slice reach the origin. Several managers stand for several machines on one LAN; the
//! origin's access log says how many bytes the origin really sent. Runs when `BGCOPY_NGINX_URL`
//! and `BGCOPY_NGINX_CACHE_URL` are set (CI sets both); otherwise each test prints a skip line.

use bgcopy::*;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The origin's and the cache's `host:port`, and nginx's directory.
struct Nginx {
    origin: String,
    cache: String,
    dir: PathBuf,
}

fn nginx(test: &str) -> Option<Nginx> {
    let host = |var: &str| {
        let url = std::env::var(var).ok()?;
        let url = url.trim().trim_end_matches('/');
        Some(url.strip_prefix("http://")?.to_owned()).filter(|h| !h.is_empty())
    };
    match (host("BGCOPY_NGINX_URL"), host("BGCOPY_NGINX_CACHE_URL")) {
        (Some(origin), Some(cache)) => {
            let dir = std::env::var_os("BGCOPY_NGINX_DIR")
                .map_or_else(|| PathBuf::from("/tmp/bgcopy-nginx"), PathBuf::from);
            Some(Nginx { origin, cache, dir })
        }
        _ => {
            println!("skipped {test}: BGCOPY_NGINX_URL or BGCOPY_NGINX_CACHE_URL is not set");
            None
        }
    }
}

impl Nginx {
    /// A new file of `len` random bytes that neither server has seen (so the cache is cold):
    /// its URL path and content.
    fn fresh_file(&self, test: &str, len: usize) -> (String, Vec<u8>) {
        let nanos =
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos();
        let name = format!("cache-{test}-{}-{nanos}.bin", std::process::id());
        let mut state = nanos as u64 | 1;
        let content: Vec<u8> = (0..len)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                state as u8
            })
            .collect();
        let path = self.dir.join("www").join(&name);
        std::fs::write(&path, &content).unwrap();
        (format!("/{name}"), content)
    }

    /// The cache's log lines for `path` (any query).
    fn cache_lines(&self, path: &str) -> Vec<String> {
        let log = std::fs::read_to_string(self.dir.join("logs/cache.log")).unwrap_or_default();
        log.lines()
            .filter(|line| {
                let uri = line.split_whitespace().nth(2).unwrap_or("");
                uri.split('?').next() == Some(path)
            })
            .map(str::to_owned)
            .collect()
    }

    /// The body bytes the origin sent for `path`, from its access log (`$request_uri $status
    /// $body_bytes_sent` are fields 3 to 5).
    fn origin_bytes(&self, path: &str) -> u64 {
        let log = std::fs::read_to_string(self.dir.join("logs/origin.log")).unwrap_or_default();
        log.lines()
            .filter_map(|line| {
                let fields: Vec<&str> = line.split_whitespace().collect();
                let uri = fields.get(2)?.split('?').next()?;
                (uri == path).then(|| fields.get(4)?.parse::<u64>().ok()).flatten()
            })
            .sum()
    }
}

fn manager(cache_host: &str) -> Manager {
    Manager::builder().cache_host(cache_host).build()
}

/// A job of `manager` that downloads `url` into `dir`, resumed.
fn download(manager: &Manager, url: &str, dir: &Path) -> Job {
    let job = manager.create_job("cache host", BgJobType::Download).unwrap();
    job.set_proxy_settings(BgJobProxyUsage::NoProxy, None, None).unwrap();
    job.add_file(url, &dir.join("file.bin")).unwrap();
    job.resume().unwrap();
    job
}

fn settle(job: &Job) -> BgJobState {
    job.wait_until(Duration::from_secs(300), |s| {
        matches!(s, BgJobState::Transferred | BgJobState::Error | BgJobState::Suspended)
    })
}

#[test]
fn machines_behind_one_cache_host_fetch_each_byte_from_the_origin_about_once() {
    let Some(nginx) = nginx("machines_behind_one_cache_host") else { return };
    const MACHINES: usize = 4;
    let len = 16 << 20;
    let (path, content) = nginx.fresh_file("machines", len);
    let url = format!("http://{}{path}", nginx.origin);
    let stats: Vec<(u64, u64)> = std::thread::scope(|scope| {
        let machines: Vec<_> = (0..MACHINES)
            .map(|_| {
                scope.spawn(|| {
                    let dir = tempfile::tempdir().unwrap();
                    let job = download(&manager(&nginx.cache), &url, dir.path());
                    assert_eq!(settle(&job), BgJobState::Transferred, "{:?}", job.get_error());
                    let file = job.enum_files().remove(0);
                    assert!(file.is_downloaded_from_peer());
                    let stats = file.get_peer_download_stats();
                    job.complete().unwrap();
                    assert!(std::fs::read(dir.path().join("file.bin")).unwrap() == content);
                    stats
                })
            })
            .collect();
        machines.into_iter().map(|m| m.join().unwrap()).collect()
    });
    for (origin, peers) in &stats {
        assert_eq!(origin + peers, len as u64, "{stats:?}");
        assert_eq!(*peers, len as u64, "every byte came through the cache: {stats:?}");
    }
    let served = nginx.origin_bytes(&path);
    assert!(served >= len as u64, "the origin served the file at least once: {served}");
    assert!(served * 10 <= len as u64 * 11, "the origin served {served} bytes of {len}");
}

#[test]
fn a_cache_host_that_is_down_leaves_the_download_to_the_origin() {
    let Some(nginx) = nginx("a_cache_host_that_is_down") else { return };
    let (path, content) = nginx.fresh_file("down", 1 << 20);
    let url = format!("http://{}{path}", nginx.origin);
    let dir = tempfile::tempdir().unwrap();
    // Port 9 (discard) on loopback: nothing listens, so the connection is refused.
    let job = download(&manager("127.0.0.1:9"), &url, dir.path());
    assert_eq!(settle(&job), BgJobState::Transferred, "{:?}", job.get_error());
    let file = job.enum_files().remove(0);
    assert!(!file.is_downloaded_from_peer());
    assert_eq!(file.get_peer_download_stats(), (content.len() as u64, 0));
    job.complete().unwrap();
    assert!(std::fs::read(dir.path().join("file.bin")).unwrap() == content);
    assert_eq!(nginx.origin_bytes(&path), content.len() as u64);
}

#[test]
fn a_file_from_the_cache_found_invalid_is_fetched_again_from_the_origin() {
    let Some(nginx) = nginx("a_file_from_the_cache_found_invalid") else { return };
    let (path, content) = nginx.fresh_file("invalid", 2 << 20);
    let url = format!("http://{}{path}", nginx.origin);
    let dir = tempfile::tempdir().unwrap();
    let job = download(&manager(&nginx.cache), &url, dir.path());
    assert_eq!(settle(&job), BgJobState::Transferred, "{:?}", job.get_error());
    let file = job.enum_files().remove(0);
    assert_eq!(file.get_peer_download_stats(), (0, content.len() as u64));
    let before = nginx.origin_bytes(&path);
    file.set_validation_state(false).unwrap();
    assert_eq!(settle(&job), BgJobState::Transferred, "{:?}", job.get_error());
    assert_eq!(file.get_peer_download_stats().0, content.len() as u64);
    assert_eq!(nginx.origin_bytes(&path) - before, content.len() as u64);
    job.complete().unwrap();
    assert!(std::fs::read(dir.path().join("file.bin")).unwrap() == content);
}

#[test]
fn a_cache_host_that_answered_5xx_is_skipped_by_the_next_request() {
    let Some(nginx) = nginx("a_cache_host_that_answered_5xx") else { return };
    let manager = manager(&nginx.cache);
    let dir = tempfile::tempdir().unwrap();
    // An origin where nothing listens: the cache answers 502 for it, which bans the cache host
    // (of this manager), and the origin then refuses the connection (a transient error).
    let dead_dir = tempfile::tempdir().unwrap();
    let dead = download(&manager, "http://127.0.0.1:9/dead.bin", dead_dir.path());
    let state = dead.wait_until(Duration::from_secs(300), |s| {
        matches!(s, BgJobState::TransientError | BgJobState::Error)
    });
    assert_eq!(state, BgJobState::TransientError, "{:?}", dead.get_error());
    dead.cancel().unwrap();
    assert!(nginx.cache_lines("/dead.bin").iter().any(|l| l.contains(" 502 ")));

    let (path, content) = nginx.fresh_file("banned", 1 << 20);
    let url = format!("http://{}{path}", nginx.origin);
    let job = download(&manager, &url, dir.path());
    assert_eq!(settle(&job), BgJobState::Transferred, "{:?}", job.get_error());
    let file = job.enum_files().remove(0);
    assert!(!file.is_downloaded_from_peer());
    assert_eq!(file.get_peer_download_stats(), (content.len() as u64, 0));
    job.complete().unwrap();
    assert!(std::fs::read(dir.path().join("file.bin")).unwrap() == content);
    assert!(nginx.cache_lines(&path).is_empty(), "the banned cache host was not asked");
    assert_eq!(nginx.origin_bytes(&path), content.len() as u64);
}

#[test]
fn stale_bytes_in_the_cache_that_fail_the_expected_sha256_are_fetched_from_the_origin() {
    use sha2::{Digest, Sha256};
    let Some(nginx) = nginx("stale_bytes_in_the_cache") else { return };
    let (path, old) = nginx.fresh_file("stale", 2 << 20);
    let url = format!("http://{}{path}", nginx.origin);
    // A first machine fills the cache with the content of then.
    let first = tempfile::tempdir().unwrap();
    let job = download(&manager(&nginx.cache), &url, first.path());
    assert_eq!(settle(&job), BgJobState::Transferred, "{:?}", job.get_error());
    job.complete().unwrap();
    assert_eq!(nginx.origin_bytes(&path), old.len() as u64);
    // The origin's file changes under the same name; the cache keeps the old bytes for a day.
    let new: Vec<u8> = old.iter().map(|b| b ^ 0x5A).collect();
    std::fs::write(nginx.dir.join("www").join(&path[1..]), &new).unwrap();

    let dir = tempfile::tempdir().unwrap();
    let manager = manager(&nginx.cache);
    let job = manager.create_job("stale cache", BgJobType::Download).unwrap();
    job.set_proxy_settings(BgJobProxyUsage::NoProxy, None, None).unwrap();
    job.add_file(&url, &dir.path().join("file.bin")).unwrap();
    let file = job.enum_files().remove(0);
    file.set_expected_sha256(Some(Sha256::digest(&new).into())).unwrap();
    job.resume().unwrap();
    assert_eq!(settle(&job), BgJobState::Transferred, "{:?}", job.get_error());
    assert!(nginx.cache_lines(&path).iter().any(|l| l.ends_with(" HIT")), "the cache served");
    assert_eq!(file.get_peer_download_stats(), (new.len() as u64, 0));
    assert_eq!(nginx.origin_bytes(&path), (old.len() + new.len()) as u64);
    job.complete().unwrap();
    assert!(std::fs::read(dir.path().join("file.bin")).unwrap() == new);
}
