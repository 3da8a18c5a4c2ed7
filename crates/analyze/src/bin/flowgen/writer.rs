//! Writing: record lines in the version 5 (or version 2 default) field order, S3 object
//! keys in the layout AWS uses, and gzip objects streamed to disk (fixed gzip header, so the
//! same input gives the same bytes).

use std::fs::{self, File};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

/// gzip's own default level, so objects are about as large as delivered ones (about 30 bytes
/// a record for version 5).
pub const GZIP_LEVEL: u32 = 6;

use flate2::{Compression, GzBuilder};
use flowkeeper_analyze::time::utc_fields;

use super::topology::Account;
use super::traffic::{Dir, Rec, Status};

/// Header of version 5 logs (every field of versions 2–5, in AWS's documented order).
pub const V5_HEADER: &str = "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status vpc-id subnet-id instance-id tcp-flags type pkt-srcaddr pkt-dstaddr region az-id sublocation-type sublocation-id pkt-src-aws-service pkt-dst-aws-service flow-direction traffic-path";

/// A VPC's largest packet (its jumbo-frame MTU).
const MTU: u64 = 9_001;

/// The packets a record says: at least those its bytes need (a generated reply of 300 KB in
/// 3 packets is no record AWS writes, and `analyze` reads it as a malformed line).
pub fn wire_packets(packets: u64, bytes: u64) -> u64 {
    packets.max(bytes.div_ceil(MTU))
}

/// Header of the version 2 default format.
pub const V2_HEADER: &str = "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status";

/// The S3 key of an object delivered at `t` (AWS names objects by delivery time).
pub fn object_key(a: &Account, t: u64, hash: u32) -> PathBuf {
    let (y, mo, d, h, mi, _) = utc_fields(t);
    let dir = format!(
        "AWSLogs/{}/vpcflowlogs/{}/{y:04}/{mo:02}/{d:02}",
        a.id, a.region
    );
    let name = format!(
        "{}_vpcflowlogs_{}_{}_{y:04}{mo:02}{d:02}T{h:02}{mi:02}Z_{hash:08x}.log.gz",
        a.id, a.region, a.flow_log
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

fn push_ip(buf: &mut Vec<u8>, ip: u32) {
    for (k, shift) in [24, 16, 8, 0].into_iter().enumerate() {
        if k > 0 {
            buf.push(b'.');
        }
        push_u64(buf, u64::from((ip >> shift) & 0xff));
    }
}

/// Appends one record line (with its newline).
pub fn push_line(buf: &mut Vec<u8>, a: &Account, r: &Rec, version: u8) {
    let eni = &a.enis[usize::from(r.eni)];
    let sp = |buf: &mut Vec<u8>| buf.push(b' ');
    let dash = |buf: &mut Vec<u8>| buf.extend_from_slice(b" -");
    push_u64(buf, u64::from(version));
    sp(buf);
    buf.extend_from_slice(a.id.as_bytes());
    sp(buf);
    buf.extend_from_slice(eni.id.as_bytes());
    let ok = r.status == Status::Ok;
    if ok {
        sp(buf);
        push_ip(buf, r.src);
        sp(buf);
        push_ip(buf, r.dst);
        for n in [
            u64::from(r.sport),
            u64::from(r.dport),
            u64::from(r.proto),
            wire_packets(r.packets, r.bytes),
            r.bytes,
        ] {
            sp(buf);
            push_u64(buf, n);
        }
    } else {
        for _ in 0..7 {
            dash(buf);
        }
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
        sp(buf);
        buf.extend_from_slice(a.vpc.as_bytes());
        sp(buf);
        buf.extend_from_slice(eni.subnet.as_bytes());
        sp(buf);
        buf.extend_from_slice(eni.instance.as_bytes());
        if ok {
            sp(buf);
            push_u64(buf, u64::from(r.flags));
            buf.extend_from_slice(b" IPv4 ");
            push_ip(buf, r.src);
            sp(buf);
            push_ip(buf, r.dst);
        } else {
            buf.extend_from_slice(b" - - - -");
        }
        sp(buf);
        buf.extend_from_slice(a.region.as_bytes());
        sp(buf);
        buf.extend_from_slice(eni.az.as_bytes());
        buf.extend_from_slice(b" - -");
        for svc in [r.src_svc, r.dst_svc] {
            sp(buf);
            buf.extend_from_slice(svc.unwrap_or("-").as_bytes());
        }
        if ok {
            buf.extend_from_slice(match r.dir {
                Dir::Ingress => b" ingress",
                Dir::Egress => b" egress",
            });
        } else {
            dash(buf);
        }
        if r.path > 0 {
            sp(buf);
            push_u64(buf, u64::from(r.path));
        } else {
            dash(buf);
        }
    }
    buf.push(b'\n');
}

/// Writes one gzip object: the header line, then every record.
pub fn write_object(
    root: &Path,
    key: &Path,
    a: &Account,
    records: &[Rec],
    version: u8,
) -> io::Result<u64> {
    let path = root.join(key);
    if let Some(dir) = path.parent() {
        fs::create_dir_all(dir)?;
    }
    let file = BufWriter::with_capacity(1 << 16, File::create(&path)?);
    let mut gz = GzBuilder::new()
        .mtime(0)
        .write(file, Compression::new(GZIP_LEVEL));
    let mut buf = Vec::with_capacity(1 << 16);
    buf.extend_from_slice(if version >= 5 { V5_HEADER } else { V2_HEADER }.as_bytes());
    buf.push(b'\n');
    for r in records {
        push_line(&mut buf, a, r, version);
        if buf.len() >= 60_000 {
            gz.write_all(&buf)?;
            buf.clear();
        }
    }
    gz.write_all(&buf)?;
    let mut file = gz.finish()?;
    file.flush()?;
    Ok(records.len() as u64)
}
