//! Rule-pack loading: the default pack loads, every problem in a bad pack is reported with
//! its rule, path and position, and layered packs merge and blame the right layer.

use flowkeeper_analyze::rules::Params;
use flowkeeper_analyze::{DEFAULT_PACK_YAML, PackSource, RuleError, RulePack, Severity};

fn default_text() -> String {
    let path = std::path::PathBuf::from(
        std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or_else(|| env!("CARGO_MANIFEST_DIR").into()),
    )
    .join("../../policies/detections/default.yaml");
    std::fs::read_to_string(path).expect("policies/detections/default.yaml")
}

fn errors(text: &str) -> Vec<RuleError> {
    match RulePack::from_yaml(text) {
        Ok(_) => panic!("pack should not load:\n{text}"),
        Err(e) => e,
    }
}

#[test]
fn default_pack_loads_and_is_the_built_in_one() {
    let text = default_text();
    let pack = RulePack::from_yaml(&text).unwrap_or_else(|errs| {
        panic!(
            "default pack errors:\n{}",
            errs.iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("\n")
        )
    });
    assert_eq!(text, DEFAULT_PACK_YAML);
    assert_eq!(pack.name.as_deref(), Some("flowkeeper-default"));
    assert_eq!(pack.settings.allowed_lateness, 1200);
    let kinds: Vec<&str> = pack.detectors.iter().map(|d| d.params.kind()).collect();
    for kind in flowkeeper_analyze::rules::DETECTOR_KINDS {
        assert!(kinds.contains(&kind), "default pack has no {kind} rule");
    }
    let scan = pack.detector("port-scan").expect("port-scan");
    assert_eq!(scan.window, 300);
    assert!(matches!(
        scan.params,
        Params::PortScan {
            min_ports: 25,
            probes_only: true,
            ..
        }
    ));
    let exfil = pack.detector("exfiltration").expect("exfiltration");
    assert!(matches!(
        exfil.params,
        Params::Exfiltration {
            min_bytes: 1_073_741_824,
            exclude_aws_services: true
        }
    ));
    assert_eq!(exfil.severity, Severity::High);
    RulePack::default_pack();
}

#[test]
fn every_problem_is_reported_with_its_position() {
    let text = "\
version: 1
settings:
  max_evidence: 40
networks:
  internal: [10.0.0.1/8]
detectors:
  - id: scan
    detector: port_scna
    severity: high
  - id: sweep
    detector: host_sweep
    severity: severe
    min_hosts: 0
  - id: exfil
    detector: exfiltration
    severity: high
    min_bytes: 1GiB
    allow_destinations: [203.0.113.0/24, not-a-cidr]
    windw: 5m
  - id: sweep
    detector: reject_burst
    severity: low
  - id: lateral
    detector: lateral_movement
    severity: high
    services: [ssh, telnet2]
    min_hosts: 5
";
    let errs = errors(text);
    let show: Vec<String> = errs.iter().map(ToString::to_string).collect();
    let find = |needle: &str| -> &RuleError {
        errs.iter()
            .find(|e| e.message.contains(needle))
            .unwrap_or_else(|| panic!("no error mentioning {needle:?} in:\n{}", show.join("\n")))
    };
    let at = |e: &RuleError| (e.line, e.column);

    let e = find("settings.max_evidence must be between 1 and 16");
    assert_eq!(
        (e.path.as_str(), at(e)),
        ("settings.max_evidence", (Some(3), Some(17)))
    );

    let e = find("bad CIDR `10.0.0.1/8`");
    assert!(
        e.message.contains("did you mean 10.0.0.0/8"),
        "{}",
        e.message
    );
    assert_eq!(at(e), (Some(5), Some(14)));

    let e = find("unknown detector `port_scna`");
    assert!(
        e.message.contains("did you mean `port_scan`"),
        "{}",
        e.message
    );
    assert_eq!(
        (e.rule.as_deref(), at(e)),
        (Some("scan"), (Some(8), Some(15)))
    );

    let e = find("unknown severity `severe`");
    assert_eq!(
        (e.rule.as_deref(), e.path.as_str()),
        (Some("sweep"), "detectors[1].severity")
    );
    assert_eq!(at(e), (Some(12), Some(15)));

    let e = find("min_hosts must be at least 1");
    assert_eq!(
        (e.path.as_str(), at(e)),
        ("detectors[1].min_hosts", (Some(13), Some(16)))
    );

    let e = find("bad CIDR `not-a-cidr`");
    assert_eq!(
        (e.rule.as_deref(), at(e)),
        (Some("exfil"), (Some(18), Some(42)))
    );

    let e = find("unknown key `windw`");
    assert!(e.message.contains("did you mean `window`"), "{}", e.message);
    assert_eq!(at(e), (Some(19), Some(5)));

    let e = find("duplicate detector id `sweep`");
    assert_eq!(at(e), (Some(20), Some(9)));

    let e = find("missing the required key `min_rejects`");
    assert_eq!(e.rule.as_deref(), Some("sweep"));

    let e = find("unknown service `ssh`");
    assert_eq!(e.path, "detectors[4].services[0]");
    find("unknown service `telnet2`");

    assert_eq!(errs.len(), 11, "errors:\n{}", show.join("\n"));
    // Display: line:column: path (rule): message
    let shown = errs
        .iter()
        .find(|e| e.message.contains("severe"))
        .unwrap()
        .to_string();
    assert!(
        shown.starts_with("12:15: detectors[1].severity (sweep): unknown severity `severe`"),
        "{shown}"
    );
}

