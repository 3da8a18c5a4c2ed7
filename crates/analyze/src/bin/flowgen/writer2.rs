//! Writing realism-2 records: lines in the version 5 (or version 2) field order with IPv4 or
//! IPv6 addresses and `pkt-*` fields, S3 keys per flow log and delivery time, gzip objects and
//! the single local file (`--single-file`, gzip when the name ends in `.gz`).

use std::fs::{self, File};
use std::io::{self, BufWriter, Write};
use std::net::IpAddr;
use std::path::{Path, PathBuf};

use flate2::{Compression, GzBuilder};
use flowkeeper_analyze::time::utc_fields;

use super::estate::Vpc;
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

/// Appends one record line (with its newline).
pub fn push_line(buf: &mut Vec<u8>, vpc: &Vpc, r: &Rec2, version: u8) {
    let h = &vpc.hosts[usize::from(r.eni)];
    let ok = r.status == Status::Ok;
    let sp = |buf: &mut Vec<u8>| buf.push(b' ');
    push_u64(buf, u64::from(version));
    sp(buf);
    buf.extend_from_slice(vpc.account.as_bytes());
    sp(buf);
    buf.extend_from_slice(h.id.as_bytes());
    if ok {
        sp(buf);
        push_ip(buf, r.src);
        sp(buf);
        push_ip(buf, r.dst);
        for n in [
            u64::from(r.sport),
            u64::from(r.dport),
            u64::from(r.proto),
            r.packets,
            r.bytes,
        ] {
            sp(buf);
            push_u64(buf, n);
        }
    } else {
        buf.extend_from_slice(b" - - - - - - -");
    }
    sp(buf);
    push_u64(buf, r.start);
    sp(buf);
    push_u64(buf, r.end);
    buf.extend_from_slice(match (ok, r.accept) {
        (false, _) => b" -",
        (true, true) => b" ACCEPT",
        (true, false) => b" REJECT",
    });
    buf.extend_from_slice(match r.status {
        Status::Ok => b" OK",
        Status::NoData => b" NODATA",
        Status::SkipData => b" SKIPDATA",
    });
    if version >= 5 {
        for s in [&vpc.vpc, &h.subnet, &h.instance] {
            sp(buf);
            buf.extend_from_slice(s.as_bytes());
        }
        if ok {
            sp(buf);
            push_u64(buf, u64::from(r.flags));
            buf.extend_from_slice(if r.src.is_ipv6() {
                b" IPv6 "
            } else {
                b" IPv4 "
            });
            push_ip(buf, r.psrc);
            sp(buf);
            push_ip(buf, r.pdst);
        } else {
            buf.extend_from_slice(b" - - - -");
        }
        sp(buf);
        buf.extend_from_slice(vpc.region.as_bytes());
        sp(buf);
        buf.extend_from_slice(h.az.as_bytes());
        buf.extend_from_slice(b" - -");
        for svc in [r.src_svc, r.dst_svc] {
            sp(buf);
            buf.extend_from_slice(if ok { svc.unwrap_or("-") } else { "-" }.as_bytes());
        }
        if ok {
            buf.extend_from_slice(match r.dir {
                Dir::Ingress => b" ingress",
                Dir::Egress => b" egress",
            });
        } else {
            buf.extend_from_slice(b" -");
        }
        if ok && r.path > 0 {
            sp(buf);
            push_u64(buf, u64::from(r.path));
        } else {
            buf.extend_from_slice(b" -");
        }
    }
    buf.push(b'\n');
}

/// The header line of a version.
pub fn header(version: u8) -> &'static str {
    if version >= 5 { V5_HEADER } else { V2_HEADER }
}

/// Writes `vpc`'s `records` (after the header line if `with_header`) through `out`.
pub fn write_records<W: Write + ?Sized>(
    out: &mut W,
    vpc: &Vpc,
    records: &[Rec2],
    version: u8,
    with_header: bool,
) -> io::Result<()> {
    let mut buf = Vec::with_capacity(1 << 16);
    if with_header {
        buf.extend_from_slice(header(version).as_bytes());
        buf.push(b'\n');
    }
    for r in records {
        push_line(&mut buf, vpc, r, version);
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
    let path = root.join(key);
    if let Some(dir) = path.parent() {
        fs::create_dir_all(dir)?;
    }
    let mut gz = gzip(BufWriter::with_capacity(1 << 16, File::create(&path)?));
    write_records(&mut gz, vpc, records, version, true)?;
    gz.finish()?.flush()
}

/// The single local file: plain text, or gzip when the name ends in `.gz`.
pub enum SingleFile {
    Plain(BufWriter<File>),
    Gzip(flate2::write::GzEncoder<BufWriter<File>>),
}

impl SingleFile {
    pub fn create(path: &Path, version: u8) -> io::Result<SingleFile> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            fs::create_dir_all(dir)?;
        }
        let file = BufWriter::with_capacity(1 << 16, File::create(path)?);
        let mut out = if path.extension().is_some_and(|e| e == "gz") {
            SingleFile::Gzip(gzip(file))
        } else {
            SingleFile::Plain(file)
        };
        let mut line = header(version).as_bytes().to_vec();
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
