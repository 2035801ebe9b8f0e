//! The options field: every option, quoting and comma rule.

use crate::authorized_keys::{
    EnvVar, ForwardPermission, KeyOptions, OptionError, Permissions, TunnelDevice,
};

fn parse(field: &str) -> KeyOptions {
    KeyOptions::parse(field).unwrap()
}

fn grants(field: &str) -> Permissions {
    parse(field).permissions
}

fn error(field: &str) -> OptionError {
    KeyOptions::parse(field).unwrap_err()
}

fn permit(host: &str, port: Option<u16>) -> ForwardPermission {
    ForwardPermission {
        host: host.into(),
        port,
    }
}

#[test]
fn empty_field_grants_everything() {
    let options = parse("");
    assert_eq!(options, KeyOptions::default());
    let p = options.permissions;
    assert!(p.pty && p.port_forwarding && p.agent_forwarding && p.x11_forwarding && p.user_rc);
    assert!(!options.cert_authority);
}

#[test]
fn each_no_flag_withdraws_its_permission() {
    assert!(!grants("no-pty").pty);
    assert!(!grants("no-port-forwarding").port_forwarding);
    assert!(!grants("no-agent-forwarding").agent_forwarding);
    assert!(!grants("no-X11-forwarding").x11_forwarding);
    assert!(!grants("no-user-rc").user_rc);
}

#[test]
fn no_flag_leaves_the_other_permissions() {
    let p = grants("no-pty");
    assert!(p.port_forwarding && p.agent_forwarding && p.x11_forwarding && p.user_rc);
}

#[test]
fn option_names_ignore_case() {
    assert!(!grants("NO-PTY").pty);
    assert!(!grants("No-X11-Forwarding").x11_forwarding);
    assert!(parse("CERT-AUTHORITY").cert_authority);
    assert_eq!(grants("COMMAND=\"x\"").force_command.as_deref(), Some("x"));
}

#[test]
fn restrict_withdraws_every_permission() {
    let p = grants("restrict");
    assert!(p.restricted);
    assert!(!(p.pty || p.port_forwarding || p.agent_forwarding || p.x11_forwarding || p.user_rc));
}

#[test]
fn positive_options_after_restrict_grant_again() {
    assert!(grants("restrict,pty").pty);
    assert!(grants("restrict,port-forwarding").port_forwarding);
    assert!(grants("restrict,agent-forwarding").agent_forwarding);
    assert!(grants("restrict,X11-forwarding").x11_forwarding);
    assert!(grants("restrict,user-rc").user_rc);
    let p = grants("restrict,pty");
    assert!(!p.port_forwarding && !p.agent_forwarding);
}

#[test]
fn restrict_after_a_positive_option_withdraws_it() {
    assert!(!grants("pty,restrict").pty);
}

#[test]
fn cert_authority_is_a_flag() {
    assert!(parse("cert-authority").cert_authority);
}

#[test]
fn cert_authority_cannot_be_negated() {
    assert_eq!(
        error("no-cert-authority"),
        OptionError::Unknown("no-cert-authority".into())
    );
}

#[test]
fn touch_required_flags_are_stored_inverted() {
    assert!(grants("no-touch-required").no_touch_required);
    assert!(!grants("no-touch-required,touch-required").no_touch_required);
}

#[test]
fn verify_required_can_be_set_and_unset() {
    assert!(grants("verify-required").verify_required);
    assert!(!grants("verify-required,no-verify-required").verify_required);
}

