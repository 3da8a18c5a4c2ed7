//! The audit renderers (OCSF, HTML) on a hand-made report with every status and hostile
//! values; CSV's own tests are in `src/report/audit_csv.rs`.

mod audit_sample;

use audit_sample::{HOSTILE_ID, HOSTILE_REQUIREMENT, HOSTILE_TEXT};
use flowkeeper::report::{audit_html, audit_ocsf};
use serde_json::Value;

/// The attributes OCSF 1.3.0 requires of a Compliance Finding (class 2003): the base event's
/// (classification, occurrence, metadata, severity), the finding's (`finding_info`), the
/// class's own (`compliance`), and the `cloud` profile's; then the required members of the
/// objects they hold. Read from the schema (events/base_event.json, includes/classification.json,
/// includes/occurrence.json, events/findings/finding.json, events/findings/compliance_finding.json,
/// profiles/cloud.json, objects/{metadata,product,finding_info,compliance,cloud}.json).
const REQUIRED: &[&str] = &[
    "/activity_id",
    "/category_uid",
    "/class_uid",
    "/type_uid",
    "/time",
    "/severity_id",
    "/metadata",
    "/metadata/version",
    "/metadata/product",
    "/metadata/product/vendor_name",
    "/finding_info",
    "/finding_info/uid",
    "/finding_info/title",
    "/compliance",
    "/compliance/standards",
    "/cloud",
    "/cloud/provider",
];

/// What the task asks of every finding beyond the schema's minimum.
const EXPECTED: &[&str] = &[
    "/metadata/product/name",
    "/metadata/product/version",
    "/metadata/uid",
    "/severity",
    "/compliance/status_id",
    "/compliance/status",
    "/compliance/status_code",
    "/finding_info/desc",
    "/resources/0/uid",
    "/resources/0/type",
    "/resources/0/region",
    "/cloud/account/uid",
];

fn findings() -> Vec<Value> {
    let text = audit_ocsf::render(&audit_sample::report());
    assert!(text.ends_with('\n'));
    text.lines()
        .enumerate()
        .map(|(i, line)| {
            serde_json::from_str(line).unwrap_or_else(|e| panic!("line {}: {e}: {line}", i + 1))
        })
        .collect()
}

#[test]
fn ocsf_every_line_is_a_compliance_finding_with_the_required_attributes() {
    let all = findings();
    assert_eq!(all.len(), audit_sample::resources().len());
    for f in &all {
        for path in REQUIRED.iter().chain(EXPECTED) {
            let v = f.pointer(path);
            assert!(
                v.is_some_and(|v| !v.is_null() && v != "" && v != &Value::Array(vec![])),
                "{path} missing in {f:#}"
            );
        }
        assert_eq!(f["class_uid"], 2003);
        assert_eq!(f["category_uid"], 2);
        assert_eq!(f["activity_id"], 1);
        assert_eq!(f["type_uid"], 200301);
        assert_eq!(f["metadata"]["version"], "1.3.0");
        assert_eq!(f["metadata"]["product"]["name"], "flowkeeper");
        assert_eq!(
            f["time"], 1_772_600_767_000_i64,
            "2026-03-04T05:06:07Z in ms"
        );
        assert_eq!(f["cloud"]["provider"], "AWS");
        assert!(
            f["compliance"]["standards"]
                .as_array()
                .is_some_and(|s| !s.is_empty())
        );
        assert!(
            f.to_string().find(":null").is_none(),
            "no null members: {f}"
        );
    }
}

fn by_id<'a>(all: &'a [Value], id: &str) -> &'a Value {
    all.iter()
        .find(|f| f["resources"][0]["name"] == id)
        .unwrap_or_else(|| panic!("no finding for {id}"))
}

