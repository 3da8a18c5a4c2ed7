//! [`flowlog::DecodePlan::lines`] (one pass over a whole text) against splitting the text at
//! `\n` and [`DecodePlan::decode`] of each line: the same lines, and for each the same
//! result (the same record, or the very same error), on the public fixtures and on seeded
//! texts with odd lines: empty and blank lines, `\r\n`, trailing spaces, values longer than
//! a 64-byte block, lines of exactly 64 and 128 bytes (and every length around them), bytes
//! that are not ASCII or not UTF-8 in read and in skipped columns.

use std::path::PathBuf;

use flowlog::{DecodePlan, Field, FlowRecord, Schema, field};
use serde_json::Value as Json;

/// Decodes `text` both ways; Err says where they differ.
fn compare(plan: &DecodePlan, text: &[u8]) -> Result<usize, String> {
    let mut lines = plan.lines(text);
    let mut n = 0;
    for (i, want_line) in text.split(|&b| b == b'\n').enumerate() {
        let mut want_rec = FlowRecord::default();
        let want = plan.decode(want_line, &mut want_rec);
        let mut got_rec = FlowRecord::default();
        let Some((got_line, got)) = lines.next(&mut got_rec) else {
            return Err(format!("line {i}: missing"));
        };
        if got_line != want_line {
            return Err(format!("line {i}: {got_line:?} instead of {want_line:?}"));
        }
        match (&want, &got) {
            (Ok(()), Ok(())) if got_rec == want_rec => {}
            (Err(w), Err(g)) if w == g => {}
            _ => {
                return Err(format!(
                    "line {i} {want_line:?}: {got:?} {got_rec:?} instead of {want:?} {want_rec:?}",
                    want_line = String::from_utf8_lossy(want_line)
                ));
            }
        }
        n += 1;
    }
    if lines.next(&mut FlowRecord::default()).is_some() {
        return Err("a line too many".into());
    }
    Ok(n)
}

fn all_fields() -> Vec<Field> {
    field::all().iter().map(|i| i.field).collect()
}

/// What `analyze` reads (with zones), everything, nothing, and a few single fields.
fn field_sets() -> Vec<Vec<Field>> {
    vec![
        vec![
            Field::InterfaceId,
            Field::Srcaddr,
            Field::Dstaddr,
            Field::Srcport,
            Field::Dstport,
            Field::Protocol,
            Field::Packets,
            Field::Bytes,
            Field::Start,
            Field::End,
            Field::Action,
            Field::LogStatus,
            Field::TcpFlags,
            Field::PktSrcaddr,
            Field::PktDstaddr,
            Field::PktDstAwsService,
            Field::FlowDirection,
            Field::TrafficPath,
            Field::VpcId,
            Field::SubnetId,
        ],
        all_fields(),
        vec![],
        vec![Field::Version],
        vec![Field::InterfaceId],
        vec![Field::LogStatus],
        vec![Field::TrafficPath],
        vec![Field::Srcaddr, Field::PktSrcaddr],
    ]
}

const V5: &str = "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status vpc-id subnet-id instance-id tcp-flags type pkt-srcaddr pkt-dstaddr region az-id sublocation-type sublocation-id pkt-src-aws-service pkt-dst-aws-service flow-direction traffic-path";
const V5_LINE: &str = "5 764898506382 eni-4f8bd6ce295d390c1 10.0.1.13 10.0.2.15 50362 8080 6 23 36552 1793543495 1793543497 ACCEPT OK vpc-08600937178e07941 subnet-d9cc12dccd5363ad2 i-f52d710420f6659b3 3 IPv4 10.0.1.13 10.0.2.15 us-east-1 use1-az2 - - - - egress 1";
const V2_LINE: &str = "2 123456789010 eni-1235b8ca123456789 172.31.16.139 172.31.16.21 20641 22 6 20 4249 1418530010 1418530070 ACCEPT OK";

/// SplitMix64.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

/// A good line of `base` changed in one seeded way (or not at all).
fn odd_line(rng: &mut Rng, base: &str) -> Vec<u8> {
    let mut values: Vec<Vec<u8>> = base.split(' ').map(|v| v.as_bytes().to_vec()).collect();
    let pick = rng.below(values.len() as u64) as usize;
    match rng.below(14) {
        0 => return Vec::new(),
        1 => return b" \t ".to_vec(),
        2 => values[pick] = vec![b'a'; 60 + rng.below(80) as usize],
        3 => values[pick] = "é".repeat(rng.below(70) as usize).into_bytes(),
        4 => values[pick].push(0xff),
        5 => values[pick] = vec![0x80],
        6 => values[pick].clear(),
        7 => {
            values.remove(pick);
        }
        8 => values.insert(pick, b"-".to_vec()),
        9 => values[pick] = b"70000".to_vec(),
        10 => values[pick] = b"ACCEPT".to_vec(),
        _ => {}
    }
    let mut line = values.join(&b' ');
    match rng.below(6) {
        0 => line.push(b'\r'),
        1 => line.push(b' '),
        2 => line.extend_from_slice(b" \r"),
        _ => {}
    }
    line
}

