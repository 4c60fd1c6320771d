# One image for every process of the backbone: `metering serve|migrate|worker` and
# `ratelimiter serve` (the Kubernetes manifests in k8s/ pick the command per container).
# Build: docker build -t metering-backbone:0.1.0 .

# --- build stage: install the package (no dev/local extras) into a virtualenv ----------------
FROM python:3.11-slim AS build
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
WORKDIR /src
# pyproject.toml names README.md as the package's readme, so the build needs it.
COPY pyproject.toml README.md ./
COPY services ./services
COPY ratelimiter ./ratelimiter
# Every dependency ships manylinux wheels for CPython 3.11: no compiler in the image. A current pip
# is needed: older ones cannot read the metadata of the newest OpenTelemetry instrumentations.
RUN pip install --no-cache-dir pip==26.3 \
    && pip install . \
    && python -m compileall -q /opt/venv/lib \
    && metering --help >/dev/null \
    && ratelimiter --help >/dev/null

# --- runtime stage: the virtualenv, a non-root user, nothing else ----------------------------
FROM python:3.11-slim
LABEL org.opencontainers.image.title="metering-backbone" \
      org.opencontainers.image.description="Metering server, billing worker and rate-limiter sidecar"
RUN groupadd --system --gid 10001 metering \
    && useradd --system --uid 10001 --gid 10001 --no-create-home --home-dir /nonexistent \
       --shell /usr/sbin/nologin metering
COPY --from=build /opt/venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1
# Numeric user so Kubernetes' runAsNonRoot can verify it without reading /etc/passwd.
USER 10001:10001
WORKDIR /tmp
# metering gRPC, metering HTTP/dashboard, ratelimiter gRPC, ratelimiter HTTP. The processes bind
# 127.0.0.1 unless METERING_*_ADDR / RATELIMITER_*_ADDR say 0.0.0.0 (the manifests do).
EXPOSE 50051 8080 50052 8081
# No secrets here: METERING_DATABASE_URL, STRIPE_API_KEY and RATELIMITER_REDIS_URL come from the
# environment at run time (Kubernetes Secrets).
CMD ["metering", "serve"]
