//! spec/26: the two rules on hand-checked budgets, invalid input, and every check of a
//! published selection failing alone.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use urne_budget::{
    Project, Rule, Selection, SelectionError, check_selection, exact_rule_supported, select,
};

fn projects(list: &[(u64, u64)]) -> Vec<Project> {
    list.iter()
        .map(|&(cost, approvals)| Project { cost, approvals })
        .collect()
}

fn funded(rule: Rule, budget: u64, list: &[(u64, u64)]) -> Vec<u32> {
    match select(rule, budget, &projects(list)) {
        Ok(selection) => selection.funded,
        Err(e) => panic!("{e}"),
    }
}

#[test]
fn greedy_skips_what_does_not_fit_and_goes_on() {
    // By approvals: 1 (cost 6), 0 (cost 5) does not fit in 4, 2 (cost 4) does, 3 does not.
    let list = [(5, 80), (6, 90), (4, 70), (1, 60)];
    assert_eq!(funded(Rule::Greedy, 10, &list), vec![1, 2]);
}

#[test]
fn greedy_orders_equal_approvals_by_cost_then_index() {
    let list = [(6, 50), (5, 50), (5, 50)];
    // 1 and 2 cost 5 each and come before 0: 1 then 2 fill the budget.
    assert_eq!(funded(Rule::Greedy, 10, &list), vec![1, 2]);
    assert_eq!(funded(Rule::Greedy, 6, &list), vec![1]);
}

#[test]
fn no_rule_funds_a_project_nobody_approved() {
    let list = [(1, 0), (2, 3)];
    assert_eq!(funded(Rule::Greedy, 100, &list), vec![1]);
    assert_eq!(funded(Rule::MaxApprovals, 100, &list), vec![1]);
}

#[test]
fn the_exact_rule_represents_more_supporters_than_greedy() {
    let list = [(6, 10), (5, 9), (5, 8)];
    let greedy = select(Rule::Greedy, 10, &projects(&list));
    let exact = select(Rule::MaxApprovals, 10, &projects(&list));
    let (Ok(greedy), Ok(exact)) = (greedy, exact) else {
        panic!("both rules select");
    };
    assert_eq!((greedy.funded, greedy.approvals_represented), (vec![0], 10));
    assert_eq!(
        (exact.funded.clone(), exact.approvals_represented),
        (vec![1, 2], 17)
    );
    assert_eq!((exact.money_used, exact.approvals_total), (10, 27));
}

#[test]
fn the_exact_rule_prefers_the_cheaper_then_the_earlier_set() {
    // Only one fits; {0} and {1} both have 5 approvals, and {1} is cheaper.
    assert_eq!(funded(Rule::MaxApprovals, 4, &[(4, 5), (3, 5)]), vec![1]);
    // {0} and {1} tie on approvals and cost: the earlier project wins.
    assert_eq!(funded(Rule::MaxApprovals, 3, &[(3, 5), (3, 5)]), vec![0]);
}

#[test]
fn invalid_input_is_named() {
    let field = |result: Result<Selection, SelectionError>| match result {
        Err(SelectionError::InvalidInput { field, .. }) => field,
        other => panic!("expected invalid input, got {other:?}"),
    };
    assert_eq!(field(select(Rule::Greedy, 10, &[])), "projects");
    assert_eq!(
        field(select(Rule::Greedy, 0, &projects(&[(1, 1)]))),
        "budget"
    );
    assert_eq!(
        field(select(Rule::MaxApprovals, 10, &projects(&[(1, 1), (0, 1)]))),
        "projects[1].cost"
    );
    assert_eq!(
        field(select(
            Rule::Greedy,
            10,
            &projects(&[(1, u64::MAX), (1, 1)])
        )),
        "projects"
    );
}

#[test]
fn an_exact_selection_beyond_the_limits_is_refused_not_guessed() {
    let many = vec![
        Project {
            cost: 1,
            approvals: 1
        };
        41
    ];
    assert!(!exact_rule_supported(41, (1 << 22) + 1));
    assert!(exact_rule_supported(41, 1 << 22));
    assert!(exact_rule_supported(30, u64::MAX));
    assert_eq!(
        select(Rule::MaxApprovals, (1 << 22) + 1, &many),
        Err(SelectionError::TooLarge {
            projects: 41,
            budget: (1 << 22) + 1
        })
    );
    // Greedy has no limit.
    assert!(select(Rule::Greedy, (1 << 22) + 1, &many).is_ok());
}

#[test]
fn every_check_of_a_published_selection_fails_alone() {
    let list = projects(&[(6, 10), (5, 9), (5, 8), (3, 1)]);
    let Ok(good) = select(Rule::MaxApprovals, 10, &list) else {
        panic!("selects");
    };
    assert_eq!(good.funded, vec![1, 2]);
    assert_eq!(
        check_selection(Rule::MaxApprovals, 10, &list, &good),
        Ok(())
    );
    let field_of =
        |claimed: &Selection| match check_selection(Rule::MaxApprovals, 10, &list, claimed) {
            Err(SelectionError::Mismatch { field, detail }) => (field, detail),
            other => panic!("expected a mismatch for {claimed:?}, got {other:?}"),
        };
    let with = |change: &dyn Fn(&mut Selection)| {
        let mut claimed = good.clone();
        change(&mut claimed);
        field_of(&claimed)
    };
    assert_eq!(with(&|s| s.funded = vec![1, 9]).0, "funded[1]");
    assert_eq!(with(&|s| s.funded = vec![2, 1]).0, "funded[1]");
    assert_eq!(with(&|s| s.funded = vec![1, 1]).0, "funded[1]");
    let (field, detail) = with(&|s| s.funded = vec![1]);
    assert_eq!(field, "funded");
    assert!(
        detail.contains("funds project 2, which the selection omits"),
        "{detail}"
    );
    let (field, detail) = with(&|s| s.funded = vec![0]);
    assert_eq!(field, "funded");
    assert!(
        detail.contains("funds project 0, which rule max-approvals does not"),
        "{detail}"
    );
    assert_eq!(with(&|s| s.money_used += 1).0, "money_used");
    assert_eq!(
        with(&|s| s.approvals_represented -= 1).0,
        "approvals_represented"
    );
    assert_eq!(with(&|s| s.approvals_total += 1).0, "approvals_total");
    // The greedy rule's set is a wrong claim under max-approvals, and right under greedy.
    let Ok(greedy) = select(Rule::Greedy, 10, &list) else {
        panic!("selects");
    };
    assert_eq!(field_of(&greedy).0, "funded");
    assert_eq!(check_selection(Rule::Greedy, 10, &list, &greedy), Ok(()));
}

#[test]
fn rule_names_round_trip() {
    for rule in [Rule::Greedy, Rule::MaxApprovals] {
        assert_eq!(Rule::from_name(rule.name()), Some(rule));
    }
    assert_eq!(Rule::from_name("Greedy"), None);
    for rule in [Rule::Greedy, Rule::MaxApprovals] {
        assert_eq!(Rule::from_tag(rule.tag()), Some(rule));
    }
    assert_eq!((Rule::Greedy.tag(), Rule::MaxApprovals.tag()), (1, 2));
    assert_eq!(Rule::from_tag(0), None);
    assert_eq!(Rule::from_tag(3), None);
}