#[test]
fn zone_and_service_references_are_checked() {
    let text = "\
version: 1
services:
  pg: {ports: [5432], protocol: tcpp}
  Bad: [70000]
zones:
  - name: db
    cidrs: [10.0.3.0/24]
    accept_from:
      - {from: ap, ports: [5432]}
  - name: internet
    cidrs: [0.0.0.0/0]
  - name: db
  - name: app
    cidrs: [10.0.2.0/24]
detectors: []
";
    let errs = errors(text);
    let msgs: Vec<&str> = errs.iter().map(|e| e.message.as_str()).collect();
    let has = |s: &str| msgs.iter().any(|m| m.contains(s));
    assert!(has("protocol must be tcp"), "{msgs:?}");
    assert!(has("service name `Bad`"), "{msgs:?}");
    assert!(has("a port must be a number 0-65535"), "{msgs:?}");
    assert!(has("unknown zone `ap` (did you mean `app`?)"), "{msgs:?}");
    assert!(has("`internet` is a reserved zone name"), "{msgs:?}");
    assert!(has("duplicate zone name `db`"), "{msgs:?}");
    assert!(has("a zone needs at least one of"), "{msgs:?}");
    assert_eq!(errs.len(), 7, "{msgs:?}");
}

#[test]
fn syntax_errors_and_empty_packs() {
    let errs = errors("version: 1\ndetectors: [\n  - id: x\n");
    assert_eq!(errs.len(), 1);
    assert!(errs[0].message.starts_with("YAML syntax"), "{}", errs[0]);
    assert!(errs[0].line.is_some());
    assert!(errors("")[0].message.contains("empty"));
    let e = errors("version: 2\ndetectors: []\n");
    assert!(e[0].message.contains("version: 1"));
    assert_eq!(e[0].line, Some(1));
    assert!(errors("detectors: []\n")[0].message.contains("`version`"));
}

#[test]
fn layers_merge_by_id_and_blame_the_right_layer() {
    let base = default_text();
    let overlay = "\
settings:
  allowed_lateness: 2m
zones:
  - name: db
    cidrs: [10.0.3.0/24]
detectors:
  - id: port-scan
    min_ports: 10
    severity: high
  - id: log-nodata
    enabled: false
  - id: internal-scan
    detector: port_scan
    severity: critical
    min_ports: 5
    sources: internal
";
    let pack = RulePack::from_yaml_layers(&[
        PackSource {
            name: "default.yaml",
            text: &base,
        },
        PackSource {
            name: "site.yaml",
            text: overlay,
        },
    ])
    .unwrap_or_else(|e| panic!("{e:?}"));
    assert_eq!(pack.settings.allowed_lateness, 120);
    assert_eq!(pack.settings.max_evidence, 5); // kept from the base
    assert_eq!(pack.zones.list().len(), 1);
    let scan = pack.detector("port-scan").unwrap();
    assert_eq!(scan.severity, Severity::High);
    assert_eq!(scan.window, 300); // kept from the base
    assert!(matches!(
        scan.params,
        Params::PortScan { min_ports: 10, .. }
    ));
    assert!(!pack.detector("log-nodata").unwrap().enabled);
    assert_eq!(pack.detectors.last().unwrap().id, "internal-scan");

    let bad = "\
detectors:
  - id: port-scan
    min_ports: 0
";
    let errs = RulePack::from_yaml_layers(&[
        PackSource {
            name: "default.yaml",
            text: &base,
        },
        PackSource {
            name: "site.yaml",
            text: bad,
        },
    ])
    .unwrap_err();
    assert_eq!(errs.len(), 1, "{errs:?}");
    assert_eq!(errs[0].source.as_deref(), Some("site.yaml"));
    assert_eq!((errs[0].line, errs[0].column), (Some(3), Some(16)));
    assert_eq!(errs[0].rule.as_deref(), Some("port-scan"));
    assert!(
        errs[0]
            .to_string()
            // The path is site.yaml's (its first detector), not the merged pack's
            // (`detectors[1]`, where the default pack has port-scan): probe of session 13.
            .starts_with("site.yaml:3:16: detectors[0].min_ports (port-scan)"),
        "{}",
        errs[0]
    );

    let syntax = RulePack::from_yaml_layers(&[
        PackSource {
            name: "default.yaml",
            text: &base,
        },
        PackSource {
            name: "broken.yaml",
            text: "detectors: [\n",
        },
    ])
    .unwrap_err();
    assert_eq!(syntax[0].source.as_deref(), Some("broken.yaml"));
}
