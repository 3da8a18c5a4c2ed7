//! A flowkeeper process the test watches while it runs: its stderr line by line (to wait for
//! a message before acting), signals, and an exit awaited with a deadline (past it the process
//! is killed and the test fails with what it printed).

use std::io::{BufRead, BufReader, Read};
use std::process::{Command, ExitStatus, Output, Stdio};
use std::sync::mpsc::{Receiver, channel};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

pub struct Running {
    pid: u32,
    stderr_lines: Receiver<String>,
    stderr_all: Arc<Mutex<String>>,
    stdout: JoinHandle<Vec<u8>>,
    stderr: JoinHandle<()>,
    status: Receiver<std::io::Result<ExitStatus>>,
}

impl Running {
    pub fn spawn(mut cmd: Command) -> Running {
        let mut child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start flowkeeper");
        let pid = child.id();
        let mut out = child.stdout.take().expect("piped stdout");
        let err = child.stderr.take().expect("piped stderr");
        let stdout = std::thread::spawn(move || {
            let mut v = Vec::new();
            let _ = out.read_to_end(&mut v);
            v
        });
        let (tx, stderr_lines) = channel();
        let stderr_all = Arc::new(Mutex::new(String::new()));
        let all = stderr_all.clone();
        let stderr = std::thread::spawn(move || {
            for line in BufReader::new(err).lines() {
                let Ok(line) = line else { break };
                all.lock().unwrap().push_str(&format!("{line}\n"));
                let _ = tx.send(line);
            }
        });
        let (stx, status) = channel();
        std::thread::spawn(move || {
            let _ = stx.send(child.wait());
        });
        Running {
            pid,
            stderr_lines,
            stderr_all,
            stdout,
            stderr,
            status,
        }
    }

    /// Waits until a stderr line contains `needle`; panics (showing stderr) after `deadline`.
    pub fn wait_for_stderr(&self, needle: &str, deadline: Duration) {
        let end = Instant::now() + deadline;
        loop {
            let left = end.saturating_duration_since(Instant::now());
            match self.stderr_lines.recv_timeout(left) {
                Ok(line) if line.contains(needle) => return,
                Ok(_) => {}
                Err(_) => panic!(
                    "flowkeeper did not print {needle:?} within {deadline:?}; stderr so far:\n{}",
                    self.stderr_all.lock().unwrap()
                ),
            }
        }
    }

    /// Sends `signal` (a name `kill -s` knows: INT, KILL).
    pub fn signal(&self, signal: &str) {
        let ok = Command::new("kill")
            .args(["-s", signal, &self.pid.to_string()])
            .status()
            .expect("run kill")
            .success();
        assert!(ok, "kill -s {signal} {} failed", self.pid);
    }

    /// Waits for the exit; past `deadline` kills the process and panics with its output.
    pub fn finish(self, deadline: Duration) -> Output {
        let status = match self.status.recv_timeout(deadline) {
            Ok(s) => s.expect("wait for flowkeeper"),
            Err(_) => {
                self.signal("KILL");
                let _ = self.status.recv_timeout(Duration::from_secs(10));
                let _ = self.stderr.join();
                panic!(
                    "flowkeeper did not finish within {deadline:?}; killed. stderr:\n{}",
                    self.stderr_all.lock().unwrap()
                );
            }
        };
        let stdout = self.stdout.join().unwrap_or_default();
        let _ = self.stderr.join();
        let stderr = self.stderr_all.lock().unwrap().clone().into_bytes();
        Output {
            status,
            stdout,
            stderr,
        }
    }
}
