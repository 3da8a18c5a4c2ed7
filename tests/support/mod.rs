//! Test harness: one moto server per test binary (started through `moto_launcher.py`, which
//! corrects moto toward AWS's documented behaviour), one fresh AWS account per test reached
//! through STS AssumeRole (moto keeps accounts apart), SDK clients for seeding and checking,
//! and a runner for the real `flowkeeper` binary.

#![allow(dead_code)]

pub mod deliver;
pub mod fault_proxy;
pub mod running;
pub mod verify;

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Output, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock, mpsc};
use std::time::Duration;

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_sts::config::Credentials;

/// How long moto may take to start.
const STARTUP_DEADLINE: Duration = Duration::from_secs(90);

pub struct Moto {
    pub endpoint: String,
    /// Held open for the life of the test process: the launcher exits when it closes.
    _stdin: Mutex<ChildStdin>,
    _child: Mutex<Child>,
}

static MOTO: OnceLock<Moto> = OnceLock::new();
/// Which FlowLogAlreadyExists rule this test binary's server follows (set before first use).
static FLOW_LOG_CONFLICTS: OnceLock<FlowLogConflicts> = OnceLock::new();

/// moto's FlowLogAlreadyExists rule. `Corrected` is the launcher's correction (c), an
/// assumption about AWS; `Stock` is moto's own rule. Code that replaces flow logs must be safe
/// under both, so a test binary may ask for `Stock` before it first uses the server.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FlowLogConflicts {
    Corrected,
    Stock,
}

/// Makes this test binary's moto server follow `mode`; panics if the server already runs with
/// the other one (every test of a binary must ask for the same mode).
pub fn use_flow_log_conflicts(mode: FlowLogConflicts) {
    let got = *FLOW_LOG_CONFLICTS.get_or_init(|| mode);
    assert_eq!(
        got, mode,
        "every test of this binary must use the same moto mode"
    );
}
static NEXT_ACCOUNT: AtomicU64 = AtomicU64::new(1);

fn launcher() -> PathBuf {
    std::path::PathBuf::from(
        std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or_else(|| env!("CARGO_MANIFEST_DIR").into()),
    )
    .join("tests/support/moto_launcher.py")
}

/// The shared moto server, started on first use on a free loopback port.
pub fn moto() -> &'static Moto {
    MOTO.get_or_init(|| {
        let python = std::env::var("FLOWKEEPER_PYTHON").unwrap_or_else(|_| "python3".into());
        let stock = *FLOW_LOG_CONFLICTS.get_or_init(|| FlowLogConflicts::Corrected)
            == FlowLogConflicts::Stock;
        let mut child = Command::new(&python)
            .arg(launcher())
            .args(["--host", "127.0.0.1", "--port", "0"])
            .args(stock.then_some("--stock-flow-log-conflicts"))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run {python}: {e}; install Python 3 and `pip install 'moto[server]'`"));
        let stdout = child.stdout.take().expect("piped stdout");
        let mut stderr = child.stderr.take().expect("piped stderr");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let _ = BufReader::new(stdout).read_line(&mut line);
            let _ = tx.send(line);
        });
        let line = rx.recv_timeout(STARTUP_DEADLINE).unwrap_or_default();
        let Some(port) = line.trim().strip_prefix("LISTENING ") else {
            let _ = child.kill();
            let mut err = String::new();
            let _ = stderr.read_to_string(&mut err);
            panic!(
                "moto did not start (is it installed? `pip install 'moto[server]'`).\nlauncher said: {line:?}\nstderr:\n{err}"
            );
        };
        // Drain stderr so the launcher never blocks on a full pipe.
        std::thread::spawn(move || {
            let _ = std::io::copy(&mut stderr, &mut std::io::sink());
        });
        let stdin = child.stdin.take().expect("piped stdin");
        Moto { endpoint: format!("http://127.0.0.1:{port}"), _stdin: Mutex::new(stdin), _child: Mutex::new(child) }
    })
}

fn base_config(endpoint: &str, creds: Credentials, region: &str) -> SdkConfig {
    SdkConfig::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new(region.to_string()))
        .endpoint_url(endpoint)
        .credentials_provider(aws_sdk_sts::config::SharedCredentialsProvider::new(creds))
        .build()
}

