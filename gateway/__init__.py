"""The gateway: the zone platform's front door (综合性企业服务平台, "企业办事不出园区", seed 004).

It owns accounts and tokens (RS256 JWTs, JWKS, key rotation), the directory of zones (published on
topic ``zone.platform``), routing ``/api/<service>/...`` to the services, the views that combine
them (一企一档 and the dashboard), event subscriptions for other government systems (webhooks with
Standard Webhooks signatures, or Kafka consumer groups), the aggregated OpenAPI and the AsyncAPI
documents, and the platform's protection (rate limits, body limit, security headers, CORS).
See ``gateway/README.md``.
"""
