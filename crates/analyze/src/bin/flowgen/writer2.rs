//! Writing realism-2 records: lines in each flow log's format (three version 5 field orders,
//! or version 2) with IPv4 or IPv6 addresses and `pkt-*` fields, S3 keys per flow log and
//! delivery time, gzip objects and the single local file (`--single-file`, in the first flow
//! log's format; gzip when the name ends in `.gz`).

use std::fs::{self, File};
use std::io::{self, BufWriter, Write};
use std::net::IpAddr;
use std::path::{Path, PathBuf};

use flate2::{Compression, GzBuilder};
use flowkeeper_analyze::time::utc_fields;

use super::estate::{Role, Vpc};
use super::flow::Rec2;
use super::traffic::{Dir, Status};
use super::writer::{GZIP_LEVEL, V2_HEADER, V5_HEADER};

/// The S3 key of an object of `vpc`'s flow log delivered at `t`.
pub fn object_key(vpc: &Vpc, t: u64, hash: u32) -> PathBuf {
    let (y, mo, d, h, mi, _) = utc_fields(t);
    let dir = format!(
        "AWSLogs/{}/vpcflowlogs/{}/{y:04}/{mo:02}/{d:02}",
        vpc.account, vpc.region
    );
    let name = format!(
        "{}_vpcflowlogs_{}_{}_{y:04}{mo:02}{d:02}T{h:02}{mi:02}Z_{hash:08x}.log.gz",
        vpc.account, vpc.region, vpc.flow_log
    );
    Path::new(&dir).join(name)
}

fn push_u64(buf: &mut Vec<u8>, mut n: u64) {
    let mut digits = [0u8; 20];
    let mut i = digits.len();
    loop {
        i -= 1;
        digits[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    buf.extend_from_slice(&digits[i..]);
}

fn push_ip(buf: &mut Vec<u8>, ip: IpAddr) {
    // Display writes the RFC 5952 form for IPv6, as delivered logs do.
    let _ = write!(buf, "{ip}");
}

/// The order of the AWS documentation's version 5 example (every field, another order).
pub const AWS_DOC_V5: &str = "version srcaddr dstaddr srcport dstport protocol start end type packets bytes account-id vpc-id subnet-id instance-id interface-id region az-id sublocation-type sublocation-id action tcp-flags pkt-srcaddr pkt-dstaddr pkt-src-aws-service pkt-dst-aws-service traffic-path flow-direction log-status";

/// A common custom format: the default fields, then the ones a security team adds.
pub const CUSTOM: &str = "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status vpc-id subnet-id instance-id tcp-flags type pkt-srcaddr pkt-dstaddr pkt-src-aws-service pkt-dst-aws-service flow-direction traffic-path";

/// The log format of VPC `index`'s flow log: with `--version 5` the three VPCs of an estate
/// use three formats (every field in the documented order, the documentation example's order,
/// a custom subset), as estates whose flow logs were made at different times do.
pub fn format_of(index: usize, version: u8) -> &'static str {
    if version < 5 {
        V2_HEADER
    } else {
        [V5_HEADER, AWS_DOC_V5, CUSTOM][index % 3]
    }
}

/// A field of a log format.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum F {
    Version,
    Account,
    Interface,
    Src,
    Dst,
    Sport,
    Dport,
    Proto,
    Packets,
    Bytes,
    Start,
    End,
    Action,
    Status,
    Vpc,
    Subnet,
    Instance,
    Flags,
    Type,
    Psrc,
    Pdst,
    Region,
    Az,
    SublocationType,
    SublocationId,
    SrcSvc,
    DstSvc,
    Dir,
    Path,
}

/// The fields of a format (names as in an S3 header line).
pub fn fields(format: &str) -> Vec<F> {
    format
        .split(' ')
        .map(|name| match name {
            "version" => F::Version,
            "account-id" => F::Account,
            "interface-id" => F::Interface,
            "srcaddr" => F::Src,
            "dstaddr" => F::Dst,
            "srcport" => F::Sport,
            "dstport" => F::Dport,
            "protocol" => F::Proto,
            "packets" => F::Packets,
            "bytes" => F::Bytes,
            "start" => F::Start,
            "end" => F::End,
            "action" => F::Action,
            "log-status" => F::Status,
            "vpc-id" => F::Vpc,
            "subnet-id" => F::Subnet,
            "instance-id" => F::Instance,
            "tcp-flags" => F::Flags,
            "type" => F::Type,
            "pkt-srcaddr" => F::Psrc,
            "pkt-dstaddr" => F::Pdst,
            "region" => F::Region,
            "az-id" => F::Az,
            "sublocation-type" => F::SublocationType,
            "sublocation-id" => F::SublocationId,
            "pkt-src-aws-service" => F::SrcSvc,
            "pkt-dst-aws-service" => F::DstSvc,
            "flow-direction" => F::Dir,
            "traffic-path" => F::Path,
            other => panic!("flowgen writes no field {other}"),
        })
        .collect()
}

