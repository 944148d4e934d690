#!/bin/sh
# The image's entry point: the first argument chooses what this container runs.
#   gateway | investment | approvals | hr | stats   serve that app (zonectl serve: uvicorn, <PREFIX>_HOST/_PORT)
#   migrate <service|all> [--url URL] [--wait S]   apply Alembic migrations, then exit
#   zonectl <command> …                             the operator CLI
#   anything else                                   run as given (e.g. sh for debugging)
set -eu

case "${1:-}" in
  gateway|investment|approvals|hr|stats)
    exec zonectl serve "$1"
    ;;
  migrate)
    shift
    exec zonectl migrate "$@"
    ;;
  zonectl)
    shift
    exec zonectl "$@"
    ;;
  ""|-h|--help|help)
    cat <<'USAGE'
zone-platform image / 产业功能区平台镜像
  gateway | investment | approvals | hr | stats    运行一个应用 run one app
  migrate <service|all> [--url URL] [--wait S]    执行数据库迁移 apply migrations
  zonectl <command> ...                           运维命令行 operator CLI (zonectl --help)
USAGE
    ;;
  *)
    exec "$@"
    ;;
esac
