# PostgreSQL functions of regie-backup (inserted into backup.sh at its
# marker line): waiting for the real server, capturing the cluster's
# roles beside a dump and creating the missing ones before a load.

# --- PostgreSQL: readiness and roles --------------------------------------
# The commands run in the dump's component (of $PROJECT) as its superuser.

# psql in the maintenance database, SQL on stdin, stopping at the first error.
pg_sql() { # COMPONENT USER [PSQL ARGS...]
  local comp=$1 u=$2
  shift 2
  inside "$comp" '' -- psql -X -q -v ON_ERROR_STOP=1 --username="$u" --dbname=postgres "$@"
}

pg_roles_dump() { # COMPONENT USER
  inside "$1" '' -- pg_dumpall --username="$2" --roles-only
}

# Every role of the cluster, one a line, as SQL writes its name.
pg_role_names() { # COMPONENT USER
  pg_sql "$1" "$2" -tA -c 'select quote_ident(rolname) from pg_roles order by 1'
}

# Wait until the server accepts TCP connections. On its first start the
# postgres image runs its initialisation on a server listening on the
# socket only, stops it and starts the real one: only that one listens on
# TCP, and a load into the first one is cut off when it stops.
pg_wait_tcp() { # COMPONENT USER DATABASE TIMEOUT
  local t0
  t0=$(now)
  until inside "$1" '' -- pg_isready -q -h 127.0.0.1 --username="$2" --dbname="$3" >/dev/null 2>&1; do
    if [ $(($(now) - t0)) -ge "$4" ]; then
      echo "PostgreSQL in $1 accepts no TCP connection after $4 s (still initialising?)" >&2
      return 1
    fi
    sleep 1
  done
}

# awk functions: ident(s) is the SQL identifier at the start of s, as
# written (quoted or not); after(line, word) the identifier after the last
# occurrence of word.
AWK_IDENT='
function ident(s,   i, c, out) {
  if (substr(s, 1, 1) != "\"") { if (!match(s, /^[^ ;,]+/)) return ""; return substr(s, 1, RLENGTH) }
  out = "\""
  for (i = 2; i <= length(s); i++) {
    c = substr(s, i, 1)
    if (c == "\"") {
      if (substr(s, i + 1, 1) != "\"") return out "\""
      out = out "\"\""; i++
    } else out = out c
  }
  return out
}
function after(line, word,   t) { t = line; if (!sub(".*" word, "", t)) return ""; return ident(t) }
'

# From `pg_dumpall --roles-only` on stdin, what creates the roles missing
# from the cluster (EXISTING: a file of its role names as SQL writes them):
# their CREATE ROLE, ALTER ROLE (attributes, password hash), comments and
# memberships. Statements about existing roles are left out (the new
# cluster's superuser keeps its own password); session settings and psql
# meta-commands are kept.
pg_roles_missing() { # EXISTING
  awk -v ex="$1" "$AWK_IDENT"'
    BEGIN { while ((getline l < ex) > 0) have[l] = 1; open = 0; keep = 1 }
    {
      line = $0
      if (!open) {
        if (line ~ /^CREATE ROLE /) keep = !(ident(substr(line, 13)) in have)
        else if (line ~ /^ALTER ROLE /) keep = !(ident(substr(line, 12)) in have)
        else if (line ~ /^COMMENT ON ROLE /) keep = !(ident(substr(line, 17)) in have)
        else if (line ~ /^SECURITY LABEL .* ON ROLE /) keep = !(after(line, " ON ROLE ") in have)
        else if (line ~ /^GRANT .* TO /) keep = !(ident(substr(line, 7)) in have) || !(after(line, " TO ") in have)
        else keep = 1
      }
      if (keep) print
      if (line ~ /^--/ || line ~ /^\\/ || line ~ /^[ \t]*$/) open = 0
      else open = (line !~ /;[ \t]*$/)
    }'
}

