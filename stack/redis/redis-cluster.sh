#!/bin/sh
# Forms and repairs Flash Flow's Redis Cluster: 3 primaries, 3 replicas.
# One script for every container environment: docker-compose runs `init` as
# its redis-cluster-init service, k8s runs `init` as the redis-cluster-init
# Job and `heal` as a sidecar beside every Redis node. (The local stack forms
# its cluster on 127.0.0.1 itself: stack/src/services.ts.)
#
#   redis-cluster.sh init   Wait until every node answers; if no node has
#                           joined a cluster yet, form one; if all have, repair
#                           the addresses they hold for each other. Then wait
#                           until every node reports cluster_state:ok and
#                           every primary counts its replica as in sync (it
#                           takes no write before: min-replicas-to-write). Exits
#                           non-zero on a mixed state (some nodes in a cluster,
#                           some empty): that needs a person, see k8s/README.md.
#   redis-cluster.sh heal   Loop: repair the addresses held by one node.
#
# Environment:
#   REDIS_CLUSTER_HOSTS  the nodes' announced hostnames, space separated
#   REDIS_PORT           the port every node listens on (6379)
#   REDIS_SELF           heal: the announced hostname of the node to watch
#   REDIS_CONNECT        heal: where to reach that node (127.0.0.1 in its pod)
#   HEAL_INTERVAL        heal: seconds between passes (10)
#   REDIS_ADMIN_PASSWORD_FILE  the admin user's password (users.acl.template);
#                        the script logs in as admin with it
#
# Why addresses need repairing. Each node announces a DNS name to clients
# (cluster-announce-hostname + cluster-preferred-endpoint-type hostname), so
# clients follow a node wherever it moves. The cluster bus between nodes still
# works by IP address, and containers and pods get new IPs when recreated. A
# node that comes back alone on a new IP is fine: it reaches its peers at the
# addresses it remembers and they learn its new one from its pings. But when
# every node changes address at once (docker compose down && up, a whole
# cluster restarted) each remembers only stale addresses and nobody reaches
# anybody. CLUSTER MEET <peer's current IP> repairs that: after the handshake
# the node recognises the peer's node ID and updates the address it holds
# (Redis does this for a handshake with a node it already knows).
set -eu

PORT="${REDIS_PORT:-6379}"
HOSTS="${REDIS_CLUSTER_HOSTS:?REDIS_CLUSTER_HOSTS must list the nodes hostnames}"