/// Lines joined with `\n`, maybe with a last `\n`.
fn join(lines: &[Vec<u8>], last_newline: bool) -> Vec<u8> {
    let mut text = lines.join(&b'\n');
    if last_newline {
        text.push(b'\n');
    }
    text
}

#[test]
fn lines_of_a_text_decode_like_each_line_on_its_own() {
    let schemas = [
        (Schema::from_header(V5).unwrap(), V5_LINE),
        (Schema::default_v2(), V2_LINE),
        // A text value last (so a `\r` left on it would be kept, not rejected).
        (
            Schema::from_header("srcaddr dstaddr future-a interface-id").unwrap(),
            "10.0.0.1 10.0.0.2 - eni-1",
        ),
    ];
    let mut rng = Rng(11);
    let mut lines_compared = 0;
    for (schema, base) in &schemas {
        for fields in field_sets() {
            let plan = schema.plan(&fields);
            // Degenerate texts.
            for text in [&b""[..], b"\n", b"\n\n", b"\r\n", b" ", base.as_bytes()] {
                lines_compared += compare(&plan, text).unwrap();
            }
            // Lines of every length from short to over two blocks, one after the other, so
            // line ends fall at every place in a block (lines of exactly 64 and 128 bytes).
            let mut lines = Vec::new();
            for len in 0..200 {
                let mut line = base.as_bytes().to_vec();
                line.truncate(len);
                lines.push(line);
                let pad = len.saturating_sub(base.len());
                let long = base.replacen(" - ", &format!(" {} ", "x".repeat(pad + 1)), 1);
                lines.push(long.into_bytes());
            }
            for last in [false, true] {
                lines_compared += compare(&plan, &join(&lines, last)).unwrap();
            }
            // Seeded texts of odd lines.
            for _ in 0..60 {
                let n = rng.below(40) as usize;
                let lines: Vec<Vec<u8>> = (0..n).map(|_| odd_line(&mut rng, base)).collect();
                let text = join(&lines, rng.below(2) == 0);
                if let Err(why) = compare(&plan, &text) {
                    panic!("{fields:?}: {why}");
                }
                lines_compared += n;
            }
        }
    }
    assert!(lines_compared > 10_000, "{lines_compared}");
}

#[test]
fn lines_of_the_public_fixtures_decode_like_each_line_on_its_own() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/public");
    let mut by_format: Vec<(String, Vec<Vec<u8>>)> = Vec::new();
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "jsonl"))
        .collect();
    paths.sort();
    for path in &paths {
        for json in std::fs::read_to_string(path).unwrap().lines() {
            let json: Json = serde_json::from_str(json).unwrap();
            let (Some(format), Some(line)) = (json["format"].as_str(), json["line"].as_str())
            else {
                continue;
            };
            let line = line.strip_suffix('\n').unwrap_or(line).as_bytes().to_vec();
            match by_format.iter_mut().find(|(f, _)| f == format) {
                Some((_, lines)) => lines.push(line),
                None => by_format.push((format.to_string(), vec![line])),
            }
        }
    }
    let mut lines_compared = 0;
    for (format, lines) in &by_format {
        let schema = Schema::from_header(format).unwrap();
        for fields in field_sets() {
            let plan = schema.plan(&fields);
            for last in [false, true] {
                lines_compared += compare(&plan, &join(lines, last)).unwrap();
            }
        }
    }
    assert!(lines_compared >= 54 * 2 * 8, "{lines_compared}");
}

