//! Running the built `flowkeeper` binary with a deadline, for the CLI tests that need no
//! emulator (included with `#[path = "support/run.rs"] mod run;`; `support/mod.rs` starts
//! moto and is not for them).

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

/// Runs the binary with a deadline: a run that hangs (reading a FIFO, say) is killed and
/// reported instead of hanging the test suite.
pub fn flowkeeper_within(dir: &Path, args: &[&str], stdin: Stdio, secs: u64) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_flowkeeper"))
        .args(args)
        .current_dir(dir)
        .env_clear()
        .stdin(stdin)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(secs);
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            child.kill().unwrap();
            let out = child.wait_with_output().unwrap();
            panic!(
                "flowkeeper {args:?} still running after {secs}s; stderr: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.wait_with_output().unwrap()
}