/// A fresh, empty AWS account in the emulator.
pub struct Account {
    pub id: String,
    pub endpoint: String,
    creds: Credentials,
}

impl Account {
    /// Assumes a role in a new account id, so this test sees only its own resources.
    pub async fn new() -> Account {
        Account::assume(&fresh_account_id()).await
    }

    /// Credentials for account `id` (moto lets any role in any account be assumed).
    pub async fn assume(id: &str) -> Account {
        let root = Credentials::new("testing", "testing", None, None, "harness");
        Account::assume_as(id, root, "FlowkeeperAdmin").await
    }

    /// Assumes `role` in account `id` with the caller's credentials `caller`.
    pub async fn assume_as(id: &str, caller: Credentials, role: &str) -> Account {
        let moto = moto();
        let sts = aws_sdk_sts::Client::new(&base_config(&moto.endpoint, caller, "us-east-1"));
        let out = sts
            .assume_role()
            .role_arn(format!("arn:aws:iam::{id}:role/{role}"))
            .role_session_name("flowkeeper-test")
            .send()
            .await
            .expect("sts:AssumeRole against moto");
        let c = out.credentials().expect("credentials");
        let creds = Credentials::new(
            c.access_key_id(),
            c.secret_access_key(),
            Some(c.session_token().to_string()),
            None,
            "assumed",
        );
        Account {
            id: id.to_string(),
            endpoint: moto.endpoint.clone(),
            creds,
        }
    }

    /// An identity with fixed keys (an IAM user's), in account `id`.
    pub fn with_keys(id: &str, access_key: &str, secret: &str) -> Account {
        Account {
            id: id.to_string(),
            endpoint: moto().endpoint.clone(),
            creds: Credentials::new(access_key, secret, None, None, "user"),
        }
    }

    pub fn credentials(&self) -> Credentials {
        self.creds.clone()
    }

    pub fn config(&self, region: &str) -> SdkConfig {
        base_config(&self.endpoint, self.creds.clone(), region)
    }
    pub fn ec2(&self, region: &str) -> aws_sdk_ec2::Client {
        aws_sdk_ec2::Client::new(&self.config(region))
    }
    pub fn s3(&self, region: &str) -> aws_sdk_s3::Client {
        let conf = aws_sdk_s3::config::Builder::from(&self.config(region))
            .force_path_style(true)
            .build();
        aws_sdk_s3::Client::from_conf(conf)
    }
    pub fn logs(&self, region: &str) -> aws_sdk_cloudwatchlogs::Client {
        aws_sdk_cloudwatchlogs::Client::new(&self.config(region))
    }
    pub fn iam(&self) -> aws_sdk_iam::Client {
        aws_sdk_iam::Client::new(&self.config("us-east-1"))
    }
    pub fn kms(&self, region: &str) -> aws_sdk_kms::Client {
        aws_sdk_kms::Client::new(&self.config(region))
    }

    /// Creates a network interface in `subnet`; returns its id.
    pub async fn seed_interface(&self, region: &str, subnet: &str) -> String {
        self.ec2(region)
            .create_network_interface()
            .subnet_id(subnet)
            .send()
            .await
            .expect("create network interface")
            .network_interface
            .and_then(|n| n.network_interface_id)
            .expect("interface id")
    }

    /// Creates a VPC with `tags` and one subnet carrying the same tags; returns (vpc, subnet).
    pub async fn seed_vpc(
        &self,
        region: &str,
        cidr_octet: u8,
        tags: &[(&str, &str)],
    ) -> (String, String) {
        let ec2 = self.ec2(region);
        let vpc = ec2
            .create_vpc()
            .cidr_block(format!("10.{cidr_octet}.0.0/16"))
            .send()
            .await
            .expect("create vpc")
            .vpc
            .and_then(|v| v.vpc_id)
            .expect("vpc id");
        let subnet = ec2
            .create_subnet()
            .vpc_id(&vpc)
            .cidr_block(format!("10.{cidr_octet}.1.0/24"))
            .send()
            .await
            .expect("create subnet")
            .subnet
            .and_then(|s| s.subnet_id)
            .expect("subnet id");
        if !tags.is_empty() {
            let t: Vec<_> = tags
                .iter()
                .map(|(k, v)| aws_sdk_ec2::types::Tag::builder().key(*k).value(*v).build())
                .collect();
            ec2.create_tags()
                .resources(&vpc)
                .resources(&subnet)
                .set_tags(Some(t))
                .send()
                .await
                .expect("tag");
        }
        (vpc, subnet)
    }