# The roles a dump's schema (SQL on stdin) names: owners, grantees, default
# privileges; one a line as SQL writes them.
pg_dump_roles() {
  awk "$AWK_IDENT"'
    / OWNER TO / { print after($0, " OWNER TO ") }
    /(^| )GRANT .* TO / { print after($0, " TO ") }
    /(^| )REVOKE .* FROM / { print after($0, " FROM ") }
    / FOR ROLE / { print after($0, " FOR ROLE ") }
  ' | grep -v -x -e PUBLIC -e CURRENT_USER -e SESSION_USER -e CURRENT_ROLE -e '' | sort -u
}

# The value of the line `'KEY' => 'value',` of a PHP configuration array
# on stdin (Nextcloud's config.php, as PHP's var_export writes it).
php_value() { # KEY
  awk -v k="$1" '
    BEGIN { q = "\047"; key = q k q }
    {
      line = $0; sub(/^[ \t]+/, "", line)
      if (index(line, key) != 1) next
      rest = substr(line, length(key) + 1); sub(/^[ \t]*=>[ \t]*/, "", rest)
      if (substr(rest, 1, 1) != q) next
      out = ""
      for (i = 2; i <= length(rest); i++) {
        c = substr(rest, i, 1)
        if (c == "\\") { i++; out = out substr(rest, i, 1); continue }
        if (c == q) { print out; exit }
        out = out c
      }
    }'
}