/// Numbers of eight digits and more (parsed eight at a time), short schemas (one column:
/// no space at all) and the reuse of `srcaddr` for `pkt-srcaddr`: the one-pass decoder, the
/// per-line plan and the full decoder give the same record or the same error.
#[test]
fn long_numbers_short_schemas_and_packet_addresses_decode_alike() {
    let numbers = [
        "1418530010",
        "1512564058000",
        "12345678",
        "99999999",
        "0000000012",
        "-",
        "",
        "+1418530010",
        "-141853001",
        "14185300-1",
        "141853001x",
        "1418 530010",
        "1418:30010",
        "1418/30010",
        "9999999999999999999",
        "18446744073709551615",
        "18446744073709551616",
        "99999999999999",
        "1418530010\r",
    ];
    let addrs = [
        "10.0.0.1",
        "10.0.0.2",
        "172.31.116.139",
        "172.31.126.139",
        "255.255.255.255",
        "-",
        "01.2.3.4",
        "1.2.3.256",
        "2001:db8::1",
        "2001:db8:1234:a100:8d6e:3477:df66:f105",
    ];
    let schemas = [
        "start",
        "start end",
        "packets start",
        "srcaddr pkt-srcaddr start",
    ];
    for header in schemas {
        let schema = Schema::from_header(header).unwrap();
        let columns = schema.len();
        let mut lines = Vec::new();
        for n in numbers {
            for a in addrs {
                let line = match columns {
                    1 => n.to_string(),
                    2 => format!("{n} {n}"),
                    _ => format!("{a} {} {n}", addrs[(a.len() + n.len()) % addrs.len()]),
                };
                lines.push(line.clone());
                if columns == 3 {
                    lines.push(format!("{a} {a} {n}"));
                }
            }
        }
        let text = lines.join("\n");
        for fields in [
            schema
                .columns()
                .iter()
                .filter_map(|c| c.field())
                .collect::<Vec<_>>(),
            vec![],
        ] {
            let plan = schema.plan(&fields);
            compare(&plan, text.as_bytes()).unwrap_or_else(|e| panic!("{header}: {e}"));
        }
        let plan = schema.plan(
            &schema
                .columns()
                .iter()
                .filter_map(|c| c.field())
                .collect::<Vec<_>>(),
        );
        let mut all = plan.lines(text.as_bytes());
        for line in &lines {
            let mut rec = FlowRecord::default();
            let (_, got) = all.next(&mut rec).unwrap();
            let want = schema.decode(line);
            match (&want, &got) {
                (Ok(w), Ok(())) => assert_eq!(
                    (w.start, w.end, w.packets, w.srcaddr, w.pkt_srcaddr),
                    (
                        rec.start,
                        rec.end,
                        rec.packets,
                        rec.srcaddr,
                        rec.pkt_srcaddr
                    ),
                    "{header}: {line:?}"
                ),
                (Err(w), Err(g)) => assert_eq!(w, g, "{header}: {line:?}"),
                _ => panic!("{header}: {line:?}: {got:?} instead of {want:?}"),
            }
        }
    }
}

/// Lines longer than a window of the one-pass decoder (8 KiB) and than 4 KiB, lines that
/// end at and around every window boundary, with `\r\n`, bytes that are not ASCII, `-`
/// values, too few and too many values among them, with and without a last newline: each
/// decodes as it does on its own.
#[test]
fn lines_longer_than_a_window_and_lines_across_windows_decode_alike() {
    let schemas = [
        (Schema::from_header(V5).unwrap(), V5_LINE),
        (Schema::default_v2(), V2_LINE),
    ];
    let mut rng = Rng(7);
    for (schema, base) in &schemas {
        // A long value replaces a `-` or an id, so the long line is good, or is not.
        let long = |n: usize, fill: &str| {
            base.replacen("eni-", &format!("eni-{}", fill.repeat(n)), 1)
                .into_bytes()
        };
        for fields in field_sets() {
            let plan = schema.plan(&fields);
            let mut lines: Vec<Vec<u8>> = Vec::new();
            for n in [4000, 4096, 8150, 8191, 8192, 8193, 9000, 20_000] {
                lines.push(long(n, "a"));
                lines.push(long(n / 2, "é"));
                let mut crlf = long(n, "b");
                crlf.push(b'\r');
                lines.push(crlf);
                lines.push(vec![b' '; n]);
                lines.push(odd_line(&mut rng, base));
            }
            // Short lines until the text is several windows long, so line ends fall at
            // every place around a window's end.
            let mut len = 0;
            while len < 5 * 8192 {
                let mut line = odd_line(&mut rng, base);
                line.truncate(line.len().saturating_sub(rng.below(3) as usize));
                len += line.len() + 1;
                lines.push(line);
            }
            for last in [false, true] {
                let text = join(&lines, last);
                compare(&plan, &text).unwrap_or_else(|e| panic!("{fields:?}: {e}"));
                // The same lines after a first line of every length around a window's end.
                for pad in [8100, 8190, 8191, 8192, 8193] {
                    let mut padded = vec![b'x'; pad];
                    padded.push(b'\n');
                    padded.extend_from_slice(&text);
                    compare(&plan, &padded).unwrap_or_else(|e| panic!("{pad}: {e}"));
                }
            }
        }
    }
}
