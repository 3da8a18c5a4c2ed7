//! Decoding must not allocate per record: this test binary installs a global allocator
//! that counts allocations made by the current thread, then decodes valid and malformed
//! lines (v2, a wide v5 format with IPv6, unknown fields) and asserts the count stays zero.
//! It holds a single test so no other test's thread shares the counter's window.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use flowlog::{Field, FlowRecord, S3TextFile, Schema};

struct Counting;

thread_local! {
    static ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
}

// SAFETY: forwards every call to `System` unchanged; only counts.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let _ = ALLOCATIONS.try_with(|n| n.set(n.get() + 1));
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as the caller's.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let _ = ALLOCATIONS.try_with(|n| n.set(n.get() + 1));
        // SAFETY: same contract as the caller's.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn allocations_during(work: impl FnOnce()) -> usize {
    let before = ALLOCATIONS.with(Cell::get);
    work();
    ALLOCATIONS.with(Cell::get) - before
}

const V5_FILE: &str = "version srcaddr dstaddr srcport dstport protocol start end type packets bytes account-id vpc-id subnet-id instance-id interface-id region az-id sublocation-type sublocation-id action tcp-flags pkt-srcaddr pkt-dstaddr pkt-src-aws-service pkt-dst-aws-service traffic-path flow-direction log-status future-field
5 52.95.128.179 10.0.0.71 80 34210 6 1616729292 1616729349 IPv4 14 15044 123456789012 vpc-abcdefab012345678 subnet-aaaaaaaa012345678 i-0c50d5961bcb2d47b eni-1235b8ca123456789 ap-southeast-2 apse2-az3 - - ACCEPT 19 52.95.128.179 10.0.0.71 S3 - - ingress OK x
5 2001:db8::1 2001:db8::2 34210 80 6 1616729292000 1616729349000 IPv6 7 471 123456789012 vpc-abcdefab012345678 subnet-aaaaaaaa012345678 i-0c50d5961bcb2d47b eni-1235b8ca123456789 ap-southeast-2 apse2-az3 - - ACCEPT 3 2001:db8::1 2001:db8::2 - S3 8 egress OK -
5 bogus 10.0.0.71 80 34210 6 1616729292 1616729349 IPv4 14 15044 123456789012 vpc-a subnet-a i-0 eni-1 ap-southeast-2 apse2-az3 - - ACCEPT 19 - - - - - ingress OK y
5 too few
";

const V2_LINES: [&str; 4] = [
    "2 123456789010 eni-1235b8ca123456789 172.31.16.139 172.31.16.21 20641 22 6 20 4249 1418530010 1418530070 ACCEPT OK",
    "2 123456789010 eni-1235b8ca123456789 - - - - - - - 1431280876 1431280934 - NODATA",
    "2 123456789010 eni-1235b8ca123456789 172.31.9.69 172.31.9.12 49761 3389 6 20 4249 1418530010 1418530070 DROP OK",
    "2 123456789010 eni-1235b8ca123456789 - - - - - - - 1431280876 1431280934 - NODATA extra",
];

#[test]
fn decoding_does_not_allocate_per_record() {
    // The counter sees this thread's allocations (so a zero below means something).
    assert!(allocations_during(|| drop(std::hint::black_box(vec![1u8; 16]))) > 0);
    // Schemas and the file split are built once, outside the measured window.
    let v2 = Schema::default();
    let file = S3TextFile::parse(V5_FILE).unwrap();
    let lines: Vec<&str> = file.lines().map(|(_, line)| line).collect();
    assert_eq!(lines.len(), 4);
    let fields = [
        Field::Srcaddr,
        Field::Dstaddr,
        Field::Dstport,
        Field::InterfaceId,
        Field::Action,
    ];
    let (v2_plan, wide_plan) = (v2.plan(&fields), file.schema().plan(&fields));
    let mut record = FlowRecord::default();
    let mut wide = FlowRecord::default();
    let mut planned = FlowRecord::default();
    let (mut ok, mut malformed, mut bytes) = (0usize, 0usize, 0u64);

    let allocations = allocations_during(|| {
        for _ in 0..1000 {
            for line in V2_LINES {
                match v2.decode_into(line, &mut record) {
                    Ok(()) => {
                        ok += 1;
                        bytes += record.bytes.unwrap_or(0);
                    }
                    Err(e) => {
                        malformed += 1;
                        bytes += e.column() as u64;
                    }
                }
            }
            for line in &lines {
                match file.schema().decode_into(line, &mut wide) {
                    Ok(()) => {
                        ok += 1;
                        bytes += wide
                            .extra(file.schema(), "future-field")
                            .map_or(0, str::len) as u64;
                    }
                    Err(e) => {
                        malformed += 1;
                        bytes += e.field_name().map_or(0, str::len) as u64;
                    }
                }
            }
            // The field-selective decoder, on bytes: valid, malformed (a bad value it reads,
            // too few fields) alike.
            for line in V2_LINES.iter().chain(&lines) {
                let plan = if line.starts_with("2 ") {
                    &v2_plan
                } else {
                    &wide_plan
                };
                match plan.decode(line.as_bytes(), &mut planned) {
                    Ok(()) => {
                        ok += 1;
                        bytes += u64::from(planned.dstport.unwrap_or(0));
                    }
                    Err(e) => {
                        malformed += 1;
                        bytes += e.column() as u64;
                    }
                }
            }
            for (_, decoded) in file.records() {
                ok += usize::from(decoded.is_ok());
            }
        }
    });

    // Per round the plan decodes 4 of the 8 lines: the bad values (`DROP`, `bogus`) are in
    // columns it reads, and the two field-count errors are counted like the full decoder's.
    assert_eq!((ok, malformed), (10_000, 8000));
    assert!(bytes > 0);
    assert_eq!(
        allocations, 0,
        "heap allocations while decoding 22,000 lines"
    );
}
