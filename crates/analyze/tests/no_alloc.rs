//! The hot path does not allocate per record: with every detector of the default pack (and
//! trust zones) running, a second pass over records whose keys already exist allocates
//! nothing. New keys may allocate (map growth, spilled sets); a record for a known key may
//! not. This binary installs a global allocator that counts the current thread's
//! allocations and holds a single test, so no other test shares the counter.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use flowkeeper_analyze::{DEFAULT_PACK_YAML, Engine, Origin, PackSource, RulePack};
use flowlog::{FlowRecord, Schema};

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

const ZONES: &str = "
zones:
  - name: web
    cidrs: [10.0.1.0/24]
    accept_from: [{from: internet, ports: [443]}]
  - name: db
    cidrs: [10.0.3.0/24]
    accept_from: [{from: app, ports: [5432]}]
  - name: app
    cidrs: [10.0.2.0/24]
";

const HEADER: &str = "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status vpc-id subnet-id tcp-flags flow-direction pkt-dst-aws-service";

#[test]
fn known_keys_allocate_nothing() {
    let pack = RulePack::from_yaml_layers(&[
        PackSource {
            name: "default",
            text: DEFAULT_PACK_YAML,
        },
        PackSource {
            name: "zones",
            text: ZONES,
        },
    ])
    .unwrap();
    let schema = Schema::from_header(HEADER).unwrap();
    let t = 1_793_491_200u64;
    let mut lines = Vec::new();
    for i in 0..400u64 {
        let s = t + i % 200;
        let e = s + 5;
        lines.push(match i % 8 {
            0 => format!("5 1 eni-a 203.0.113.1 10.0.1.10 40000 {} 6 1 40 {s} {e} REJECT OK vpc-1 subnet-1 2 ingress -", 1000 + i / 8),
            1 => format!("5 1 eni-b 10.0.5.9 10.0.2.{} 41000 22 6 20 5000 {s} {e} ACCEPT OK vpc-1 subnet-2 3 egress -", i / 8),
            2 => format!("5 1 eni-c 10.0.3.{} 185.199.108.{} 42000 443 6 9000 400000000 {s} {e} ACCEPT OK vpc-1 subnet-3 3 egress -", i % 3, i % 2),
            3 => format!("5 1 eni-d 198.51.100.{} 10.0.1.{} 43000 22 6 9 900 {s} {e} ACCEPT OK vpc-1 subnet-1 3 ingress -", i % 50, i % 5),
            4 => format!("5 1 eni-e 10.0.1.{} 10.0.3.10 44000 5432 6 9 900 {s} {e} ACCEPT OK vpc-1 subnet-1 3 egress -", i % 7),
            // NODATA for a 10-minute interval (log-nodata counts the time covered).
            5 => format!("5 1 eni-f{} - - - - - - - {s} {} - NODATA - - - - -", i % 4, s + 600),
            6 => format!("5 1 eni-g 10.0.2.{} 52.216.1.1 45000 443 6 9 900000 {s} {e} ACCEPT OK vpc-1 subnet-2 3 egress S3", i % 9),
            _ => format!("5 1 eni-h 198.51.100.77 10.0.1.10 50000 23 6 9 900 {s} {e} ACCEPT OK vpc-1 subnet-1 3 ingress -"),
        });
    }
    let records: Vec<FlowRecord<'_>> = lines.iter().map(|l| schema.decode(l).unwrap()).collect();
    let mut engine = Engine::new(&pack);
    for (n, r) in records.iter().enumerate() {
        engine.observe(r, Origin::new(0, n as u64 + 2));
    }
    let allocated = allocations_during(|| {
        for _ in 0..3 {
            for (n, r) in records.iter().enumerate() {
                engine.observe(r, Origin::new(0, n as u64 + 2));
            }
        }
    });
    assert_eq!(allocated, 0, "allocations on the hot path for known keys");
    let analysis = engine.finish();
    let kinds: std::collections::BTreeSet<&str> =
        analysis.findings.iter().map(|f| f.kind).collect();
    for kind in [
        "port_scan",
        "lateral_movement",
        "exfiltration",
        "admin_port_exposure",
        "trust_zones",
        "insecure_protocol",
        "log_health",
    ] {
        assert!(
            kinds.contains(kind),
            "the workload should exercise {kind}: {kinds:?}"
        );
    }
}
