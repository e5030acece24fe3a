//! Every client operation in `frontend-queries/` validates and plans against the supergraph, and
//! asks for the access the client will have.

use std::path::{Path, PathBuf};

use router::config::Limits;
use router::pipeline::prepare::OperationPreparer;
use router::supergraph::Supergraph;

fn operations(dir: &str) -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../frontend-queries")
        .join(dir);
    let mut files: Vec<PathBuf> = std::fs::read_dir(root)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "graphql"))
        .collect();
    files.sort();
    files
}

#[test]
fn client_operations_plan_against_the_supergraph() {
    let supergraph = Supergraph::parse(shop::SUPERGRAPH).unwrap();
    let preparer = OperationPreparer::new(100, Limits::default(), false);
    let needs_login = [
        "Account.graphql",
        "AddAddress.graphql",
        "Cart.graphql",
        "CancelOrder.graphql",
        "MergeGuestCart.graphql",
        "Order.graphql",
        "OrderHistory.graphql",
        "WriteReview.graphql",
        "EditReview.graphql",
        "VoteReviewHelpful.graphql",
        "ReportReview.graphql",
        "UpdateNotificationPreferences.graphql",
        "NotificationSettings.graphql",
        "RecommendedForYou.graphql",
        "CheckoutPage.graphql",
        "ChangePassword.graphql",
        "RevokeSession.graphql",
        "RevokeAllSessions.graphql",
        "TwoFactor.graphql",
        "StartTotp.graphql",
        "ConfirmTotp.graphql",
        "DisableTotp.graphql",
        "ChangeEmail.graphql",
        "RequestEmailVerification.graphql",
    ];
    let storefront = operations("storefront");
    let admin = operations("admin");
    assert!(storefront.len() >= 8 && admin.len() >= 5);
    for path in storefront.iter().chain(&admin) {
        let text = std::fs::read_to_string(path).unwrap();
        let prepared = preparer
            .prepare_operation_with_cache(&supergraph, &text, None)
            .unwrap_or_else(|e| panic!("{}: {e:?}", path.display()));
        let name = path.file_name().unwrap().to_str().unwrap();
        let is_admin = path.parent().unwrap().ends_with("admin");
        if is_admin && !prepared.operation_type().is_query() {
            // Each needs staff permissions, and nothing else.
            assert!(!prepared.access.scopes.is_empty(), "{name}");
            for groups in &prepared.access.scopes {
                assert!(
                    groups.len() == 1
                        && groups[0]
                            .iter()
                            .all(|s| auth::Permission::parse(s).is_some()),
                    "{name}: {groups:?}"
                );
            }
        } else if !is_admin {
            assert!(prepared.access.scopes.is_empty(), "{name}");
            assert_eq!(
                prepared.access.authenticated,
                needs_login.contains(&name),
                "{name}"
            );
        }
    }
}

/// `frontend-queries/persisted-operations.json` is what `router manifest` makes of the
/// operations today; `UPDATE_MANIFEST=1` rewrites it.
#[test]
fn the_persisted_operation_manifest_is_fresh() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../frontend-queries");
    let supergraph = Supergraph::parse(shop::SUPERGRAPH).unwrap();
    let fresh = router::persisted::manifest::generate_checked(&root, &supergraph)
        .unwrap_or_else(|e| panic!("{e}"));
    let path = root.join("persisted-operations.json");
    if std::env::var_os("UPDATE_MANIFEST").is_some() {
        std::fs::write(&path, &fresh).unwrap();
    }
    assert!(
        std::fs::read_to_string(&path).unwrap() == fresh,
        "{} is stale: run `cargo run -p router -- manifest` (or UPDATE_MANIFEST=1 cargo test)",
        path.display()
    );
    let manifest = router::persisted::manifest::Manifest::load(&fresh, &supergraph).unwrap();
    let files = ["storefront", "admin", "partner"]
        .iter()
        .map(|dir| operations(dir).len())
        .sum::<usize>();
    assert_eq!(manifest.len(), files, "one entry per operation file");
}

/// The shop's demand control: every published operation (as `router costs` lists them from the
/// manifest) costs at most a quarter of the shop's maximum, lists of unknown size taken at the
/// default size, while 100 products x 100 reviews x 100 of each author's reviews is refused.
#[test]
fn client_operations_cost_less_than_the_maximum_and_a_list_bomb_does_not() {
    use router::config::DemandControl;
    use router::pipeline::cost::estimate_cost;

    let supergraph = Supergraph::parse(shop::SUPERGRAPH).unwrap();
    let demand = DemandControl::default();
    let manifest = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../frontend-queries/persisted-operations.json"),
    )
    .unwrap();
    let costs = router::persisted::manifest::costs(&manifest, &supergraph, &demand).unwrap();
    let files = ["storefront", "admin", "partner"]
        .iter()
        .map(|dir| operations(dir).len())
        .sum::<usize>();
    assert_eq!(costs.len(), files, "every published operation");
    assert!(costs.iter().all(|c| c.estimated > 0), "{costs:?}");
    let costliest = &costs[0];
    assert!(
        costliest.estimated <= shop::SHOP_MAX_COST / 4,
        "{costliest:?} leaves too little room under {}",
        shop::SHOP_MAX_COST
    );
    let preparer = OperationPreparer::new(100, Limits::default(), false);
    let cost = |text: &str| {
        let prepared = preparer
            .prepare_operation_with_cache(&supergraph, text, None)
            .unwrap();
        estimate_cost(
            &supergraph.api_schema,
            &prepared,
            &Default::default(),
            &demand,
        )
    };
    let bomb = "{ products(first: 100) { edges { node { reviews(first: 100) { edges { node {
        author { reviews(first: 100) { edges { node { id } } } } } } } } } } }";
    assert!(cost(bomb) > 100 * 100 * 100);
    // The size comes from the variables when the argument is one.
    let by_variable = "query($n: Int) { products(first: $n) { edges { node { id } } } }";
    let prepared = preparer
        .prepare_operation_with_cache(&supergraph, by_variable, None)
        .unwrap();
    let mut variables = apollo_compiler::response::JsonMap::new();
    variables.insert("n", 500.into());
    let five_hundred = estimate_cost(&supergraph.api_schema, &prepared, &variables, &demand);
    variables.insert("n", 5.into());
    let five = estimate_cost(&supergraph.api_schema, &prepared, &variables, &demand);
    assert_eq!((five_hundred, five), (1 + 500 * 2, 1 + 5 * 2));
}