#[test]
fn ocsf_status_severity_and_compliance_follow_the_verdict() {
    let all = findings();
    let cases = [
        ("vpc-0a", 1, "Pass", 1, "compliant"),
        ("vpc-0b", 3, "Fail", 3, "non-compliant"),
        ("vpc-0c", 99, "Shared", 1, "shared"),
        ("vpc-0d", 99, "Unused", 1, "unused"),
        ("vpc-0e", 99, "Out of scope", 1, "out-of-scope"),
    ];
    for (id, status_id, status, severity_id, code) in cases {
        let f = by_id(&all, id);
        assert_eq!(f["compliance"]["status_id"], status_id, "{id}");
        assert_eq!(f["compliance"]["status"], status, "{id}");
        assert_eq!(f["compliance"]["status_code"], code, "{id}");
        assert_eq!(f["status_code"], code, "{id}");
        assert_eq!(f["severity_id"], severity_id, "{id}");
    }
    let b = by_id(&all, "vpc-0b");
    assert_eq!(b["compliance"]["control"], "3.7, EC2.6");
    assert_eq!(
        b["compliance"]["requirements"],
        serde_json::json!(["cis-aws-foundations 3.7 (v3.0.0)", "aws-fsbp EC2.6"])
    );
    assert_eq!(
        b["compliance"]["standards"],
        serde_json::json!([
            "CIS Amazon Web Services Foundations Benchmark v3.0.0",
            "AWS Foundational Security Best Practices"
        ])
    );
    let desc = b["finding_info"]["desc"].as_str().unwrap_or_default();
    assert!(
        desc.contains("fl-2 logs ACCEPT traffic; REJECT is required"),
        "{desc}"
    );
    assert!(
        desc.contains("fl-3 delivery FAILED: Access error"),
        "{desc}"
    );
    assert!(b["remediation"]["desc"].is_string());
    assert!(by_id(&all, "vpc-0a").get("remediation").is_none());
    // Regression: a baseline's out-of-scope resource is not said to lack a config entry.
    let e = by_id(&all, "vpc-0e")["compliance"]["status_detail"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(!e.contains("config entry"), "{e}");
    assert!(e.contains("Baseline cis-aws-foundations holds"), "{e}");
    // A compliant resource names the baseline it was held to.
    assert_eq!(
        by_id(&all, "vpc-0a")["compliance"]["standards"],
        serde_json::json!(["CIS Amazon Web Services Foundations Benchmark"])
    );
}

#[test]
fn ocsf_resources_are_arns_in_the_owners_account_and_uids_are_stable() {
    let all = findings();
    let get = |id: &str| by_id(&all, id)["resources"][0]["uid"].clone();
    assert_eq!(
        get("vpc-0a"),
        "arn:aws:ec2:eu-west-1:111111111111:vpc/vpc-0a"
    );
    assert_eq!(
        get("subnet-0a1"),
        "arn:aws:ec2:eu-west-1:111111111111:subnet/subnet-0a1"
    );
    assert_eq!(
        get("eni-0a1"),
        "arn:aws:ec2:eu-west-1:111111111111:network-interface/eni-0a1"
    );
    // Shared: the VPC lives in its owner's account; the finding is about the audited one.
    let shared = by_id(&all, "vpc-0c");
    assert_eq!(
        shared["resources"][0]["uid"],
        "arn:aws:ec2:eu-west-1:222222222222:vpc/vpc-0c"
    );
    assert_eq!(
        shared["resources"][0]["owner"]["account"]["uid"],
        "222222222222"
    );
    assert_eq!(shared["cloud"]["account"]["uid"], "111111111111");
    assert_eq!(
        by_id(&all, "eni-0a1")["resources"][0]["type"],
        "AwsEc2NetworkInterface"
    );

    let uids: Vec<&Value> = all.iter().map(|f| &f["finding_info"]["uid"]).collect();
    let mut unique = uids.clone();
    unique.sort_by_key(|v| v.to_string());
    unique.dedup();
    assert_eq!(unique.len(), uids.len(), "one uid per resource");
    assert_eq!(
        by_id(&all, "vpc-0a")["finding_info"]["uid"],
        "flowkeeper:audit:cis-aws-foundations:111111111111:eu-west-1:vpc-0a"
    );
    // Same resource, same baseline, another run: same finding uid, another event uid.
    let mut later = audit_sample::report();
    later.generated_at = "2026-03-05T00:00:00Z".into();
    let again: Vec<Value> = audit_ocsf::render(&later)
        .lines()
        .map(|l| serde_json::from_str(l).expect("json"))
        .collect();
    assert_eq!(
        again[0]["finding_info"]["uid"],
        all[0]["finding_info"]["uid"]
    );
    assert_ne!(again[0]["metadata"]["uid"], all[0]["metadata"]["uid"]);
    // Another baseline: another finding.
    let mut other = audit_sample::report();
    other.baseline = Some("aws-fsbp".into());
    let first: Value =
        serde_json::from_str(audit_ocsf::render(&other).lines().next().unwrap_or("{}"))
            .expect("json");
    assert_ne!(first["finding_info"]["uid"], all[0]["finding_info"]["uid"]);
}

#[test]
fn ocsf_partition_follows_the_region() {
    let mut r = audit_sample::report();
    r.resources.truncate(1);
    r.resources[0].region = "cn-north-1".into();
    let f: Value = serde_json::from_str(audit_ocsf::render(&r).trim()).expect("json");
    assert_eq!(
        f["resources"][0]["uid"],
        "arn:aws-cn:ec2:cn-north-1:111111111111:vpc/vpc-0a"
    );
}

#[test]
fn ocsf_hostile_values_stay_data() {
    let all = findings();
    let h = by_id(&all, HOSTILE_ID);
    assert_eq!(h["resources"][0]["name"], HOSTILE_ID);
    assert!(
        h["finding_info"]["desc"]
            .as_str()
            .is_some_and(|d| d.contains(HOSTILE_TEXT))
    );
}

#[test]
fn html_hostile_values_are_escaped_by_the_engine() {
    let html = audit_html::render(&audit_sample::report());
    for raw in [
        HOSTILE_ID,
        HOSTILE_TEXT,
        HOSTILE_REQUIREMENT,
        "<b>FlowkeeperAudit</b>",
    ] {
        assert!(!html.contains(raw), "{raw} came out unescaped");
    }
    for bad in [
        "<script>alert",
        "<img src=x",
        "<script>document.title",
        "<b>",
    ] {
        assert!(!html.contains(bad), "{bad} in the page");
    }
    // Exactly one script element: the page's own filter.
    assert_eq!(html.matches("<script").count(), 1, "{html}");
    // Template syntax inside a value is text, not evaluated.
    assert!(
        html.contains("{{ 7*7 }}"),
        "template syntax in a value is shown as text"
    );
    assert!(!html.contains(">49<") && !html.contains(" 49 "));
    assert!(html.contains("{% if true %}x{% endif %}"));
    // The escaped forms are there (minijinja escapes & < > " ' and /).
    assert!(
        html.contains("vpc-&lt;script&gt;alert(1)&lt;&#x2f;script&gt;"),
        "{html}"
    );
    assert!(
        html.contains("&quot;quoted&#x27; &amp; {{ 7*7 }}"),
        "{html}"
    );
    assert!(html.contains("AccessDenied assuming &lt;b&gt;FlowkeeperAudit&lt;&#x2f;b&gt;"));
}

#[test]
fn html_has_summary_chart_errors_and_a_filterable_row_per_resource() {
    let report = audit_sample::report();
    let html = audit_html::render(&report);
    assert!(
        html.contains("10 resources, 4 compliant, 3 non-compliant"),
        "{html}"
    );
    assert!(html.contains("coverage 57.1 %"), "{html}");
    // One bar per account/region, widths from the counts (111111111111: 3+2 of 8).
    assert_eq!(html.matches("class=\"bar\"").count(), report.summary.len());
    assert!(html.contains("style=\"width: 37.50%\""), "{html}");
    assert!(html.contains("style=\"width: 25.00%\""));
    assert!(html.contains("1 target could not be audited"));
    assert!(html.contains("444444444444 &#x2f; ap-southeast-2"));
    assert!(html.contains("check the role&#x27;s trust policy"));
    assert_eq!(
        html.matches("<tr data-status=").count(),
        report.resources.len()
    );
    for s in [
        "compliant",
        "non-compliant",
        "shared",
        "unused",
        "out-of-scope",
    ] {
        assert!(html.contains(&format!("<option value=\"{s}\">")), "{s}");
    }
    assert!(html.contains("<option value=\"non-compliant\">non-compliant (3)</option>"));
    assert!(
        html.contains("owner <code>222222222222</code>"),
        "shared VPC names its owner"
    );
    assert!(html.contains("cis-aws-foundations 3.7 (v3.0.0), aws-fsbp EC2.6"));
    // Self-contained: nothing is fetched.
    for fetch in [
        "src=\"http",
        "href=\"http",
        "src=\"//",
        "url(",
        "@import",
        "fetch(",
        "XMLHttpRequest",
    ] {
        assert!(!html.contains(fetch), "{fetch}");
    }
    assert!(html.contains("Content-Security-Policy\" content=\"default-src 'none'"));
}