# psql input setting variable u to USER (and pw to PASSWORD): values travel
# on stdin, never on a command line.
pg_vars() { # USER [PASSWORD]
  local v n=u
  for v in "$@"; do
    v=${v//\\/\\\\}
    printf '\\set %s '\''%s'\''\n' "$n" "${v//\'/\'\'}"
    n=pw
  done
}

# Whether role USER exists in the cluster (and can log in, with "login").
pg_has_role() { # COMPONENT SUPERUSER USER [login]
  local cond="rolname = :'u'" out
  [ "${4:-}" = login ] && cond="$cond and rolcanlogin"
  out=$({ pg_vars "$3"; printf 'select 1 from pg_roles where %s;\n' "$cond"; } | pg_sql "$1" "$2" -tA) || return 2
  [ "$out" = 1 ]
}

# Where dump INDEX's parts are read from while put_back runs: the staging
# volume (live restore) or the repository (drill). Uses put_back's stage
# and cap.
dump_part() { # INDEX dump|roles
  local f=${DUMP_FILE[$1]} n=".dump-$1"
  [ "$2" = roles ] && f=${DUMP_ROLES[$1]} n=".roles-$1"
  if [ -n "$stage" ]; then
    rsh -v "$stage:/stage:ro" -- "cat /stage/$n"
  else
    r -- dump latest --tag "capture=$cap,part=dump" --path "/dumps/$f" "/dumps/$f"
  fi
}

# Whether the capture holds /dumps/FILE (exit 2: the repository did not answer).
capture_has() { # CAPTURE FILE
  local out
  out=$(r -- snapshots --json --tag "capture=$1,part=dump" --path "/dumps/$2" 2>"$TMP/has.err") || return 2
  grep -q '"id"' <<<"$out"
}

# Before PostgreSQL dump INDEX is loaded into the fresh cluster of
# $PROJECT: wait for the real server, then create the roles the dump needs
# that the cluster lacks. From the capture's roles file when it has one
# (HAS_ROLES non-empty); the application's login from its configuration
# file when the catalog names one and that role is still missing; for a
# capture without roles file (taken before regie captured roles), the other
# roles the dump's objects name, without login. Sets PG_LOGIN to the role
# the application logs in as, when known.
pg_prepare() { # INDEX HAS_ROLES LOGIN_VOLUME
  local i=$1 comp=${DUMP_COMPONENT[$1]} u=${DUMP_PG_USER[$1]} st conf user pw x
  PG_LOGIN=""
  pg_wait_tcp "$comp" "$u" "${DUMP_PG_DB[$i]}" 300 || return 1
  if [ -n "$2" ]; then
    step "creating the roles of ${DUMP_ROLES[$i]} the new cluster lacks"
    pg_role_names "$comp" "$u" >"$TMP/roles.have" 2>"$TMP/pg.err" ||
      { echo "listing the roles of the new cluster failed: $(last "$TMP/pg.err")" >&2; return 1; }
    dump_part "$i" roles 2>"$TMP/dump.err" | pg_roles_missing "$TMP/roles.have" | pg_sql "$comp" "$u" >"$TMP/pg.err" 2>&1
    st=("${PIPESTATUS[@]}")
    [ "${st[0]}" = 0 ] || { echo "reading ${DUMP_ROLES[$i]} failed: $(last "$TMP/dump.err")" >&2; return 1; }
    [ "${st[2]}" = 0 ] || { echo "creating the roles of ${DUMP_ROLES[$i]} failed: $(last "$TMP/pg.err")" >&2; return 1; }
  fi
  if [ -n "${DUMP_LOGIN_PATH[$i]}" ]; then
    conf=$(rsh -e "LOGIN_PATH=${DUMP_LOGIN_PATH[$i]}" -v "$3:/v:ro" -- 'cat "/v/$LOGIN_PATH"' 2>"$TMP/pg.err") ||
      { echo "reading the application's login from ${DUMP_LOGIN_PATH[$i]} failed: $(last "$TMP/pg.err")" >&2; return 1; }
    user=$(php_value "${DUMP_LOGIN_USER_KEY[$i]}" <<<"$conf")
    pw=$(php_value "${DUMP_LOGIN_PASSWORD_KEY[$i]}" <<<"$conf")
    conf=""
    if [ -n "$user" ]; then
      PG_LOGIN=$user
      pg_has_role "$comp" "$u" "$user"
      case $? in
        0) ;;
        1)
          [ -n "$pw" ] || { echo "role $user is missing and ${DUMP_LOGIN_PATH[$i]} holds no password for it" >&2; return 1; }
          step "creating role $user, the application's login in ${DUMP_LOGIN_PATH[$i]}"
          { pg_vars "$user" "$pw"; printf 'CREATE ROLE :"u" LOGIN PASSWORD :'\''pw'\'';\n'; } |
            pg_sql "$comp" "$u" >"$TMP/pg.err" 2>&1 ||
            { pw=""; echo "creating role $user failed: $(last "$TMP/pg.err")" >&2; return 1; }
          ;;
        *) echo "looking for role $user failed" >&2; return 1 ;;
      esac
    fi
    pw=""
  fi
  if [ -z "$2" ]; then
    step "${DUMP_FILE[$i]}: the capture holds no roles file; creating the roles its objects name"
    pg_role_names "$comp" "$u" >"$TMP/roles.have" 2>"$TMP/pg.err" ||
      { echo "listing the roles of the new cluster failed: $(last "$TMP/pg.err")" >&2; return 1; }
    dump_part "$i" dump 2>"$TMP/dump.err" | inside "$comp" '' -- pg_restore --schema-only -f - 2>"$TMP/pg.err" | pg_dump_roles >"$TMP/roles.need"
    st=("${PIPESTATUS[@]}")
    [ "${st[0]}" = 0 ] || { echo "reading ${DUMP_FILE[$i]} failed: $(last "$TMP/dump.err")" >&2; return 1; }
    [ "${st[1]}" = 0 ] || { echo "listing the roles of ${DUMP_FILE[$i]} failed: $(last "$TMP/pg.err")" >&2; return 1; }
    while read -r x; do
      grep -qxF -e "$x" "$TMP/roles.have" && continue
      printf 'CREATE ROLE %s;\n' "$x"
    done <"$TMP/roles.need" >"$TMP/roles.sql"
    if [ -s "$TMP/roles.sql" ]; then
      pg_sql "$comp" "$u" <"$TMP/roles.sql" >"$TMP/pg.err" 2>&1 ||
        { echo "creating the roles of ${DUMP_FILE[$i]} failed: $(last "$TMP/pg.err")" >&2; return 1; }
    fi
  fi
}

# After the load: the role the application logs in as exists and may log in.
pg_check_login() { # INDEX
  [ -n "$PG_LOGIN" ] || return 0
  if ! pg_has_role "${DUMP_COMPONENT[$1]}" "${DUMP_PG_USER[$1]}" "$PG_LOGIN" login; then
    echo "after loading ${DUMP_FILE[$1]}, role $PG_LOGIN (the application's login in ${DUMP_LOGIN_PATH[$1]}) is missing or cannot log in" >&2
    return 1
  fi
}
