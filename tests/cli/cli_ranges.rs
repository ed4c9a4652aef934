//! The command line of DESIGN 6.3 with the real binary: `addfilewithranges` (bitsadmin's
//! `offset:length` list, `eof`), `getfilledranges`, and `cat` on an on-demand job.

use crate::cli_support::{Cli, content, read, server};
use bgcopy::hresult;

#[test]
fn addfilewithranges_downloads_the_ranges_back_to_back_and_getfilledranges_shows_them() {
    let cli = Cli::new();
    let data = content(100_000, 7);
    let server = server(data.clone(), None);
    let id = cli.create("ranges");
    let url = server.url("/file");
    cli.run(&["addfilewithranges", &id, &url, "part.bin", "90000:eof,10:20"]).expect(0);
    cli.run(&["resume", &id, "--wait"]).expect(0);
    let filled = cli.run(&["getfilledranges", &id]).expect(0);
    assert_eq!(filled.stdout, "0 0:10020\n", "a ranged file's local bytes");
    cli.run(&["complete", &id]).expect(0);
    let mut expected = data[90_000..].to_vec();
    expected.extend_from_slice(&data[10..30]);
    assert_eq!(read(&cli.path("part.bin")), expected);
}

#[test]
fn addfilewithranges_refuses_bad_lists_and_overlapping_ranges() {
    let cli = Cli::new();
    let id = cli.create("refused");
    let url = "https://example.com/f";
    let usage = cli.run(&["addfilewithranges", &id, url, "a.bin", "10-20"]).expect(2);
    assert!(usage.stderr.contains("offset:length"), "{}", usage.stderr);
    let refused = cli.run(&["addfilewithranges", &id, url, "a.bin", "0:10,5:10"]).expect(1);
    let code = format!("{:#010X}", hresult::BG_E_OVERLAPPING_RANGES);
    assert!(refused.stderr.to_uppercase().contains(&code[2..]), "{}", refused.stderr);
}

#[test]
fn cat_streams_a_file_of_an_on_demand_job_to_stdout() {
    let cli = Cli::new();
    let data = content(3 * 1024 * 1024 + 5, 9);
    let server = server(data.clone(), None);
    let id = cli.run(&["create", "stream", "--on-demand"]).expect(0).stdout.trim().to_owned();
    cli.run(&["addfile", &id, &server.url("/file"), "stream.bin"]).expect(0);
    let output = cli.command(&["cat", &id]).output().expect("run bgcopy cat");
    assert_eq!(output.status.code(), Some(0), "{}", String::from_utf8_lossy(&output.stderr));
    assert!(output.stdout == data, "cat printed {} bytes, not the file", output.stdout.len());
    let filled = cli.run(&["getfilledranges", &id]).expect(0);
    assert_eq!(filled.stdout, format!("0 0:{}\n", data.len()));
    // A job that is not on demand cannot be read while it downloads.
    let plain = cli.create("plain");
    cli.run(&["addfile", &plain, &server.url("/file"), "plain.bin"]).expect(0);
    cli.run(&["cat", &plain]).expect(1);
}
