//! Every pattern rule, one behaviour per test, with OpenSSH's corner cases.

use std::net::IpAddr;

use super::*;

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

#[test]
fn star_matches_any_run_including_none() {
    assert!(glob_matches("*", ""));
    assert!(glob_matches("*", "anything"));
    assert!(glob_matches("a*", "a"));
    assert!(glob_matches("a*c", "abbbc"));
    assert!(!glob_matches("a*c", "abbb"));
}

#[test]
fn question_mark_matches_exactly_one_byte() {
    assert!(glob_matches("h?st", "host"));
    assert!(!glob_matches("h?st", "hst"));
    assert!(!glob_matches("h?st", "hoost"));
    assert!(!glob_matches("?", ""));
}

#[test]
fn glob_backtracks_to_the_last_star() {
    assert!(glob_matches("*a*b*c", "xaxbxbxc"));
    assert!(glob_matches("a*b*c", "aXbYbZc"));
    assert!(!glob_matches("a*b", "acbx"));
    assert!(glob_matches("*.*.example", "a.b.c.example"));
}

#[test]
fn glob_is_case_sensitive() {
    assert!(!glob_matches("Host", "host"));
}

#[test]
fn glob_with_many_stars_stays_fast() {
    let text = "a".repeat(5000);
    let pattern = format!("{}b", "*a".repeat(500));
    assert!(!glob_matches(&pattern, &text));
}

#[test]
fn list_matches_any_of_its_patterns() {
    assert_eq!(match_list("b", "a,b,c", false), ListMatch::Positive);
    assert_eq!(match_list("d", "a,b,c", false), ListMatch::NoMatch);
}

#[test]
fn negated_match_wins_over_an_earlier_positive_one() {
    assert_eq!(match_list("db.x", "*.x,!db.x", false), ListMatch::Negated);
    assert_eq!(match_list("db.x", "!db.x,*.x", false), ListMatch::Negated);
}

#[test]
fn negation_alone_does_not_select_other_names() {
    assert_eq!(match_list("www", "!db", false), ListMatch::NoMatch);
}

#[test]
fn empty_list_matches_nothing() {
    assert_eq!(match_list("", "", false), ListMatch::NoMatch);
    assert_eq!(match_list("a", "", false), ListMatch::NoMatch);
}

#[test]
fn empty_pattern_in_a_list_matches_only_the_empty_name() {
    assert_eq!(match_list("", "a,,b", false), ListMatch::Positive);
    assert_eq!(match_list("", ",a", false), ListMatch::Positive);
    assert_eq!(match_list("x", "a,,b", false), ListMatch::NoMatch);
}

#[test]
fn trailing_comma_adds_no_pattern() {
    assert_eq!(match_list("", "a,", false), ListMatch::NoMatch);
    assert_eq!(match_list("a", "a,", false), ListMatch::Positive);
}

#[test]
fn double_bang_negates_a_pattern_starting_with_bang() {
    assert_eq!(match_list("!a", "!!a", false), ListMatch::Negated);
}

#[test]
fn overlong_pattern_makes_the_whole_list_match_nothing() {
    let list = format!("a,{}", "b".repeat(MAX_PATTERN_LEN));
    assert_eq!(match_list("a", &list, false), ListMatch::NoMatch);
    let just_fits = format!("a,{}", "b".repeat(MAX_PATTERN_LEN - 1));
    assert_eq!(match_list("a", &just_fits, false), ListMatch::Positive);
}

#[test]
fn host_names_and_patterns_ignore_ascii_case() {
    assert_eq!(
        match_host_name("WWW.EXAMPLE.ORG", "*.Example.ORG"),
        ListMatch::Positive
    );
    assert_eq!(match_host_name("Db.X", "*.x,!DB.x"), ListMatch::Negated);
}

#[test]
fn fold_case_off_keeps_patterns_as_written() {
    assert_eq!(match_list("host", "HOST", false), ListMatch::NoMatch);
    assert_eq!(match_list("host", "HOST", true), ListMatch::Positive);
}

#[test]
fn address_list_matches_cidr_blocks() {
    let list = "10.0.0.0/8,192.168.1.1,2001:db8::/32";
    for a in ["10.1.2.3", "192.168.1.1", "2001:db8::1"] {
        assert_eq!(
            match_address_list(ip(a), list),
            Ok(ListMatch::Positive),
            "{a}"
        );
    }
    for a in ["11.0.0.1", "192.168.1.2", "2001:db9::1"] {
        assert_eq!(
            match_address_list(ip(a), list),
            Ok(ListMatch::NoMatch),
            "{a}"
        );
    }
}

#[test]
fn address_list_matches_globs_over_the_address_text() {
    assert_eq!(
        match_address_list(ip("192.0.2.77"), "192.0.2.*"),
        Ok(ListMatch::Positive)
    );
    assert_eq!(
        match_address_list(ip("2001:db8::5"), "2001:db8::?"),
        Ok(ListMatch::Positive)
    );
}

#[test]
fn zero_prefix_matches_every_address_of_the_family() {
    assert_eq!(
        match_address_list(ip("203.0.113.9"), "0.0.0.0/0"),
        Ok(ListMatch::Positive)
    );
    assert_eq!(
        match_address_list(ip("::1"), "0.0.0.0/0"),
        Ok(ListMatch::NoMatch)
    );
    assert_eq!(
        match_address_list(ip("::1"), "::/0"),
        Ok(ListMatch::Positive)
    );
}

