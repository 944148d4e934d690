"""The microservice chassis: the plumbing every zone-platform service needs, written once.

It owns settings, database sessions and migrations, the CloudEvents envelope, the transactional
outbox and its relay, the consumer runner with its inbox and dead-letter topic, telemetry, JWT
verification and zone scoping, RFC 9457 problem details, health endpoints, idempotency keys and
the audit trail. It holds no domain models: a service's rules live in its own package.
"""
