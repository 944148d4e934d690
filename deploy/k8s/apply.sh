#!/usr/bin/env bash
# Apply a Kustomize overlay in the order that keeps migrations before rollout (for plain kubectl;
# Argo CD gets the same order from the sync-wave and hook annotations in the manifests):
#   1. infrastructure: databases (CloudNativePG), Kafka, topics, users (Strimzi), and wait for them;
#   2. the migration Jobs of this release (last release's are deleted first: Jobs are immutable),
#      and wait until every one has completed;
#   3. everything else: ConfigMaps, Deployments (rolling update), Services, HPAs, PDBs, policies.
# A failed migration stops here, with the previous release still serving.
#
#   deploy/k8s/apply.sh deploy/k8s/overlays/production
set -euo pipefail

overlay="${1:?usage: apply.sh OVERLAY_DIR (e.g. deploy/k8s/overlays/production)}"
namespace="${NAMESPACE:-zone-platform}"
timeout="${TIMEOUT:-15m}"
rendered="$(mktemp)"
trap 'rm -f "$rendered"' EXIT
kubectl kustomize "$overlay" > "$rendered"

echo "== 1/3 infrastructure (namespace, databases, Kafka, topics, users)"
kubectl apply -f "$rendered" -l 'app.kubernetes.io/component in (namespace,database,broker,topic,kafka-user,external-subscriber)'
kubectl -n "$namespace" wait --for=condition=Ready cluster.postgresql.cnpg.io -l app.kubernetes.io/part-of=zone-platform --timeout="$timeout"
kubectl -n "$namespace" wait --for=condition=Ready kafka/zone-kafka --timeout="$timeout"
kubectl -n "$namespace" wait --for=condition=Ready kafkauser -l app.kubernetes.io/part-of=zone-platform --timeout="$timeout"

echo "== 2/3 migrations"
kubectl -n "$namespace" delete job -l app.kubernetes.io/component=migration --ignore-not-found --wait=true
kubectl apply -f "$rendered" -l app.kubernetes.io/component=migration
kubectl -n "$namespace" wait --for=condition=complete job -l app.kubernetes.io/component=migration --timeout="$timeout"

echo "== 3/3 apps"
kubectl apply -f "$rendered"
for app in gateway investment approvals hr stats; do
  kubectl -n "$namespace" rollout status "deployment/$app" --timeout="$timeout"
done
echo "done."