log() { printf '%s redis-cluster: %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$*" >&2; }

# The password travels in the environment, never on a command line.
REDISCLI_AUTH=$(cat "${REDIS_ADMIN_PASSWORD_FILE:?REDIS_ADMIN_PASSWORD_FILE must name the admin password file}")
export REDISCLI_AUTH

# cli HOST ARGS...: one command against one node, as admin; replies without CRs.
cli() {
  cli_host=$1
  shift
  redis-cli --user admin -h "$cli_host" -p "$PORT" "$@" | tr -d '\r'
}

# ip_of HOSTNAME: its current IPv4 address, or nothing if it does not resolve yet.
ip_of() { getent ahostsv4 "$1" 2>/dev/null | awk 'NR == 1 { print $1 }'; }

# info_field HOST FIELD: one field of CLUSTER INFO.
info_field() { cli "$1" CLUSTER INFO | awk -F: -v key="$2" '$1 == key { print $2 }'; }

# held_ip HOST PEER: the IP that HOST holds for the node announced as PEER
# (empty if HOST knows no node by that name). CLUSTER NODES prints each
# address as ip:port@cport,hostname.
held_ip() {
  cli "$1" CLUSTER NODES | awk -v peer="$2" '
    $3 !~ /myself/ {
      split($2, endpoint, ",")
      if (endpoint[2] == peer) { split(endpoint[1], hostport, ":"); print hostport[1]; exit }
    }'
}

# repair CONNECT SELF: make the node at CONNECT (announced as SELF) hold every
# peer's current IP. Only peers it already knows: adding nodes is init's job.
repair() {
  repair_connect=$1
  repair_self=$2
  for peer in $HOSTS; do
    [ "$peer" = "$repair_self" ] && continue
    current=$(ip_of "$peer")
    [ -n "$current" ] || continue
    held=$(held_ip "$repair_connect" "$peer")
    if [ -n "$held" ] && [ "$held" != "$current" ]; then
      log "$repair_self holds $held for $peer, which is now at $current: CLUSTER MEET"
      cli "$repair_connect" CLUSTER MEET "$current" "$PORT" >/dev/null
    fi
  done
}

# until_true SECONDS DESCRIPTION COMMAND...: retry every second, fail after SECONDS.
until_true() {
  deadline=$(( $(date +%s) + $1 ))
  what=$2
  shift 2
  until "$@" >/dev/null 2>&1; do
    if [ "$(date +%s)" -ge "$deadline" ]; then
      log "gave up waiting for $what"
      return 1
    fi
    sleep 1
  done
}

answers_ping() { [ "$(cli "$1" PING)" = PONG ]; }
cluster_ok() { [ "$(info_field "$1" cluster_state)" = ok ]; }

# replication_field HOST FIELD: one field of INFO replication.
replication_field() { cli "$1" INFO replication | awk -F: -v key="$2" '$1 == key { print $2 }'; }

# writable HOST: a replica, or a primary that counts a replica in sync.
writable() {
  [ "$(replication_field "$1" role)" = slave ] || [ "$(replication_field "$1" min_slaves_good_slaves)" -ge 1 ] 2>/dev/null
}

init() {
  for node in $HOSTS; do
    until_true 180 "$node to answer" answers_ping "$node"
  done

  empty=0
  joined=0
  for node in $HOSTS; do
    if [ "$(info_field "$node" cluster_known_nodes)" = 1 ] && [ "$(info_field "$node" cluster_slots_assigned)" = 0 ]; then
      empty=$((empty + 1))
    else
      joined=$((joined + 1))
    fi
  done

  if [ "$joined" -eq 0 ]; then
    # CLUSTER MEET (which --cluster create sends) takes IP addresses, not names.
    addresses=""
    for node in $HOSTS; do
      until_true 60 "$node to resolve" ip_of_nonempty "$node"
      addresses="$addresses $(ip_of "$node"):$PORT"
    done
    log "forming the cluster from$addresses"
    # shellcheck disable=SC2086 # one argument per node
    redis-cli --user admin --cluster create $addresses --cluster-replicas 1 --cluster-yes
  elif [ "$empty" -eq 0 ]; then
    log "cluster already formed: repairing node addresses"
    for node in $HOSTS; do
      repair "$node" "$node"
    done
  else
    log "$joined node(s) are in a cluster and $empty are empty (a node lost its data?)."
    log "Not forming or joining anything automatically: see 'Repairing the Redis Cluster' in k8s/README.md."
    exit 1
  fi

  for node in $HOSTS; do
    until_true 180 "cluster_state:ok on $node" cluster_ok "$node"
  done
  for node in $HOSTS; do
    until_true 180 "$node to take writes (its replica in sync)" writable "$node"
  done
  log "cluster is ok"
}

ip_of_nonempty() { [ -n "$(ip_of "$1")" ]; }

heal() {
  self="${REDIS_SELF:?REDIS_SELF must name the node to watch}"
  connect="${REDIS_CONNECT:-127.0.0.1}"
  interval="${HEAL_INTERVAL:-10}"
  # sleep in the background so a stop signal ends the loop at once.
  trap 'exit 0' TERM INT
  log "watching $self's view of the cluster every ${interval}s"
  while :; do
    if answers_ping "$connect"; then
      repair "$connect" "$self" || log "repair pass failed; retrying"
    fi
    sleep "$interval" &
    wait $!
  done
}

case "${1:-}" in
  init) init ;;
  heal) heal ;;
  *)
    echo "usage: $0 init|heal" >&2
    exit 2
    ;;
esac
