# syntax=docker/dockerfile:1.7
# One image for every app of the zone platform (产业功能区企业服务平台).
#
#   docker build -t zone-platform .
#   docker run zone-platform gateway            # uvicorn gateway.app:create_app --factory on :8000
#   docker run zone-platform investment         # …services.investment on :8001 (approvals 8002, hr 8003, stats 8004)
#   docker run zone-platform migrate approvals  # Alembic migrations of one service (or: migrate all)
#   docker run zone-platform zonectl --help     # the operator CLI
#
# Each app reads its settings from <PREFIX>_* environment variables (see chassis/settings.py);
# host and port come from <PREFIX>_HOST / <PREFIX>_PORT (default 0.0.0.0 and the launcher's port).

ARG PYTHON_VERSION=3.11

# --- build: a virtualenv with the dependencies and the project, no dev extras -------------------
FROM python:${PYTHON_VERSION}-slim-bookworm AS build
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
WORKDIR /app

# Dependencies first, in their own layer: it is rebuilt only when pyproject.toml changes.
COPY pyproject.toml README.md ./
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" \
        > /tmp/requirements.txt \
 && pip install --upgrade pip setuptools wheel \
 && pip install -r /tmp/requirements.txt

# Then the code. The install is "editable" on purpose: each service's migrations/ (env.py,
# versions/*.py) is a data directory beside its code, not a Python package, so a regular wheel
# would leave it out; with the code installed in place at /app, every path the code computes
# (Path(__file__).parent / "migrations") exists. The install still registers the package and the
# `zonectl` console script in the virtualenv; no dev extras are installed.
COPY chassis ./chassis
COPY services ./services
COPY gateway ./gateway
COPY deploy/samples ./deploy/samples
RUN pip install --no-deps --no-build-isolation --editable . \
 && python -m compileall -q /app/chassis /app/services /app/gateway /opt/venv/lib \
 && zonectl --help > /dev/null

# --- runtime: the virtualenv and the code, owned by root, run as an unprivileged user -------------
FROM python:${PYTHON_VERSION}-slim-bookworm AS runtime
ARG APP_UID=10001
LABEL org.opencontainers.image.title="zone-platform" \
      org.opencontainers.image.description="产业功能区综合性企业服务平台 gateway and services (one image, app chosen by argument)"
RUN groupadd --system --gid ${APP_UID} zone \
 && useradd --system --uid ${APP_UID} --gid zone --home-dir /app --no-create-home --shell /usr/sbin/nologin zone \
 && mkdir -p /var/lib/zone \
 && chown ${APP_UID}:${APP_UID} /var/lib/zone
COPY --from=build /opt/venv /opt/venv
COPY --from=build /app /app
COPY --chmod=0755 deploy/docker/entrypoint.sh /usr/local/bin/zone-entrypoint
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    ZONE_VAR_DIR=/var/lib/zone
WORKDIR /app
# Numeric, so Kubernetes can verify runAsNonRoot.
USER 10001:10001
EXPOSE 8000 8001 8002 8003 8004
# GET /healthz of the app this container serves; one-shot containers (migrate, zonectl) pass.
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 CMD ["zonectl", "healthcheck"]
ENTRYPOINT ["zone-entrypoint"]
CMD ["--help"]
