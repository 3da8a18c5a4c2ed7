//! A role that cannot be assumed, with moto's IAM enforcement switched on (this test binary has
//! its own moto server, so enforcement affects no other test): the account is reported with the
//! AWS error code and a hint, and every other account is fully applied.

mod support;

use support::{Account, expect_exit, fresh_account_id, moto_api, workdir};

const ALLOW_ALL: &str =
    r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#;

#[tokio::test]
async fn a_role_that_cannot_be_assumed_fails_only_its_account() {
    let [good_a, denied, good_b] = [fresh_account_id(), fresh_account_id(), fresh_account_id()];
    // The identity flowkeeper runs as: an IAM user allowed everything except assuming roles
    // in the denied account.
    let root = Account::with_keys("123456789012", "testing", "testing");
    let iam = root.iam();
    iam.create_user().user_name("runner").send().await.unwrap();
    let deny = format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Action":"*","Resource":"*"}},{{"Effect":"Deny","Action":"sts:AssumeRole","Resource":"arn:aws:iam::{denied}:role/*"}}]}}"#
    );
    iam.put_user_policy()
        .user_name("runner")
        .policy_name("runner")
        .policy_document(deny)
        .send()
        .await
        .unwrap();
    let key = iam
        .create_access_key()
        .user_name("runner")
        .send()
        .await
        .unwrap()
        .access_key
        .unwrap();
    let runner = Account::with_keys("123456789012", &key.access_key_id, &key.secret_access_key);
    // The role flowkeeper assumes in each reachable account, with its permissions.
    for id in [&good_a, &good_b] {
        let acct = Account::assume_as(id, runner.credentials(), "FlowkeeperAdmin").await;
        let trust = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:user/runner"},"Action":"sts:AssumeRole"}]}"#;
        acct.iam()
            .create_role()
            .role_name("FlowkeeperAdmin")
            .assume_role_policy_document(trust)
            .send()
            .await
            .unwrap();
        acct.iam()
            .put_role_policy()
            .role_name("FlowkeeperAdmin")
            .policy_name("all")
            .policy_document(ALLOW_ALL)
            .send()
            .await
            .unwrap();
        acct.seed_vpc("us-east-1", 1, &[]).await;
    }
    assert!(
        moto_api("/moto-api/reset-auth", "0").contains("200"),
        "IAM enforcement switched on"
    );

    let dir = workdir(&format!(
        "version: 1\nregions: [us-east-1]\ndefaults: {{ role_name: FlowkeeperAdmin }}\naccounts:\n  - {{ id: \"{good_a}\" }}\n  - {{ id: \"{denied}\" }}\n  - {{ id: \"{good_b}\" }}\ndestinations:\n  archive:\n    type: s3\n    bucket: denied-test-{{account_id}}\n    create: true\nflow_logs:\n  - name: vpcs\n    resource: vpc\n    select: all\n    destinations: [archive]\n"
    ));
    let (out, err) = expect_exit(&runner.run(dir.path(), &["apply", "--yes"]), 1);
    assert!(
        err.contains(&format!("[{denied}] sts:AssumeRole failed: AccessDenied")),
        "{err}"
    );
    assert!(err.contains("hint:"), "{err}");
    assert!(err.contains("1 account(s) could not be worked on"), "{err}");
    assert!(
        out.contains("Apply finished:") && out.contains("0 failed"),
        "{out}"
    );
    for id in [&good_a, &good_b] {
        let acct = Account::assume_as(id, runner.credentials(), "FlowkeeperAdmin").await;
        let vpcs = acct
            .ec2("us-east-1")
            .describe_vpcs()
            .send()
            .await
            .unwrap()
            .vpcs
            .unwrap_or_default();
        let fls = acct.flow_logs("us-east-1").await;
        assert_eq!(fls.len(), vpcs.len(), "every VPC of {id} is logged");
    }
}