#[test]
fn command_value_keeps_escaped_quotes() {
    assert_eq!(
        grants(r#"command="echo \"hi there\"""#)
            .force_command
            .as_deref(),
        Some(r#"echo "hi there""#)
    );
}

#[test]
fn commas_and_blanks_inside_quotes_are_literal() {
    let p = grants(r#"command="a, b	c",no-pty"#);
    assert_eq!(p.force_command.as_deref(), Some("a, b\tc"));
    assert!(!p.pty);
}

#[test]
fn backslash_before_anything_but_a_quote_is_literal() {
    assert_eq!(
        grants(r#"command="a\b\\n""#).force_command.as_deref(),
        Some(r"a\b\\n")
    );
}

#[test]
fn value_may_be_empty() {
    assert_eq!(grants(r#"command="""#).force_command.as_deref(), Some(""));
}

#[test]
fn value_may_hold_non_ascii_text() {
    assert_eq!(
        grants("command=\"écho ✓\"").force_command.as_deref(),
        Some("écho ✓")
    );
}

#[test]
fn value_must_be_quoted() {
    assert_eq!(
        error("command=ls"),
        OptionError::MissingStartQuote("command")
    );
}

#[test]
fn unclosed_quote_is_refused() {
    assert_eq!(
        error(r#"command="ls"#),
        OptionError::MissingEndQuote("command")
    );
    assert_eq!(error(r#"from="a\""#), OptionError::MissingEndQuote("from"));
}

#[test]
fn command_principals_and_from_may_appear_once() {
    assert_eq!(
        error(r#"command="a",command="a""#),
        OptionError::Duplicate("command")
    );
    assert_eq!(
        error(r#"principals="a",principals="b""#),
        OptionError::Duplicate("principals")
    );
    assert_eq!(
        error(r#"from="a",from="b""#),
        OptionError::Duplicate("from")
    );
}

#[test]
fn from_and_principals_are_kept_as_written() {
    let options =
        parse(r#"from="*.example.org,!bad.example.org,10.0.0.0/8",principals="alice,bob""#);
    assert_eq!(
        options.from.as_deref(),
        Some("*.example.org,!bad.example.org,10.0.0.0/8")
    );
    assert_eq!(options.principals.as_deref(), Some("alice,bob"));
}

#[test]
fn environment_sets_name_and_value() {
    assert_eq!(
        grants(r#"environment="PATH=/bin:/usr/bin",environment="A_1=x=y""#).environment,
        [
            EnvVar {
                name: "PATH".into(),
                value: "/bin:/usr/bin".into()
            },
            EnvVar {
                name: "A_1".into(),
                value: "x=y".into()
            },
        ]
    );
}

#[test]
fn first_definition_of_an_environment_name_wins() {
    let env = grants(r#"environment="A=1",environment="A=2""#).environment;
    assert_eq!(env.len(), 1);
    assert_eq!(env[0].value, "1");
}

#[test]
fn environment_needs_a_valid_name_and_an_equals_sign() {
    for bad in ["NOEQUALS", "=value", "BAD-NAME=x", "SP ACE=x"] {
        assert_eq!(
            error(&format!(r#"environment="{bad}""#)),
            OptionError::InvalidEnvironment(bad.into()),
            "{bad}"
        );
    }
}

#[test]
fn too_many_environment_options_are_refused() {
    let field: Vec<String> = (0..1027)
        .map(|i| format!(r#"environment="V{i}=x""#))
        .collect();
    assert_eq!(error(&field.join(",")), OptionError::TooManyEnvironment);
}

#[test]
fn permitopen_takes_host_and_port() {
    assert_eq!(
        grants(r#"permitopen="db.internal:5432""#).permit_open,
        [permit("db.internal", Some(5432))]
    );
}

#[test]
fn permitopen_accepts_wildcard_host_and_port() {
    assert_eq!(
        grants(r#"permitopen="*:80",permitopen="h:*""#).permit_open,
        [permit("*", Some(80)), permit("h", None)]
    );
}

#[test]
fn permitopen_accepts_bracketed_ipv6_and_slash_separator() {
    assert_eq!(
        grants(r#"permitopen="[2001:db8::1]:22",permitopen="h/8080""#).permit_open,
        [permit("2001:db8::1", Some(22)), permit("h", Some(8080))]
    );
}

#[test]
fn permitopen_needs_a_valid_port() {
    for bad in ["h", "h:", "h:0", "h:65536", "h:http", "h:-1", "h:+80"] {
        assert_eq!(
            error(&format!(r#"permitopen="{bad}""#)),
            OptionError::InvalidPermitPort(bad.into()),
            "{bad}"
        );
    }
}

#[test]
fn permitopen_needs_a_well_formed_host() {
    for bad in ["[::1", "[::1]x:22"] {
        assert_eq!(
            error(&format!(r#"permitopen="{bad}""#)),
            OptionError::InvalidPermitHost(bad.into()),
            "{bad}"
        );
    }
    let long = format!("{}:22", "h".repeat(1025));
    assert_eq!(
        error(&format!(r#"permitopen="{long}""#)),
        OptionError::InvalidPermitHost(long)
    );
}

#[test]
fn permitlisten_bare_port_means_any_host() {
    assert_eq!(
        grants(r#"permitlisten="8080""#).permit_listen,
        [permit("*", Some(8080))]
    );
}

#[test]
fn permitlisten_takes_host_and_port() {
    assert_eq!(
        grants(r#"permitlisten="localhost:*",permitlisten="[::1]:9000""#).permit_listen,
        [permit("localhost", None), permit("::1", Some(9000))]
    );
}

#[test]
fn permitlisten_needs_a_valid_port() {
    assert_eq!(
        error(r#"permitlisten="0""#),
        OptionError::InvalidPermitPort("0".into())
    );
}

#[test]
fn expiry_time_is_read_as_utc() {
    assert_eq!(
        parse(r#"expiry-time="20240101""#).expiry_time,
        Some(1_704_067_200)
    );
}

#[test]
fn earliest_expiry_time_wins() {
    let options = parse(r#"expiry-time="20300101",expiry-time="20250101",expiry-time="20350101""#);
    assert_eq!(options.expiry_time, Some(1_735_689_600));
}

#[test]
fn invalid_expiry_time_is_refused() {
    assert_eq!(
        error(r#"expiry-time="2024-01-01""#),
        OptionError::InvalidExpiryTime("2024-01-01".into())
    );
}

#[test]
fn tunnel_takes_any_or_a_unit_number() {
    assert_eq!(grants(r#"tunnel="any""#).tunnel, Some(TunnelDevice::Any));
    assert_eq!(grants(r#"tunnel="ANY""#).tunnel, Some(TunnelDevice::Any));
    assert_eq!(grants(r#"tunnel="3""#).tunnel, Some(TunnelDevice::Unit(3)));
    for bad in ["", "x", "-1", "2147483646"] {
        assert_eq!(
            error(&format!(r#"tunnel="{bad}""#)),
            OptionError::InvalidTunnel(bad.into()),
            "{bad}"
        );
    }
}

#[test]
fn unknown_option_is_refused_with_its_word() {
    assert_eq!(
        error("no-pty,frobnicate,no-user-rc"),
        OptionError::Unknown("frobnicate".into())
    );
}

#[test]
fn option_followed_by_other_text_is_refused() {
    assert_eq!(error("ptyx"), OptionError::Unknown("ptyx".into()));
    assert_eq!(
        error(r#"command="a"b"#),
        OptionError::Unknown(r#"command="a"b"#.into())
    );
}

#[test]
fn valued_option_without_equals_sign_is_unknown() {
    assert_eq!(error("command"), OptionError::Unknown("command".into()));
}

#[test]
fn empty_options_between_commas_are_skipped() {
    let p = grants(",no-pty,,no-user-rc");
    assert!(!p.pty && !p.user_rc);
}

#[test]
fn field_ending_in_a_comma_is_refused() {
    assert_eq!(error("no-pty,"), OptionError::UnexpectedEnd);
}

#[test]
fn comma_before_the_closing_blank_is_accepted() {
    assert!(!grants("no-pty, rest").pty);
}

#[test]
fn field_ends_at_the_first_blank_outside_quotes() {
    let p = grants("no-pty\tfrobnicate");
    assert!(!p.pty);
}
