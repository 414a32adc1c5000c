//! `fake-upstream`: the FAKE OpenAI-compatible server of `anquan-testkit` as a process, for
//! benchmark scripts that compare anquan's runner overhead with a peer's on the same server
//! (benchsuite/). Prints `{"event":"listening","url":…}` and serves until killed.
//!
//! Usage: fake-upstream [--delay-ms N]

use std::io::Write;
use std::time::Duration;

fn main() -> std::process::ExitCode {
    let mut args = std::env::args().skip(1);
    let mut delay = 0u64;
    while let Some(a) = args.next() {
        match a.as_str() {
            "--delay-ms" => delay = args.next().and_then(|v| v.parse().ok()).unwrap_or(0),
            _ => {
                let _ = writeln!(std::io::stderr(), "usage: fake-upstream [--delay-ms N]");
                return std::process::ExitCode::from(2);
            }
        }
    }
    let fake = match anquan_testkit::FakeUpstream::start() {
        Ok(f) => f,
        Err(e) => {
            let _ = writeln!(std::io::stderr(), "fake-upstream: {e}");
            return std::process::ExitCode::from(1);
        }
    };
    fake.set_delay(Duration::from_millis(delay));
    let url = fake.base_url();
    let _ = writeln!(
        std::io::stdout(),
        "{{\"event\":\"listening\",\"url\":\"{}\",\"model\":\"fake\"}}",
        url.trim_end_matches("/v1")
    );
    let _ = std::io::stdout().flush();
    loop {
        std::thread::sleep(Duration::from_secs(3600));
    }
}