    /// A bucket's policy, parsed.
    pub async fn bucket_policy(&self, region: &str, bucket: &str) -> serde_json::Value {
        let out = self
            .s3(region)
            .get_bucket_policy()
            .bucket(bucket)
            .send()
            .await
            .expect("bucket policy");
        serde_json::from_str(out.policy().expect("policy text")).expect("policy is JSON")
    }

    /// Every flow log in the region: (id, resource, destination or log group, log format, tags).
    pub async fn flow_logs(&self, region: &str) -> Vec<aws_sdk_ec2::types::FlowLog> {
        let out = self
            .ec2(region)
            .describe_flow_logs()
            .send()
            .await
            .expect("describe flow logs");
        let mut v = out.flow_logs.unwrap_or_default();
        v.sort_by(|a, b| {
            a.resource_id
                .cmp(&b.resource_id)
                .then(a.flow_log_id.cmp(&b.flow_log_id))
        });
        v
    }

    /// Runs the real binary as this account.
    pub fn run(&self, dir: &Path, args: &[&str]) -> Output {
        self.command(dir, &self.endpoint, args)
            .stdin(Stdio::null())
            .output()
            .expect("run flowkeeper")
    }

    /// The real binary as this account, reaching AWS at `endpoint`, with a clean environment.
    pub fn command(&self, dir: &Path, endpoint: &str, args: &[&str]) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_flowkeeper"));
        cmd.args(args)
            .current_dir(dir)
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("AWS_ACCESS_KEY_ID", self.creds.access_key_id())
            .env("AWS_SECRET_ACCESS_KEY", self.creds.secret_access_key())
            .env(
                "AWS_SESSION_TOKEN",
                self.creds.session_token().unwrap_or_default(),
            )
            .env("AWS_ENDPOINT_URL", endpoint)
            .env("AWS_REGION", "us-east-1")
            .env("AWS_CONFIG_FILE", "/nonexistent/flowkeeper-test-config")
            .env(
                "AWS_SHARED_CREDENTIALS_FILE",
                "/nonexistent/flowkeeper-test-credentials",
            )
            .env("AWS_EC2_METADATA_DISABLED", "true");
        cmd
    }
}

/// A new account id, unique within this test process.
pub fn fresh_account_id() -> String {
    let n = NEXT_ACCOUNT.fetch_add(1, Ordering::SeqCst);
    format!(
        "{:012}",
        300_000_000_000u64 + u64::from(std::process::id()) * 1000 + n
    )
}

/// POSTs to moto's own control API (`/moto-api/...`) and returns the status line.
pub fn moto_api(path: &str, body: &str) -> String {
    use std::io::Write;
    let addr = moto().endpoint.trim_start_matches("http://").to_string();
    let mut stream = std::net::TcpStream::connect(&addr).expect("connect to moto");
    write!(
        stream,
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .expect("write request");
    let mut response = String::new();
    stream.read_to_string(&mut response).expect("read response");
    response.lines().next().unwrap_or_default().to_string()
}

/// stdout and stderr as text, for assertion messages.
pub fn text(o: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

/// Asserts the exit code, showing the output when it differs.
pub fn expect_exit(o: &Output, code: i32) -> (String, String) {
    let (out, err) = text(o);
    assert_eq!(
        o.status.code(),
        Some(code),
        "unexpected exit code\n--- stdout\n{out}\n--- stderr\n{err}"
    );
    (out, err)
}

/// A temporary directory holding `flowkeeper.yaml` with `config`.
pub fn workdir(config: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("flowkeeper.yaml"), config).expect("write config");
    dir
}