#[test]
fn negated_cidr_block_excludes_its_addresses() {
    let list = "10.0.0.0/8,!10.9.0.0/16";
    assert_eq!(
        match_address_list(ip("10.9.1.1"), list),
        Ok(ListMatch::Negated)
    );
    assert_eq!(
        match_address_list(ip("10.8.1.1"), list),
        Ok(ListMatch::Positive)
    );
}

#[test]
fn ipv4_mapped_client_address_matches_ipv4_blocks() {
    assert_eq!(
        match_address_list(ip("::ffff:10.1.2.3"), "10.0.0.0/8"),
        Ok(ListMatch::Positive)
    );
}

#[test]
fn prefix_longer_than_the_family_makes_the_list_invalid() {
    assert!(matches!(
        match_address_list(ip("10.0.0.1"), "10.0.0.0/33"),
        Err(PatternError::InvalidCidr(_))
    ));
}

#[test]
fn cidr_block_with_host_bits_set_makes_the_list_invalid() {
    assert!(matches!(
        match_address_list(ip("10.0.0.1"), "10.0.0.1/8"),
        Err(PatternError::InvalidCidr(_))
    ));
}

#[test]
fn empty_entries_make_an_address_list_invalid() {
    for list in ["", "10.0.0.1,", ",10.0.0.1", "a,,b", "!"] {
        assert_eq!(
            match_address_list(ip("10.0.0.1"), list),
            Err(PatternError::EmptyEntry),
            "{list:?}"
        );
    }
}

#[test]
fn negated_match_before_an_invalid_entry_decides_the_list() {
    assert_eq!(
        match_address_list(ip("10.0.0.1"), "!10.0.0.1,"),
        Ok(ListMatch::Negated)
    );
}

#[test]
fn malformed_prefix_is_read_as_a_glob() {
    // Not CIDR (the prefix is not a number), so it is a glob that matches nothing.
    assert_eq!(
        match_address_list(ip("10.0.0.1"), "10.0.0.0/x"),
        Ok(ListMatch::NoMatch)
    );
    assert_eq!(
        match_address_list(ip("10.0.0.1"), "10.0.0.0/"),
        Ok(ListMatch::NoMatch)
    );
}

#[test]
fn from_list_accepts_a_matching_host_name() {
    let client = ip("198.51.100.4");
    assert_eq!(
        match_host_and_address("build.example.org", client, "*.example.org"),
        Ok(true)
    );
}

#[test]
fn from_list_accepts_a_matching_address() {
    let client = ip("198.51.100.4");
    assert_eq!(
        match_host_and_address("198.51.100.4", client, "198.51.100.0/24"),
        Ok(true)
    );
}

#[test]
fn from_list_refuses_a_negated_host_even_if_the_address_matches() {
    let client = ip("198.51.100.4");
    assert_eq!(
        match_host_and_address("bad.example.org", client, "198.51.100.0/24,!bad.*"),
        Ok(false)
    );
}

#[test]
fn from_list_refuses_a_negated_address_even_if_the_host_matches() {
    let client = ip("198.51.100.4");
    assert_eq!(
        match_host_and_address("ok.example.org", client, "*.example.org,!198.51.100.4"),
        Ok(false)
    );
}

#[test]
fn from_list_refuses_a_client_that_matches_nothing() {
    let client = ip("203.0.113.1");
    assert_eq!(
        match_host_and_address("203.0.113.1", client, "10.0.0.0/8,*.example.org"),
        Ok(false)
    );
}

#[test]
fn from_list_with_an_invalid_block_is_an_error() {
    let client = ip("10.0.0.1");
    assert!(match_host_and_address("10.0.0.1", client, "10.0.0.0/40").is_err());
}

/// OpenSSH's recursive `match_pattern`, as a reference for the iterative glob.
fn reference_glob(pattern: &[u8], text: &[u8]) -> bool {
    match pattern.split_first() {
        None => text.is_empty(),
        Some((b'*', rest)) => (0..=text.len()).any(|skip| reference_glob(rest, &text[skip..])),
        Some((&c, rest)) => match text.split_first() {
            Some((&t, text_rest)) if c == b'?' || c == t => reference_glob(rest, text_rest),
            _ => false,
        },
    }
}

#[test]
fn glob_agrees_with_openssh_recursive_matcher_on_random_inputs() {
    use crate::crypto::SeededRandom;
    let rng = &mut SeededRandom::new(11);
    let pick = |rng: &mut SeededRandom, alphabet: &[u8], max: u64| -> String {
        let len = rng.next_u64() % (max + 1);
        (0..len)
            .map(|_| char::from(alphabet[(rng.next_u64() % alphabet.len() as u64) as usize]))
            .collect()
    };
    for _ in 0..20_000 {
        let pattern = pick(rng, b"ab*?", 7);
        let text = pick(rng, b"ab", 8);
        assert_eq!(
            glob_matches(&pattern, &text),
            reference_glob(pattern.as_bytes(), text.as_bytes()),
            "{pattern:?} vs {text:?}"
        );
    }
}