/// Appends one record line (with its newline) in the format `fields`.
pub fn push_line(buf: &mut Vec<u8>, vpc: &Vpc, r: &Rec2, version: u8, fields: &[F]) {
    let h = &vpc.hosts[usize::from(r.eni)];
    let ok = r.status == Status::Ok;
    for (k, f) in fields.iter().enumerate() {
        if k > 0 {
            buf.push(b' ');
        }
        let text: &[u8] = match f {
            F::Version => {
                push_u64(buf, u64::from(version));
                continue;
            }
            // AWS: "If the network interface is created by an AWS service, for example when
            // creating a VPC endpoint or Network Load Balancer, the record might display
            // unknown for this field."
            F::Account if matches!(h.role, Role::Nlb | Role::Endpoint) => b"unknown",
            F::Account => vpc.account.as_bytes(),
            F::Interface => h.id.as_bytes(),
            F::Vpc => vpc.vpc.as_bytes(),
            F::Subnet => h.subnet.as_bytes(),
            F::Instance => h.instance.as_bytes(),
            F::Region => vpc.region.as_bytes(),
            F::Az => h.az.as_bytes(),
            F::SublocationType | F::SublocationId => b"-",
            F::Start => {
                push_u64(buf, r.start);
                continue;
            }
            F::End => {
                push_u64(buf, r.end);
                continue;
            }
            F::Status => match r.status {
                Status::Ok => b"OK",
                Status::NoData => b"NODATA",
                Status::SkipData => b"SKIPDATA",
            },
            _ if !ok => b"-",
            F::Src | F::Dst | F::Psrc | F::Pdst => {
                let ip = match f {
                    F::Src => r.src,
                    F::Dst => r.dst,
                    F::Psrc => r.psrc,
                    _ => r.pdst,
                };
                push_ip(buf, ip);
                continue;
            }
            F::Sport | F::Dport | F::Proto | F::Packets | F::Bytes | F::Flags => {
                let n = match f {
                    F::Sport => u64::from(r.sport),
                    F::Dport => u64::from(r.dport),
                    F::Proto => u64::from(r.proto),
                    F::Packets => super::writer::wire_packets(r.packets, r.bytes),
                    F::Bytes => r.bytes,
                    _ => u64::from(r.flags),
                };
                push_u64(buf, n);
                continue;
            }
            F::Action => {
                if r.accept {
                    b"ACCEPT"
                } else {
                    b"REJECT"
                }
            }
            F::Type => {
                if r.src.is_ipv6() {
                    b"IPv6"
                } else {
                    b"IPv4"
                }
            }
            F::SrcSvc => r.src_svc.unwrap_or("-").as_bytes(),
            F::DstSvc => r.dst_svc.unwrap_or("-").as_bytes(),
            F::Dir => match r.dir {
                Dir::Ingress => b"ingress",
                Dir::Egress => b"egress",
            },
            F::Path => {
                if r.path > 0 {
                    push_u64(buf, u64::from(r.path));
                    continue;
                }
                b"-"
            }
        };
        buf.extend_from_slice(text);
    }
    buf.push(b'\n');
}

/// Writes `vpc`'s `records` in `format` (after the header line if `with_header`) through `out`.
pub fn write_records<W: Write + ?Sized>(
    out: &mut W,
    vpc: &Vpc,
    records: &[Rec2],
    version: u8,
    format: &str,
    with_header: bool,
) -> io::Result<()> {
    let mut buf = Vec::with_capacity(1 << 16);
    if with_header {
        buf.extend_from_slice(format.as_bytes());
        buf.push(b'\n');
    }
    let fields = fields(format);
    for r in records {
        push_line(&mut buf, vpc, r, version, &fields);
        if buf.len() >= 60_000 {
            out.write_all(&buf)?;
            buf.clear();
        }
    }
    out.write_all(&buf)
}

fn gzip<W: Write>(w: W) -> flate2::write::GzEncoder<W> {
    GzBuilder::new()
        .mtime(0)
        .write(w, Compression::new(GZIP_LEVEL))
}

/// Writes one gzip object under `root`.
pub fn write_object(
    root: &Path,
    key: &Path,
    vpc: &Vpc,
    records: &[Rec2],
    version: u8,
) -> io::Result<()> {
    let format = format_of(vpc.index, version);
    let path = root.join(key);
    if let Some(dir) = path.parent() {
        fs::create_dir_all(dir)?;
    }
    let mut gz = gzip(BufWriter::with_capacity(1 << 16, File::create(&path)?));
    write_records(&mut gz, vpc, records, version, format, true)?;
    gz.finish()?.flush()
}

/// The single local file: plain text, or gzip when the name ends in `.gz`.
pub enum SingleFile {
    Plain(BufWriter<File>),
    Gzip(Box<flate2::write::GzEncoder<BufWriter<File>>>),
}

impl SingleFile {
    /// Creates the file and writes the header line of `format`.
    pub fn create(path: &Path, format: &str) -> io::Result<SingleFile> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            fs::create_dir_all(dir)?;
        }
        let file = BufWriter::with_capacity(1 << 16, File::create(path)?);
        let mut out = if path.extension().is_some_and(|e| e == "gz") {
            SingleFile::Gzip(Box::new(gzip(file)))
        } else {
            SingleFile::Plain(file)
        };
        let mut line = format.as_bytes().to_vec();
        line.push(b'\n');
        out.writer().write_all(&line)?;
        Ok(out)
    }

    pub fn writer(&mut self) -> &mut dyn Write {
        match self {
            SingleFile::Plain(w) => w,
            SingleFile::Gzip(w) => w,
        }
    }

    pub fn finish(self) -> io::Result<()> {
        match self {
            SingleFile::Plain(mut w) => w.flush(),
            SingleFile::Gzip(w) => w.finish()?.flush(),
        }
    }
}
