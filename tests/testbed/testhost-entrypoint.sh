#!/bin/sh
# Test host start: a new SSH host key for this container, the test's public
# key for root and deploy, then sshd in the foreground.
set -e
# Hosts carry compose v1 and the v2 plugin; a host asked to have only v1
# (the round trips that regie still supports on v1) drops the plugin.
if [ "${REGIE_TESTHOST_COMPOSE:-}" = v1 ]; then
  rm -f /usr/libexec/docker/cli-plugins/docker-compose
fi
ssh-keygen -A >/dev/null 2>&1
mkdir -p /run/sshd
for home in /root /home/deploy; do
  mkdir -p "$home/.ssh"
  # Added once: a restarted container keeps keys added since (the NAS's).
  grep -qxFf /regie-test/authorized_keys "$home/.ssh/authorized_keys" 2>/dev/null ||
    cat /regie-test/authorized_keys >>"$home/.ssh/authorized_keys"
  chmod 700 "$home/.ssh"; chmod 600 "$home/.ssh/authorized_keys"
done
chown -R deploy:deploy /home/deploy/.ssh
exec /usr/sbin/sshd -D -e -o PasswordAuthentication=no -o PermitRootLogin=prohibit-password
