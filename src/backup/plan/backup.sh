
# ---------------------------------------------------------------------------
# Everything below is the same on every host; the settings above are this
# host's. Needs bash, docker and the restic image; runs as root.
#
#   regie-backup run [SERVICE...]        capture (all services by default),
#                                        then retention if all succeeded
#   regie-backup snapshots [SERVICE]     list snapshots (restic --json)
#   regie-backup restore SERVICE [SNAPSHOT|latest] [--from HOST] [--no-safety-backup]
#   regie-backup drill SERVICE           restore into a scratch stack, check, remove
#   regie-backup restic ARGS...          plain restic on this host's repository
#   regie-backup init                    create the repository if it is missing
#   regie-backup --offsite snapshots|restore|drill|restic ...
#                                        the same on the off-site copy
#
# Machine-readable lines start with "==regie:"; the rest is for humans.
# ---------------------------------------------------------------------------
set -uo pipefail
umask 077
DIR="$BASE/.regie/backup"
LOCK="$BASE/.regie/lock"
LOG="$DIR/runs.jsonl"
TMP=$(mktemp -d "${TMPDIR:-/tmp}/regie-backup.XXXXXX") || exit 1
HAVE_LOCK=
cleanup() {
  rm -rf "$TMP"
  [ -n "$HAVE_LOCK" ] && rm -rf "$LOCK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if docker compose version >/dev/null 2>&1; then COMPOSE=(docker compose); else COMPOSE=(docker-compose); fi

step() { printf '==regie:step %s\n' "$*"; }
json_str() {
  local s=${1//\\/\\\\}
  s=${s//\"/\\\"}
  s=${s//$'\n'/\\n}
  s=${s//$'\r'/}
  s=${s//$'\t'/ }
  printf '"%s"' "$s"
}
now() { date +%s; }
# The last lines of a file on one line (for one-line error messages).
last() { tail -n "${2:-3}" "$1" | tr '\n' ' ' | sed 's/ *$//'; }

# restic's errors in FILE, one per line: plain lines as they are (restic up
# to 0.16, and every command without --json), and the message of each
# JSON error (restic 0.17 and later write them as JSON under --json:
# {"message_type":"exit_error",...,"message":"Fatal: ..."}). Other JSON
# lines (progress, summary) are left out.
restic_errors() { # FILE
  sed -n -e '/^{/!p' \
    -e 's/^{"message_type":"exit_error".*"message":"\(.*\)"}$/\1/p' \
    -e 's/^{"message_type":"error".*"message":"\([^"]*\)".*$/\1/p' "$1"
}

repo_for() { # HOST -> repository URL or path as restic sees it
  case $REPO_KIND in
    local) printf '/repo/%s' "$1" ;;
    rclone) printf 'rclone:%s' "$1" ;;
    *) printf '%s/%s' "$REPO_BASE" "$1" ;;
  esac
}
REPO=$(repo_for "$HOST")
WHERE=nas

# restic in a throw-away container: r [docker args...] -- restic args...
# A hostname unique to this run makes restic judge our stale locks by age,
# never by a PID that a container always reuses.
r() {
  local d=()
  while [ $# -gt 0 ] && [ "$1" != -- ]; do d+=("$1"); shift; done
  shift
  local repo_mount=()
  [ "$REPO_KIND" = local ] && repo_mount=(-v "$REPO_BASE:/repo")
  docker run --rm -i --network host --hostname "regie-$HOST-$$" \
    --label "regie.backup=$SITE" \
    -e RESTIC_REPOSITORY="$REPO" -e RESTIC_PASSWORD_FILE=/regie/restic.password \
    -e RESTIC_CACHE_DIR=/regie/cache "${ENV_ARGS[@]}" \
    -v "$DIR:/regie" "${repo_mount[@]}" "${d[@]}" "$IMAGE" "${RESTIC_OPTS[@]}" "$@"
  local rc=$?
  # A failed restic may have left a lock in the repository: the next run
  # looks for stale locks of its own (see clear_own_locks).
  [ "$rc" = 0 ] || : >"$DIR/dirty"
  return "$rc"
}

# A restore that stops at the first missing data file: over rclone (the
# append-only path) restic retries a file the repository lacks several
# times for each blob it holds, so a damaged repository would take hours
# to fail; a missing data file never comes back. OUT gets restic's output.
r_fetch() { # OUT [docker args...] -- restic args...
  local out=$1 pid
  shift
  rm -f "$TMP/cid"
  r --cidfile "$TMP/cid" "$@" >"$out" 2>&1 &
  pid=$!
  while kill -0 "$pid" 2>/dev/null; do
    if grep -q '<data/[0-9a-f]*> does not exist' "$out" 2>/dev/null; then
      [ -s "$TMP/cid" ] && docker kill "$(cat "$TMP/cid")" >/dev/null 2>&1
      wait "$pid"
      return 1
    fi
    sleep 1
  done
  wait "$pid"
}

# Helper shell in the restic image (for emptying and measuring volumes).
rsh() {
  local d=()
  while [ $# -gt 0 ] && [ "$1" != -- ]; do d+=("$1"); shift; done
  shift
  docker run --rm -i --network none --entrypoint sh "${d[@]}" "$IMAGE" -c "$@"
}

take_lock() { # COMMAND
  local waited=0
  [ -n "$HAVE_LOCK" ] && return 0
  # Run by regie under the lock it already holds (update: backup first,
  # restore on rollback): use it, leave it to its holder.
  [ -n "${REGIE_OUTER_LOCK:-}" ] && [ -d "$LOCK" ] && return 0
  mkdir -p "$BASE/.regie"
  until mkdir "$LOCK" 2>/dev/null; do
    if [ "$waited" -ge "$LOCK_WAIT" ]; then
      echo "$HOST is locked by another run: $(cat "$LOCK/info" 2>/dev/null)" >&2
      return 1
    fi
    sleep 5
    waited=$((waited + 5))
  done
  HAVE_LOCK=1
  printf '{"holder":"regie-backup@%s","pid":%d,"since":%d,"command":"%s"}' "$HOST" $$ "$(now)" "$1" >"$LOCK/info"
}

cid() { # COMPONENT [PROJECT] -> running container id
  docker ps -q --filter "label=com.docker.compose.project=${2:-$PROJECT}" \
    --filter "label=com.docker.compose.service=$1" | head -n 1
}

# Run a command in a component: inside COMPONENT USER -- CMD...
inside() {
  local comp=$1 user=$2 id
  shift 3
  id=$(cid "$comp") || return 1
  if [ -z "$id" ]; then
    echo "component $comp of $PROJECT is not running" >&2
    return 1
  fi
  if [ -n "$user" ]; then docker exec -i -u "$user" "$id" "$@"; else docker exec -i "$id" "$@"; fi
}

volume_exists() { docker volume inspect "$1" >/dev/null 2>&1; }

# Clear restic locks when every one of them was left by this host's own runs
# (which the host lock proves dead); someone else's lock is left alone.
clear_own_locks() {
  local ids id h
  [ -e "$DIR/dirty" ] || return 0
  rm -f "$DIR/dirty"
  ids=$(r -- list locks --no-lock 2>/dev/null) || return 0
  [ -z "$ids" ] && return 0
  for id in $ids; do
    h=$(r -- cat lock "$id" --no-lock 2>/dev/null | sed -n 's/.*"hostname": *"\([^"]*\)".*/\1/p')
    case $h in
      "regie-$HOST-"*) ;;
      *) return 0 ;;
    esac
  done
  step "removing stale locks left by earlier runs on $HOST"
  r -- unlock --remove-all >/dev/null 2>&1 || true
}

summary_field() { # FIELD < restic --json output
  grep '"message_type":"summary"' | tail -n 1 | sed -n "s/.*\"$1\":\"\{0,1\}\([^,\"}]*\).*/\1/p"
}

log_result() { # JSON line
  printf '%s\n' "$1" >>"$LOG"
  printf '==regie:result %s\n' "$1"
}

# Stream what COMMAND writes into restic as /dumps/FILE, a part=dump
# snapshot of the capture being taken; uses capture()'s tags, snaps, added
# and err.
stream_dump() { # FILE CHECK COMMAND [ARGS...]
  local file=$1 check=$2 out id bytes st rerr derr
  shift 2
  out=$("$@" 2>"$TMP/dump.err" |
    r -- backup --stdin --stdin-filename "dumps/$file" --host "$HOST" \
      --tag "$tags,part=dump,check=$check" --json 2>"$TMP/restic.err"
    echo "${PIPESTATUS[*]}" >"$TMP/pipestatus")
  read -r -a st <"$TMP/pipestatus"
  id=$(summary_field snapshot_id <<<"$out")
  bytes=$(summary_field total_bytes_processed <<<"$out")
  [ -n "$id" ] && snaps+=("$id")
  rerr=$(restic_errors "$TMP/restic.err" | tail -n 3)
  derr=$(tail -n 3 "$TMP/dump.err")
  if [ "${st[0]}" != 0 ] && { [ "${st[1]}" = 0 ] || ! restic_errors "$TMP/restic.err" | grep -q '^Fatal'; }; then
    # The dump failed (restic, fed nothing or half, may complain too).
    err="dump $file failed (exit ${st[0]}): $derr"
  elif [ "${st[1]}" != 0 ] || [ -z "$id" ]; then
    # restic failed; a dump cut off by it only sees a broken pipe.
    err="restic failed storing $file: $rerr"
  elif [ "${bytes:-0}" = 0 ]; then
    err="dump $file is empty"
  else
    added=$((added + $(summary_field data_added <<<"$out")))
  fi
}

# Capture one service: hooks, dumps streamed into restic, then the volumes
# and the stack's directory in one snapshot. Every snapshot of a capture
# carries the same capture=... tag. Any failure forgets what this capture
# wrote, so a half capture never counts as a backup.
capture() { # SERVICE KIND [EXTRA_TAG]
  local s=$1 kind=$2 extra=${3:-} t0 cap tags err="" snaps=() added=0 out id bytes i check
  t0=$(now)
  "svc_$s" || return 1
  cap="$HOST-$s-$(date -u +%Y%m%dT%H%M%SZ)"
  tags="regie,site=$SITE,host=$HOST,service=$s,regie-version=$REGIE_VERSION,kind=$kind,capture=$cap"
  [ -n "$extra" ] && tags="$tags,$extra"
  step "$s: capture $cap"
  for v in "${VOLUMES[@]}"; do
    volume_exists "$v" || err="volume $v does not exist (is $s deployed on $HOST?)"
  done
  if [ -z "$err" ] && ! "before_$s" >"$TMP/hook" 2>&1; then
    err="hook before the capture failed: $(tail -n 3 "$TMP/hook")"
  fi
  i=0
  while [ -z "$err" ] && [ "$i" -lt "$NDUMPS" ]; do
    step "$s: dump ${DUMP_FILE[$i]}"
    check=$("check_${s}_$i" 2>/dev/null | tr -cd '0-9A-Za-z._-' | head -c 40)
    stream_dump "${DUMP_FILE[$i]}" "${check:-none}" "dump_${s}_$i"
    # PostgreSQL: the cluster's roles beside the dump (with their password
    # hashes), so that a fresh cluster gets the roles owning the objects.
    if [ -z "$err" ] && [ -n "${DUMP_ROLES[$i]}" ]; then
      step "$s: roles ${DUMP_ROLES[$i]}"
      stream_dump "${DUMP_ROLES[$i]}" none pg_roles_dump "${DUMP_COMPONENT[$i]}" "${DUMP_PG_USER[$i]}"
    fi
    i=$((i + 1))
  done
  if [ -z "$err" ]; then
    step "$s: files"
    local mounts=() paths=()
    for v in "${VOLUMES[@]}"; do
      mounts+=(-v "$v:/volumes/$v:ro")
      paths+=("/volumes/$v")
    done
    mounts+=(-v "$BASE/$STACK:/config/$STACK:ro")
    paths+=("/config/$STACK")
    if [ -f "$BASE/.regie/manifest.json" ]; then
      mounts+=(-v "$BASE/.regie/manifest.json:/config/manifest.json:ro")
      paths+=(/config/manifest.json)
    fi
    out=$(r "${mounts[@]}" -- backup --host "$HOST" --tag "$tags,part=files" --json "${paths[@]}" 2>"$TMP/restic.err")
    local rc=$?
    id=$(summary_field snapshot_id <<<"$out")
    [ -n "$id" ] && snaps+=("$id")
    if [ "$rc" != 0 ] || [ -z "$id" ]; then
      err="restic failed storing the files (exit $rc): $(restic_errors "$TMP/restic.err" | tail -n 3)"
    else
      added=$((added + $(summary_field data_added <<<"$out")))
    fi
  fi
  if ! "after_$s" >"$TMP/hook" 2>&1; then
    [ -z "$err" ] && err="hook after the capture failed: $(tail -n 3 "$TMP/hook")"
  fi
  if [ -n "$err" ] && [ ${#snaps[@]} -gt 0 ] && [ "$REPO_KIND" = rclone ]; then
    # Append-only: this host cannot forget. A capture without its files
    # snapshot is never listed nor restored; retention removes the rest.
    step "$s: partial snapshots ${snaps[*]} stay until retention (append-only)"
  elif [ -n "$err" ] && [ ${#snaps[@]} -gt 0 ]; then
    r -- forget "${snaps[@]}" >/dev/null 2>&1 ||
      err="$err; and the partial snapshots ${snaps[*]} could not be forgotten"
  fi
  local ok=true ids=""
  [ -n "$err" ] && ok=false && snaps=()
  for id in "${snaps[@]}"; do ids="$ids${ids:+,}\"$id\""; done
  log_result "{\"time\":$(now),\"kind\":\"$kind\",\"site\":$(json_str "$SITE"),\"host\":$(json_str "$HOST"),\"service\":\"$s\",\"ok\":$ok,\"capture\":\"$cap\",\"snapshots\":[$ids],\"bytes_added\":$added,\"seconds\":$(($(now) - t0)),\"error\":$(json_str "$err")}"
  [ -z "$err" ]
}

retention() { # SERVICES that succeeded
  local s failed=0 t0
  t0=$(now)
  step "retention: forget per service, then prune"
  for s in "$@"; do
    # Captures taken before a restore (kind=safety) are never forgotten
    # automatically.
    if ! r -- forget --host "$HOST" --tag "service=$s,kind=scheduled" \
      --tag "service=$s,kind=manual" --group-by host,paths \
      "${KEEP[@]}" >"$TMP/forget" 2>&1; then
      failed=1
      log_result "{\"time\":$(now),\"kind\":\"retention\",\"service\":\"$s\",\"ok\":false,\"error\":$(json_str "forget failed: $(tail -n 3 "$TMP/forget")")}"
    fi
  done
  if [ "$failed" = 0 ]; then
    if r -- prune >"$TMP/prune" 2>&1; then
      log_result "{\"time\":$(now),\"kind\":\"retention\",\"ok\":true,\"seconds\":$(($(now) - t0)),\"error\":\"\"}"
    else
      failed=1
      log_result "{\"time\":$(now),\"kind\":\"retention\",\"ok\":false,\"error\":$(json_str "prune failed: $(tail -n 3 "$TMP/prune")")}"
    fi
  fi
  return "$failed"
}

cmd_run() { # [--kind K] SERVICES...
  local kind=manual ok=() failed=0 s
  if [ "${1:-}" = --kind ]; then kind=$2; shift 2; fi
  [ $# -eq 0 ] && set -- "${SERVICES[@]}"
  for s in "$@"; do
    declare -F "svc_$s" >/dev/null || { echo "no service $s backed up on $HOST (known: ${SERVICES[*]})" >&2; return 2; }
  done
  take_lock "backup run" || return 1
  clear_own_locks
  for s in "$@"; do
    if capture "$s" "$kind"; then ok+=("$s"); else failed=1; fi
  done
  if [ "$kind" = pre-update ]; then
    : # the update waits on this capture: retention runs with the next scheduled backup
  elif [ "$REPO_KIND" = rclone ]; then
    : # append-only: retention runs from the operator's side (regie backup prune)
  elif [ "$failed" = 0 ]; then
    retention "${ok[@]}" || failed=1
  else
    step "a capture failed: no retention this time (nothing is pruned)"
  fi
  # Scheduled runs also drill each service whose last drill is older than
  # DRILL_DAYS (maintenance.drill_days; 0: never).
  if [ "$kind" = scheduled ] && [ "$failed" = 0 ] && [ "$DRILL_DAYS" -gt 0 ]; then
    for s in "${ok[@]}"; do
      local last
      last=$(grep '"kind":"drill"' "$LOG" 2>/dev/null | grep -v '"repo":"offsite"' | grep "\"service\":\"$s\"" | tail -n 1 | sed -n 's/^{"time":\([0-9]*\).*/\1/p')
      if [ -z "$last" ] || [ $(($(now) - last)) -ge $((DRILL_DAYS * 86400)) ]; then
        cmd_drill "$s" || failed=1
      fi
    done
  fi
  return "$failed"
}

cmd_snapshots() { # [--from HOST] [SERVICE]
  if [ "${1:-}" = --from ]; then REPO=$(repo_for "$2"); shift 2; fi
  local filter=()
  [ -n "${1:-}" ] && filter=(--tag "service=$1")
  r -- snapshots --json "${filter[@]}"
}

# Resolve SNAPSHOT (an id or "latest") of SERVICE to its capture tag. The
# latest is the newest backup proper: captures taken just before a restore
# (kind=safety) are restored only when named by id.
capture_of() { # SERVICE SNAPSHOT
  local out
  if [ "$2" = latest ]; then
    out=$(r -- snapshots --json --tag "service=$1,part=files,kind=scheduled" \
      --tag "service=$1,part=files,kind=manual") || return 1
  else
    out=$(r -- snapshots --json "$2") || return 1
  fi
  printf '%s' "$out" | grep -o '"capture=[^"]*"' | tail -n 1 | tr -d '"' | sed 's/^capture=//'
}

# Wait until every container of PROJECT (or of its COMPONENT only) runs and
# is healthy.
wait_healthy() { # PROJECT TIMEOUT [COMPONENT]
  local t0 ids bad only=()
  t0=$(now)
  [ -n "${3:-}" ] && only=(--filter "label=com.docker.compose.service=$3")
  while :; do
    ids=$(docker ps -aq --filter "label=com.docker.compose.project=$1" "${only[@]}")
    bad=""
    for id in $ids; do
      case $(docker inspect -f '{{.State.Status}}/{{if .State.Health}}{{.State.Health.Status}}{{else}}none{{end}}' "$id") in
        running/healthy | running/none) ;;
        *) bad="$bad $id" ;;
      esac
    done
    [ -n "$ids" ] && [ -z "$bad" ] && return 0
    if [ $(($(now) - t0)) -ge "$2" ]; then
      echo "not healthy after $2 s:$(for id in $bad; do docker inspect -f ' {{.Name}} {{.State.Status}}{{if .State.Health}} ({{.State.Health.Status}}){{end}}' "$id"; done)" >&2
      return 1
    fi
    sleep 1
  done
}

# @postgres.sh@ (the PostgreSQL functions are inserted here)

compose() { # PROJECT FILE ARGS...
  local p=$1 f=$2
  shift 2
  "${COMPOSE[@]}" -p "$p" -f "$f" --project-directory "$BASE/$STACK" "$@"
}

# Put a capture back into PROJECT's volumes.
#
# For the live stack, everything that needs the repository comes first: the
# volumes' files, the stack directory's data files and the dumps are fetched
# into a staging volume while the stack still runs. A NAS that fails then
# leaves the stack as it was. Only then is the stack stopped, each volume
# emptied and refilled from the staging copy, data files of the stack
# directory that regie does not render put back (a rendered file is never
# overwritten), and each dump loaded into a fresh database.
#
# For a drill (scratch project), the capture goes straight into the scratch
# volumes.
put_back() { # SERVICE CAPTURE PROJECT COMPOSE_FILE
  local s=$1 cap=$2 p=$3 f=$4 mounts=() i tv=() tdv=() tlv=() live= stage="" has_roles=()
  if [ "$p" = "$PROJECT" ]; then
    live=1
    tv=("${VOLUMES[@]}")
    tdv=("${DUMP_VOLUME[@]}")
    tlv=("${DUMP_LOGIN_VOLUME[@]}")
  else
    tv=("${DRILL_VOLUMES[@]}")
    tdv=("${DRILL_DUMP_VOLUME[@]}")
    tlv=("${DRILL_DUMP_LOGIN_VOLUME[@]}")
  fi
  # Which PostgreSQL dumps of the capture have their roles beside them
  # (captures taken before regie captured roles have none).
  for ((i = 0; i < NDUMPS; i++)); do
    has_roles[$i]=""
    [ -n "${DUMP_ROLES[$i]}" ] || continue
    capture_has "$cap" "${DUMP_ROLES[$i]}"
    case $? in
      0) has_roles[$i]=1 ;;
      1) ;;
      *) echo "reading the capture's parts failed, nothing changed: $(last "$TMP/has.err")" >&2; return 1 ;;
    esac
  done
  if [ -n "$live" ]; then
    stage="regie-stage-$PROJECT"
    docker volume rm -f "$stage" >/dev/null 2>&1
    docker volume create --label "regie.backup=$SITE" "$stage" >/dev/null || return 1
    step "$s: fetching the capture into a staging volume (the stack still runs)"
    if [ ${#VOLUMES[@]} -gt 0 ]; then
      r_fetch "$TMP/restore" -v "$stage:/volumes" -- restore latest --tag "capture=$cap,part=files" --target / --include /volumes ||
        { echo "fetching the files failed, nothing changed: $(last "$TMP/restore")" >&2; docker volume rm -f "$stage" >/dev/null; return 1; }
    fi
    mkdir -p "$TMP/config"
    r_fetch "$TMP/restore" -v "$TMP/config:/out" -- restore latest --tag "capture=$cap,part=files" --target /out --include "/config/$STACK" ||
      { echo "fetching the stack directory failed, nothing changed: $(last "$TMP/restore")" >&2; docker volume rm -f "$stage" >/dev/null; return 1; }
    i=0
    while [ "$i" -lt "$NDUMPS" ]; do
      r -- dump latest --tag "capture=$cap,part=dump" --path "/dumps/${DUMP_FILE[$i]}" "/dumps/${DUMP_FILE[$i]}" 2>"$TMP/dump.err" |
        rsh -v "$stage:/stage" -- "cat > /stage/.dump-$i"
      local fst=("${PIPESTATUS[@]}")
      if [ "${fst[0]}" != 0 ] || [ "${fst[1]}" != 0 ]; then
        echo "fetching ${DUMP_FILE[$i]} failed, nothing changed: $(last "$TMP/dump.err")" >&2
        docker volume rm -f "$stage" >/dev/null
        return 1
      fi
      if [ -n "${has_roles[$i]}" ]; then
        r -- dump latest --tag "capture=$cap,part=dump" --path "/dumps/${DUMP_ROLES[$i]}" "/dumps/${DUMP_ROLES[$i]}" 2>"$TMP/dump.err" |
          rsh -v "$stage:/stage" -- "cat > /stage/.roles-$i"
        fst=("${PIPESTATUS[@]}")
        if [ "${fst[0]}" != 0 ] || [ "${fst[1]}" != 0 ]; then
          echo "fetching ${DUMP_ROLES[$i]} failed, nothing changed: $(last "$TMP/dump.err")" >&2
          docker volume rm -f "$stage" >/dev/null
          return 1
        fi
      fi
      i=$((i + 1))
    done
    step "$s: stopping the stack"
    compose "$p" "$f" down >"$TMP/down" 2>&1 || { tail -n 5 "$TMP/down" >&2; return 1; }
  fi
  for i in "${!VOLUMES[@]}"; do
    docker volume create "${tv[$i]}" >/dev/null || return 1
    mounts+=(-v "${tv[$i]}:/volumes/${VOLUMES[$i]}")
  done
  if [ ${#VOLUMES[@]} -gt 0 ]; then
    step "$s: emptying then refilling ${#VOLUMES[@]} volume(s)"
    rsh "${mounts[@]}" -- 'for d in /volumes/*; do find "$d" -mindepth 1 -delete || exit 1; done' || return 1
    if [ -n "$live" ]; then
      rsh -v "$stage:/stage:ro" "${mounts[@]}" -- 'for d in /volumes/*; do v=${d##*/}; if [ -d "/stage/$v" ]; then cp -a "/stage/$v/." "$d/" || exit 1; fi; done' ||
        { echo "copying from the staging volume $stage failed (it is kept)" >&2; return 1; }
    else
      r_fetch "$TMP/restore" "${mounts[@]}" -- restore latest --tag "capture=$cap,part=files" --target / --include /volumes ||
        { tail -n 5 "$TMP/restore" >&2; return 1; }
    fi
  fi
  if [ -n "$live" ] && [ -d "$TMP/config/config/$STACK" ]; then
    mkdir -p "$BASE/$STACK"
    cp -a -n "$TMP/config/config/$STACK/." "$BASE/$STACK/"
  fi
  i=0
  while [ "$i" -lt "$NDUMPS" ]; do
    local dbv=${tdv[$i]} comp=${DUMP_COMPONENT[$i]}
    step "$s: loading ${DUMP_FILE[$i]} into a fresh database"
    compose "$p" "$f" rm -f -s "$comp" >/dev/null 2>&1
    [ -n "$dbv" ] && docker volume rm -f "$dbv" >/dev/null
    compose "$p" "$f" up -d "$comp" >"$TMP/up" 2>&1 || { tail -n 5 "$TMP/up" >&2; return 1; }
    wait_healthy "$p" 300 "$comp" || return 1
    # (PROJECT=$p: the commands run in project $p's containers.)
    if [ -n "${DUMP_PG_USER[$i]}" ]; then
      PROJECT=$p pg_prepare "$i" "${has_roles[$i]}" "${tlv[$i]}" || return 1
    fi
    dump_part "$i" dump 2>"$TMP/dump.err" | PROJECT=$p "restore_${s}_$i" >"$TMP/load" 2>&1
    local st=("${PIPESTATUS[@]}")
    if [ "${st[0]}" != 0 ]; then
      echo "reading ${DUMP_FILE[$i]} failed: $(tail -n 3 "$TMP/dump.err")" >&2
      return 1
    fi
    if [ "${st[1]}" != 0 ]; then
      echo "loading ${DUMP_FILE[$i]} failed: $(tail -n 5 "$TMP/load")" >&2
      return 1
    fi
    if [ -n "${DUMP_PG_USER[$i]}" ]; then
      PROJECT=$p pg_check_login "$i" || return 1
    fi
    i=$((i + 1))
  done
  [ -n "$live" ] && docker volume rm -f "$stage" >/dev/null
  return 0
}


cmd_restore() { # SERVICE [SNAPSHOT] [--from HOST] [--no-safety-backup]
  local t0 rc
  t0=$(now)
  do_restore "$@" 2>"$TMP/restore.err"
  rc=$?
  cat "$TMP/restore.err" >&2
  if [ "$rc" != 0 ]; then
    log_result "{\"time\":$(now),\"kind\":\"restore\",\"service\":$(json_str "$1"),\"ok\":false,\"seconds\":$(($(now) - t0)),\"error\":$(json_str "$(tail -n 3 "$TMP/restore.err")")}"
  fi
  return "$rc"
}

do_restore() {
  local s=$1 snap=latest safety=1 from=$HOST cap t0
  shift
  while [ $# -gt 0 ]; do
    case $1 in
      --from) from=$2; shift 2 ;;
      --no-safety-backup) safety=; shift ;;
      *) snap=$1; shift ;;
    esac
  done
  declare -F "svc_$s" >/dev/null || { echo "no service $s on $HOST (known: ${SERVICES[*]})" >&2; return 2; }
  "svc_$s"
  [ -f "$BASE/$STACK/docker-compose.yml" ] || { echo "$s is not deployed on $HOST: deploy it first" >&2; return 1; }
  take_lock "restore $s" || return 1
  t0=$(now)
  REPO=$(repo_for "$from")
  clear_own_locks
  cap=$(capture_of "$s" "$snap") || { echo "cannot read snapshot $snap of $s in $REPO: nothing changed" >&2; return 1; }
  [ -n "$cap" ] || { echo "no snapshot $snap of $s in the repository of $from" >&2; return 1; }
  step "$s: restoring capture $cap (repository of $from)"
  # The data in place is captured first (tag pre-restore), into this host's
  # own repository: a restore never destroys the only copy of anything.
  local has_data=""
  for v in "${VOLUMES[@]}" "${DUMP_VOLUME[@]}"; do [ -n "$v" ] && volume_exists "$v" && has_data=1; done
  if [ -n "$has_data" ] && [ -n "$safety" ]; then
    local saved=$REPO
    REPO=$(repo_for "$HOST")
    step "$s: safety capture of the current data"
    if ! capture "$s" safety pre-restore; then
      echo "the safety capture of the current data failed: nothing was changed (--no-safety-backup to restore anyway)" >&2
      return 1
    fi
    REPO=$saved
    "svc_$s"
  fi
  put_back "$s" "$cap" "$PROJECT" "$BASE/$STACK/docker-compose.yml" || return 1
  step "$s: starting"
  compose "$PROJECT" "$BASE/$STACK/docker-compose.yml" up -d >"$TMP/up" 2>&1 || { tail -n 5 "$TMP/up" >&2; return 1; }
  wait_healthy "$PROJECT" "$HEALTH_TIMEOUT" || return 1
  if ! "after_restore_$s" >"$TMP/hook" 2>&1; then
    echo "post-restore step failed: $(tail -n 5 "$TMP/hook")" >&2
    return 1
  fi
  wait_healthy "$PROJECT" "$HEALTH_TIMEOUT" || return 1
  log_result "{\"time\":$(now),\"kind\":\"restore\",\"service\":\"$s\",\"ok\":true,\"capture\":\"$cap\",\"from\":$(json_str "$from"),\"repo\":\"$WHERE\",\"seconds\":$(($(now) - t0)),\"error\":\"\"}"
}

cmd_drill() { # SERVICE
  local s=$1 cap t0 t1 p f err="" check_s=0 restore_s=0 i
  declare -F "svc_$s" >/dev/null || { echo "no service $s on $HOST (known: ${SERVICES[*]})" >&2; return 2; }
  "svc_$s"
  take_lock "backup verify $s" || return 1
  clear_own_locks
  t0=$(now)
  step "$s: restic check (with 5% of the data read back)"
  if ! r -- check --read-data-subset=5% >"$TMP/check" 2>&1; then
    err="restic check failed: $(tail -n 5 "$TMP/check")"
  fi
  check_s=$(($(now) - t0))
  p="$PROJECT-drill"
  f="$DIR/drill/$s.yml"
  t1=$(now)
  if [ -z "$err" ]; then
    cap=$(capture_of "$s" latest)
    [ -n "$cap" ] || err="no snapshot of $s to drill"
  fi
  if [ -z "$err" ]; then
    step "$s: restoring $cap into scratch project $p"
    compose "$p" "$f" down -v >/dev/null 2>&1
    if ! put_back "$s" "$cap" "$p" "$f" 2>"$TMP/drill.err"; then
      err="restore into the scratch stack failed: $(tail -n 5 "$TMP/drill.err")"
    fi
  fi
  # Content checks: every regular file of the snapshot's volumes is there
  # with its size (before the scratch stack starts and writes its own), and
  # each database answers its check as at backup time.
  local files_checked=0
  if [ -z "$err" ] && [ ${#VOLUMES[@]} -gt 0 ]; then
    local want got mounts=()
    want=$(r -- ls --long latest --tag "capture=$cap,part=files" | awk '$1 ~ /^-/ && $0 ~ / \/volumes\// {n++; b+=$4} END {printf "%d %d", n, b}')
    for i in "${!VOLUMES[@]}"; do mounts+=(-v "${DRILL_VOLUMES[$i]}:/volumes/${VOLUMES[$i]}:ro"); done
    got=$(rsh "${mounts[@]}" -- 'find /volumes -type f -exec stat -c %s {} + | awk "{n++; b+=\$1} END {printf \"%d %d\", n, b}"')
    files_checked=${want%% *}
    [ "$want" = "$got" ] || err="restored volumes differ from the snapshot: files and bytes $got, expected $want"
  fi
  if [ -z "$err" ]; then
    compose "$p" "$f" up -d >"$TMP/up" 2>&1 || err="scratch stack did not start: $(tail -n 5 "$TMP/up")"
  fi
  if [ -z "$err" ] && ! wait_healthy "$p" "$HEALTH_TIMEOUT" 2>"$TMP/drill.err"; then
    err="scratch stack not healthy: $(cat "$TMP/drill.err")"
  fi
  restore_s=$(($(now) - t1))
  i=0
  while [ -z "$err" ] && [ "$i" -lt "$NDUMPS" ]; do
    local expect got
    expect=$(r -- snapshots --json --tag "capture=$cap,part=dump" --path "/dumps/${DUMP_FILE[$i]}" | grep -o '"check=[^"]*"' | head -n 1 | tr -d '"' | sed 's/^check=//')
    got=$(PROJECT=$p "check_${s}_$i" 2>/dev/null | tr -cd '0-9A-Za-z._-' | head -c 40)
    if [ "$expect" != none ] && [ "${got:-none}" != "$expect" ]; then
      err="database check of ${DUMP_FILE[$i]}: got '${got:-nothing}', expected '$expect' as at backup time"
    fi
    i=$((i + 1))
  done
  step "$s: removing scratch project $p"
  compose "$p" "$f" down -v >/dev/null 2>&1 || err="${err:+$err; }could not remove scratch project $p"
  local ok=true
  [ -n "$err" ] && ok=false
  log_result "{\"time\":$(now),\"kind\":\"drill\",\"service\":\"$s\",\"ok\":$ok,\"capture\":\"${cap:-}\",\"check_seconds\":$check_s,\"restore_seconds\":$restore_s,\"files_checked\":$files_checked,\"repo\":\"$WHERE\",\"seconds\":$(($(now) - t0)),\"error\":$(json_str "$err")}"
  [ -z "$err" ]
}

cmd_init() {
  if r -- cat config >/dev/null 2>"$TMP/init"; then
    echo "repository $REPO exists"
    return 0
  fi
  if grep -qi 'wrong password\|no key found' "$TMP/init"; then
    echo "repository $REPO exists but the password does not open it" >&2
    return 1
  fi
  [ "$REPO_KIND" = local ] && mkdir -p "$REPO_BASE"
  r -- init >"$TMP/init" 2>&1 || { tail -n 5 "$TMP/init" >&2; return 1; }
  echo "repository $REPO created"
}

# Work on the off-site copy instead of the NAS (restores and drills when
# the NAS is lost): the same key, let in there append-only.
use_offsite() {
  [ ${#OFFSITE_OPTS[@]} -gt 0 ] || { echo "this site has no off-site copy (backup.offsite in the inventory)" >&2; return 2; }
  RESTIC_OPTS=("${OFFSITE_OPTS[@]}")
  REPO_KIND=rclone
  REPO=$(repo_for "$HOST")
  WHERE=offsite
}

main() {
  if [ "${1:-}" = --offsite ]; then
    shift
    case ${1:-} in
      snapshots | restore | drill | restic) use_offsite || return 2 ;;
      *) echo "--offsite goes with snapshots, restore, drill or restic: backups go to the NAS, regie copies them off site" >&2; return 2 ;;
    esac
  fi
  local c=${1:-}
  [ $# -gt 0 ] && shift
  case $c in
    run) cmd_run "$@" ;;
    snapshots) cmd_snapshots "$@" ;;
    restore) [ $# -ge 1 ] || { echo "usage: restore SERVICE [SNAPSHOT|latest] [--from HOST]" >&2; return 2; }; cmd_restore "$@" ;;
    drill) [ $# -eq 1 ] || { echo "usage: drill SERVICE" >&2; return 2; }; cmd_drill "$@" ;;
    restic) r -- "$@" ;;
    init) cmd_init ;;
    *) sed -n '/^#   regie-backup/p' "$0" >&2; return 2 ;;
  esac
}
main "$@"
