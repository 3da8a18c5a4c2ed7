//! Property test (#8 case 2): decoding arbitrary text never panics, whatever the schema. A
//! seeded generator (the same cases on every run) mixes random bytes, boundary numbers and
//! separators; every result is either a record or an error that renders.

use flowlog::{Field, Schema, field};

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

const PIECES: &[&str] = &[
    " ",
    " ",
    " ",
    "  ",
    "\t",
    "\r",
    "\n",
    "-",
    "0",
    "1",
    "18446744073709551615",
    "18446744073709551616",
    "99999999999999999999999",
    "65535",
    "65536",
    "256",
    "9999999999999",
    "10000000000000",
    "::",
    "1.2.3.4",
    "::ffff:1.2.3.4",
    "1.2.3",
    "ACCEPT",
    "OK",
    "SKIPDATA",
    "ingress",
    "IPv6",
    "é",
    "\u{0}",
    "\u{feff}",
    "${x}",
];

fn text(rng: &mut Rng) -> String {
    let mut out = String::new();
    for _ in 0..rng.below(60) {
        if rng.below(4) == 0 {
            let bytes: Vec<u8> = (0..rng.below(6)).map(|_| rng.next() as u8).collect();
            out.push_str(&String::from_utf8_lossy(&bytes));
        } else {
            out.push_str(PIECES[rng.below(PIECES.len() as u64) as usize]);
        }
    }
    out
}

#[test]
fn arbitrary_text_never_panics_the_decoder() {
    let all: Vec<Field> = field::all().iter().map(|i| i.field).collect();
    let schemas = [
        Schema::default_v2(),
        Schema::transit_gateway_default(),
        Schema::from_fields(&all).unwrap(),
        Schema::from_header("bytes").unwrap(),
        Schema::from_header("start future-field end").unwrap(),
    ];
    let mut rng = Rng(0xdec0de);
    let mut errors = 0;
    for _ in 0..20_000 {
        let line = text(&mut rng);
        for schema in &schemas {
            match schema.decode(&line) {
                Ok(r) => {
                    let bare = line.strip_suffix('\n').unwrap_or(&line);
                    assert_eq!(r.line, bare.strip_suffix('\r').unwrap_or(bare));
                }
                Err(e) => {
                    errors += 1;
                    assert!(!e.to_string().is_empty());
                }
            }
        }
        // Headers and log formats built from arbitrary text fail cleanly too.
        let _ = Schema::from_header(&line);
        let _ = Schema::from_log_format(&line);
    }
    assert!(errors > 0);
}
