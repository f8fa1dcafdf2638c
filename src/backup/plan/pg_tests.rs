//! Unit tests of `postgres.sh`, the PostgreSQL part of the backup script
//! (roles, the app's login): its functions run in bash on sample inputs,
//! no database needed.

use std::io::Write;
use std::process::{Command, Stdio};

/// The PostgreSQL functions: definitions only.
fn section() -> &'static str {
    include_str!("postgres.sh")
}

/// Run `call` in bash after the section's definitions, `input` on stdin.
fn run(call: &str, input: &str) -> String {
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("t.sh");
    std::fs::write(
        &script,
        format!(
            "set -uo pipefail\nTMP={}\n{}\n{call}\n",
            dir.path().display(),
            section()
        ),
    )
    .unwrap();
    let mut c = Command::new("bash")
        .arg(&script)
        .current_dir(dir.path())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    c.stdin.take().unwrap().write_all(input.as_bytes()).unwrap();
    let o = c.wait_with_output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8(o.stdout).unwrap()
}

/// What `pg_dumpall --roles-only` of a Nextcloud cluster looks like (the
/// shape of PostgreSQL 17's output; hashes shortened).
const ROLES: &str = r#"--
-- PostgreSQL database cluster dump
--

\restrict abc123

SET default_transaction_read_only = off;

SET client_encoding = 'UTF8';
SET standard_conforming_strings = on;

--
-- Roles
--

CREATE ROLE nextcloud;
ALTER ROLE nextcloud WITH SUPERUSER INHERIT CREATEROLE CREATEDB LOGIN REPLICATION BYPASSRLS PASSWORD 'SCRAM-SHA-256$4096:new';
CREATE ROLE oc_admin;
ALTER ROLE oc_admin WITH NOSUPERUSER INHERIT NOCREATEROLE CREATEDB LOGIN NOREPLICATION NOBYPASSRLS PASSWORD 'SCRAM-SHA-256$4096:old';
COMMENT ON ROLE oc_admin IS 'made by
the installer;';
CREATE ROLE "Odd ""one""";
ALTER ROLE "Odd ""one""" WITH NOSUPERUSER INHERIT NOCREATEROLE NOCREATEDB NOLOGIN NOREPLICATION NOBYPASSRLS;

--
-- User Configurations
--

ALTER ROLE nextcloud SET work_mem TO '64MB';

--
-- Role memberships
--

GRANT pg_read_all_data TO oc_admin WITH INHERIT TRUE GRANTED BY nextcloud;
GRANT pg_monitor TO nextcloud WITH INHERIT TRUE GRANTED BY nextcloud;

\unrestrict abc123

--
-- PostgreSQL database cluster dump complete
--
"#;

#[test]
fn roles_file_keeps_only_the_missing_roles() {
    let out = run(
        "printf '%s\\n' nextcloud pg_read_all_data pg_monitor >have\npg_roles_missing have",
        ROLES,
    );
    for kept in [
        "\\restrict abc123",
        "SET standard_conforming_strings = on;",
        "CREATE ROLE oc_admin;",
        "PASSWORD 'SCRAM-SHA-256$4096:old';",
        "COMMENT ON ROLE oc_admin IS 'made by\nthe installer;';",
        "CREATE ROLE \"Odd \"\"one\"\"\";",
        "ALTER ROLE \"Odd \"\"one\"\"\" WITH",
        "GRANT pg_read_all_data TO oc_admin",
        "\\unrestrict abc123",
    ] {
        assert!(out.contains(kept), "{kept:?} missing from:\n{out}");
    }
    for dropped in [
        "CREATE ROLE nextcloud;",
        "SCRAM-SHA-256$4096:new",
        "ALTER ROLE nextcloud",
        "GRANT pg_monitor TO nextcloud",
    ] {
        assert!(!out.contains(dropped), "{dropped:?} kept in:\n{out}");
    }
    // A role that exists under its quoted name is left alone too.
    let out = run(
        "printf '%s\\n' nextcloud oc_admin '\"Odd \"\"one\"\"\"' >have\npg_roles_missing have",
        ROLES,
    );
    assert!(!out.contains("CREATE ROLE"), "{out}");
    assert!(!out.contains("ALTER ROLE"), "{out}");
}

#[test]
fn the_roles_a_dump_names_are_its_owners_and_grantees() {
    let schema = r#"
ALTER SCHEMA public OWNER TO pg_database_owner;
CREATE TABLE public.oc_items (id integer NOT NULL);
ALTER TABLE public.oc_items OWNER TO oc_admin;
ALTER SEQUENCE public."Items_seq" OWNER TO "Mixed Case";
REVOKE USAGE ON SCHEMA public FROM PUBLIC;
GRANT CREATE ON SCHEMA public TO oc_admin;
GRANT SELECT ON TABLE public.oc_items TO reader WITH GRANT OPTION;
ALTER DEFAULT PRIVILEGES FOR ROLE oc_admin IN SCHEMA public GRANT SELECT ON TABLES TO reporting;
"#;
    let out = run("pg_dump_roles", schema);
    let got: Vec<&str> = out.lines().collect();
    assert_eq!(
        got,
        [
            "\"Mixed Case\"",
            "oc_admin",
            "pg_database_owner",
            "reader",
            "reporting"
        ],
        "{out}"
    );
}

#[test]
fn the_app_login_is_read_from_a_php_config() {
    let conf = r#"<?php
$CONFIG = array (
  'instanceid' => 'oc123',
  'dbtype' => 'pgsql',
  'dbuser' => 'oc_admin',
  'dbpassword' => 'it\'s a \\ secret',
  'dbpasswordx' => 'no',
);
"#;
    assert_eq!(run("php_value dbuser", conf), "oc_admin\n");
    assert_eq!(run("php_value dbpassword", conf), "it's a \\ secret\n");
    assert_eq!(run("php_value nosuchkey", conf), "");
}

#[test]
fn psql_variables_carry_names_and_passwords_quoted() {
    let out = run("pg_vars \"o'b\" 'a\\b'", "");
    assert_eq!(out, "\\set u 'o''b'\n\\set pw 'a\\\\b'\n");
}
