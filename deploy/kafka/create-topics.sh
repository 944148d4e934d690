#!/bin/bash
# One-shot: create (or bring in line) every topic listed in topics.txt on the compose Kafka.
# Idempotent: an existing topic keeps its partitions (only ever raised) and gets its configs set.
set -euo pipefail

BOOTSTRAP="${KAFKA_BOOTSTRAP:-kafka:9092}"
REPLICATION="${TOPIC_REPLICATION_FACTOR:-1}"
TOPICS_FILE="${TOPICS_FILE:-/topics/topics.txt}"
BIN=/opt/kafka/bin

for attempt in $(seq 1 30); do
  if "$BIN/kafka-broker-api-versions.sh" --bootstrap-server "$BOOTSTRAP" > /dev/null 2>&1; then break; fi
  echo "waiting for Kafka at $BOOTSTRAP ($attempt/30)"; sleep 2
  if [ "$attempt" = 30 ]; then echo "Kafka not reachable at $BOOTSTRAP" >&2; exit 1; fi
done

existing="$("$BIN/kafka-topics.sh" --bootstrap-server "$BOOTSTRAP" --list)"
grep -Ev '^[[:space:]]*(#|$)' "$TOPICS_FILE" | while read -r topic partitions retention cleanup; do
  configs="retention.ms=${retention},cleanup.policy=${cleanup}"
  if grep -qx "$topic" <<< "$existing"; then
    "$BIN/kafka-configs.sh" --bootstrap-server "$BOOTSTRAP" --alter --entity-type topics --entity-name "$topic" \
      --add-config "$configs" > /dev/null
    current="$("$BIN/kafka-topics.sh" --bootstrap-server "$BOOTSTRAP" --describe --topic "$topic" | grep -o 'PartitionCount: *[0-9]*' | grep -o '[0-9]*$')"
    if [ "${current:-0}" -lt "$partitions" ]; then
      "$BIN/kafka-topics.sh" --bootstrap-server "$BOOTSTRAP" --alter --topic "$topic" --partitions "$partitions"
    fi
    echo "exists:  $topic (partitions ${current:-?}→max(${current:-?},$partitions), $configs)"
  else
    "$BIN/kafka-topics.sh" --bootstrap-server "$BOOTSTRAP" --create --if-not-exists --topic "$topic" \
      --partitions "$partitions" --replication-factor "$REPLICATION" \
      --config "retention.ms=${retention}" --config "cleanup.policy=${cleanup}"
    echo "created: $topic ($partitions partitions, $configs)"
  fi
done
echo "topics ready"
