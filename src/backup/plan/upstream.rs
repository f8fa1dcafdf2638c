//! Upstream facts the append-only path rests on, with where each was read
//! (like the stacks' facts in `stacks/facts/`): what the default restic
//! image carries, how restic's rclone backend starts its server, what
//! rclone's restic server refuses in append-only mode, and the restic
//! commands the off-site copy runs on the NAS. Checked against the
//! generated scripts in `tests/upstream_facts.rs`; the off-site ones run
//! for real in `tests/backup_offsite.rs` (restic 0.19.1 on both servers).

/// One fact and its source.
#[derive(Debug, Clone, Copy)]
pub struct Fact {
    pub what: &'static str,
    pub source: &'static str,
}

/// Programs of the default image (`restic/restic`) the host script uses.
/// The image is Alpine with busybox (`sh`, `find`, `stat`, `awk`) and
/// `apk add … openssh-client …`: `ssh` is there, rclone is not (and is
/// not needed on the hosts: `rclone.program` is ssh).
pub const RESTIC_IMAGE_PROGRAMS: &[&str] = &["restic", "sh", "find", "stat", "awk", "ssh"];

pub const FACTS: &[Fact] = &[
    Fact {
        what: "restic/restic image: FROM alpine:latest, restic at /usr/bin/restic as ENTRYPOINT, apk add ca-certificates fuse openssh-client tzdata jq (no rclone)",
        source: "restic/restic docker/Dockerfile.release and docker/Dockerfile @ 02381b8e",
    },
    Fact {
        what: "restic's rclone backend runs rclone.program, then rclone.args (default `serve restic --stdio --b2-hard-delete`), then the remote as the last argument, and speaks HTTP/2 on its stdin/stdout with the repository at the root URL http://localhost/",
        source: "restic/restic internal/backend/rclone/backend.go (newBackend, Open, Create) @ 02381b8e",
    },
    Fact {
        what: "rclone 1.60 (Debian 12's rclone 1.60.1+dfsg-2+b5) has `serve restic --stdio` and `--append-only` (\"Disallow deletion of repository data\")",
        source: "`rclone serve restic --help` of the Debian 12 package; the test NAS image regie-nas:1 carries it",
    },
    Fact {
        what: "in append-only mode rclone answers 403 to DELETE of anything but locks/ and to a POST over an existing file (`refusing to overwrite in append-only mode`)",
        source: "tests/backup_append_only.rs against Debian 12's rclone 1.60.1 (restic forget/prune and the REST calls by hand)",
    },
    Fact {
        what: "`restic -r DEST copy --from-repo SRC --from-password-file F [snapshotID ...]` copies the given snapshots (all when none given) that DEST lacks; each copy is a new snapshot whose JSON carries `original`, the id it was copied from",
        source: "restic man page restic-copy(1) of 0.14 to 0.17 (Debian/Ubuntu packages, Arch); restic internal/restic/snapshot.go (Snapshot.Original, json:\"original,omitempty\")",
    },
    Fact {
        what: "`restic init --from-repo SRC --from-password-file F --copy-chunker-params` makes a repository with the chunker parameters of SRC, so that copied data deduplicates with what SRC's hosts write later",
        source: "restic man page restic-init(1) of 0.14 to 0.17 (OPTIONS --copy-chunker-params, --from-repo, --from-password-file)",
    },
    Fact {
        what: "copy downloads and uploads every blob it copies (the repositories have different keys): the NAS's uplink carries each new pack once",
        source: "restic man page restic-copy(1), DESCRIPTION (note on bandwidth)",
    },
];
