//! The AWS regions flowkeeper knows, so that a well-formed but unknown name (`mars-north-7`,
//! `eu-wset-1`) is caught by `validate` with the nearest real names as a hint, instead of
//! failing later at an endpoint. A region AWS opens after this list was written needs a newer
//! flowkeeper; the hint says so.

use yamlcheck::{did_you_mean, similarity};

/// Every region of the commercial, China, GovCloud and ISO partitions (from botocore's
/// endpoint data, 2025).
pub const KNOWN_REGIONS: &[&str] = &[
    "af-south-1",
    "ap-east-1",
    "ap-east-2",
    "ap-northeast-1",
    "ap-northeast-2",
    "ap-northeast-3",
    "ap-south-1",
    "ap-south-2",
    "ap-southeast-1",
    "ap-southeast-2",
    "ap-southeast-3",
    "ap-southeast-4",
    "ap-southeast-5",
    "ap-southeast-6",
    "ap-southeast-7",
    "ca-central-1",
    "ca-west-1",
    "cn-north-1",
    "cn-northwest-1",
    "eu-central-1",
    "eu-central-2",
    "eu-north-1",
    "eu-south-1",
    "eu-south-2",
    "eu-west-1",
    "eu-west-2",
    "eu-west-3",
    "il-central-1",
    "me-central-1",
    "me-south-1",
    "mx-central-1",
    "sa-east-1",
    "us-east-1",
    "us-east-2",
    "us-gov-east-1",
    "us-gov-west-1",
    "us-iso-east-1",
    "us-iso-west-1",
    "us-isob-east-1",
    "us-west-1",
    "us-west-2",
];

/// Ok for a known region; otherwise the hint: the closest name when one is close ("did you
/// mean"), else the nearest few.
pub fn known(region: &str) -> Result<(), String> {
    if KNOWN_REGIONS.contains(&region) {
        return Ok(());
    }
    Err(
        did_you_mean(region, KNOWN_REGIONS.iter().copied()).unwrap_or_else(|| {
            let near: Vec<String> = nearest(region, 3)
                .iter()
                .map(|r| format!("`{r}`"))
                .collect();
            format!(
                "the nearest AWS regions are {}; if AWS opened `{region}` recently, a newer flowkeeper knows it",
                near.join(", ")
            )
        }),
    )
}

/// The `n` known regions most like `region`: the same direction (`north`) counts most, then
/// similar directions and geographies, so that `mars-north-7` is near `eu-north-1`, not
/// `me-south-1`.
fn nearest(region: &str, n: usize) -> Vec<&'static str> {
    let (geo, dir) = split(region);
    let score = |known: &str| {
        let (g, d) = split(known);
        f64::from(u8::from(d == dir)) + similarity(d, dir) + similarity(g, geo) / 2.0
    };
    let mut ranked: Vec<(f64, &'static str)> =
        KNOWN_REGIONS.iter().map(|k| (score(k), *k)).collect();
    ranked.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(b.1)));
    ranked.into_iter().take(n).map(|(_, k)| k).collect()
}

/// (`us-gov`, `west`) for `us-gov-west-1`: the geography and the direction.
fn split(region: &str) -> (&str, &str) {
    let mut parts = region.rsplitn(3, '-').skip(1);
    let dir = parts.next().unwrap_or_default();
    (parts.next().unwrap_or_default(), dir)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_regions_pass_and_unknown_ones_get_near_matches() {
        assert!(known("eu-west-1").is_ok());
        assert!(known("us-gov-west-1").is_ok());
        assert_eq!(known("eu-wset-1").unwrap_err(), "did you mean `eu-west-1`?");
        let hint = known("mars-north-7").unwrap_err();
        assert!(hint.starts_with("the nearest AWS regions are `"), "{hint}");
        assert!(hint.contains("`eu-north-1`"), "{hint}");
        assert_eq!(split("us-gov-west-1"), ("us-gov", "west"));
        assert!(hint.contains("newer flowkeeper"), "{hint}");
    }

    #[test]
    fn every_known_region_is_well_formed_and_listed_once_in_order() {
        for r in KNOWN_REGIONS {
            assert!(super::super::is_region_name(r), "{r}");
        }
        assert!(KNOWN_REGIONS.windows(2).all(|w| w[0] < w[1]));
    }
}
